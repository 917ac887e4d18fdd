"""SIPRI Milex workbook internals: sheet names, header rows, cell markers, font flags and notes (openpyxl)."""

from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from transforms.errors import SourceFormatError
from transforms.zip_member import WORKBOOK_LIMITS, check_zip_container

SOURCE = "sipri"

# Cell text (after stripping spaces, so '. . ' counts as '. .') that means "no data". '#VALUE!' is a cached
# Excel error in one 2021-release cell; '' and '…' (U+2026) occur in the 2026 release.
MISSING_MARKERS = frozenset({"...", ". .", "..", "\u2026", "", "#VALUE!"})
NOT_A_STATE = "xxx"
# The special-note symbols of the Notes column, as flags; their legend text comes from the Footnotes sheet.
NOTE_SYMBOLS: dict[str, str] = {
    "\u2020": "excludes_military_pensions",  # †
    "\u2021": "current_spending_only",  # ‡
    "\u00a7": "adopted_budget_not_actual",  # §
    "\u00b6": "excludes_paramilitary",  # ¶
    "\u2016": "currency_redenominated",  # ‖
}
# Top-level regions of the country sheets; a subset of them means a portal export of selected countries.
SIPRI_REGIONS = frozenset({"Africa", "Americas", "Asia & Oceania", "Europe", "Middle East"})

# Estimates and uncertain figures are flagged only by font colour: palette index 12 / 10 in most releases,
# explicit ARGB FF0000FF / FFFF0000 in the 2021 release (which also carries a Mac palette, same meaning).
_BLUE_INDEXED, _RED_INDEXED = 12, 10
_BLUE_RGB, _RED_RGB = "0000FF", "FF0000"

_CONSTANT_SHEET = re.compile(r"Constant \((?P<year>\d{4})\) (?:US\$|USD)")
_FIXED_SHEETS: dict[str, tuple[str, str, float]] = {  # sheet: (measure, unit, factor to our units)
    "Current US$": ("current_usd", "usd", 1e6),
    "Current USD": ("current_usd", "usd", 1e6),
    "Share of GDP": ("share_of_gdp", "percent", 100.0),
    "Per capita": ("per_capita_usd", "usd", 1.0),
    "Share of Govt. spending": ("share_of_government_spending", "percent", 100.0),
    "Local currency calendar years": ("local_currency_calendar", "lcu", 1.0),
    "Local currency financial years": ("local_currency_financial", "lcu", 1.0),
}
REGIONAL_SHEET, FOOTNOTES_SHEET, FRONT_SHEET = "Regional totals", "Footnotes", "Front page"
COUNTRY_MEASURES = tuple(dict.fromkeys(["constant_usd", *(m for m, _, _ in _FIXED_SHEETS.values())]))

_HEADER_SEARCH_ROWS = 40
_COPYRIGHT = re.compile(r"\u00a9\s*SIPRI\s*(\d{4})")
_YEAR_TEXT = re.compile(r"\d{4}(?:\.0+)?")
# '2020 Current' (2021 release) ends the Constant sheet with a copy of Current USD; it is skipped (and in that
# file swaps Montenegro and North Macedonia). '2025 (current prices)' ends Regional totals: measure current_usd.
_CURRENT_COPY = re.compile(r"\d{4}\s*current", re.IGNORECASE)
_CURRENT_PRICES = re.compile(r"(?P<year>\d{4})\s*\(current prices\)", re.IGNORECASE)
_REGIONAL_BASE = re.compile(r"constant \(?(\d{4})\)? prices", re.IGNORECASE)
_NOTE_REST = re.compile(r"[\d\s,;" + "".join(NOTE_SYMBOLS) + "]")
# Label columns before the years; 'Reporting year' (Share of Govt.) names the 12 months a ratio covers.
_LABEL_COLUMNS = (("notes", "notes"), ("currency", "currency"), ("fiscal year", "fiscal"), ("reporting year", "fiscal"))


@dataclass(frozen=True)
class SheetSpec:
    """What a country sheet holds: our measure, our unit, the factor from SIPRI's unit, the price base."""

    measure: str
    unit: str
    factor: float
    price_base_year: int | None = None


@dataclass
class SheetResult:
    """Records of one sheet plus what the release metadata needs from it."""

    records: list[tuple] = field(default_factory=list)
    labels: list[tuple] = field(default_factory=list)  # one per country row: name, currency, fiscal, notes...
    years: list[int] = field(default_factory=list)
    copyright_years: set[int] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)


def fail(file: str, problem: str) -> SourceFormatError:
    """The SIPRI flavour of SourceFormatError."""
    return SourceFormatError(SOURCE, file, problem)


def open_workbook(raw: bytes, file: str) -> Any:
    """Open xlsx bytes read-only (fonts kept: openpyxl's read-only cells still resolve their style)."""
    if not raw.startswith(b"PK\x03\x04"):
        head = raw.removeprefix(b"\xef\xbb\xbf")[:200].lstrip()
        raise fail(file, "got HTML/XML instead of an xlsx workbook" if head.startswith(b"<") else "not an xlsx workbook")
    check_zip_container(raw, source=SOURCE, file=file, limits=WORKBOOK_LIMITS)
    try:
        with warnings.catch_warnings():
            # Apache POI exports (portal, 2023 release) have no default style; openpyxl warns and copes.
            warnings.filterwarnings("ignore", message="Workbook contains no default style", category=UserWarning)
            return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError, TypeError, ValueError) as e:
        raise fail(file, f"unreadable xlsx workbook: {e}") from e


def country_sheet_spec(title: str) -> SheetSpec | None:
    """The spec of a country sheet name, None for any other name."""
    if match := _CONSTANT_SHEET.fullmatch(title):
        return SheetSpec("constant_usd", "usd", 1e6, int(match["year"]))
    if title in _FIXED_SHEETS:
        return SheetSpec(*_FIXED_SHEETS[title])
    return None


def classify_sheets(titles: list[str], file: str) -> dict[str, SheetSpec]:
    """Country-sheet specs by title; any unknown sheet (e.g. a renamed one) or a measure twice fails."""
    specs: dict[str, SheetSpec] = {}
    for title in titles:
        spec = country_sheet_spec(title)
        if spec is None and title not in (REGIONAL_SHEET, FOOTNOTES_SHEET, FRONT_SHEET):
            raise fail(file, f"unexpected sheet {title!r} (renamed? expected SIPRI's sheet names)")
        if spec is not None:
            twin = next((t for t, s in specs.items() if s.measure == spec.measure), None)
            if twin is not None:
                raise fail(file, f"sheets {twin!r} and {title!r} both hold {spec.measure}")
            specs[title] = spec
    return specs


def _rows(ws: Any) -> list[tuple]:
    ws.reset_dimensions()  # a stale <dimension> tag would otherwise cut rows off in read-only mode
    return list(ws.iter_rows())


def _coord(row_index: int, col_index: int) -> str:
    return f"{get_column_letter(col_index + 1)}{row_index + 1}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _year(value: Any) -> int | None:
    """A year header: int, float (POI writes 1949.0) or text like '1949.0'; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        year = value
    elif isinstance(value, float) and value.is_integer():
        year = int(value)
    elif isinstance(value, str) and _YEAR_TEXT.fullmatch(value.strip()):
        year = int(float(value))
    else:
        return None
    return year if 1900 <= year <= 2100 else None


def _header_row(rows: list[tuple], first: str, sheet: str, file: str) -> int:
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if row and isinstance(row[0].value, str) and row[0].value.strip() == first:
            return i
    raise fail(file, f"sheet {sheet!r}: no {first!r} header in column A of the first {_HEADER_SEARCH_ROWS} rows")


def _copyright_years(rows: list[tuple], header: int) -> set[int]:
    found = set()
    for row in rows[:header]:
        if row and isinstance(row[0].value, str):
            found.update(int(y) for y in _COPYRIGHT.findall(row[0].value))
    return found


def _colour_flags(cell: Any) -> tuple[bool, bool]:
    """(is_estimate, is_uncertain) from the font colour: blue = SIPRI estimate, red = highly uncertain."""
    color = cell.font.color if cell.font is not None else None
    if color is None:
        return False, False
    if color.type == "indexed":
        return color.indexed == _BLUE_INDEXED, color.indexed == _RED_INDEXED
    if color.type == "rgb" and isinstance(color.rgb, str):
        rgb = color.rgb[-6:].upper()
        return rgb == _BLUE_RGB, rgb == _RED_RGB
    return False, False  # theme colours: the releases use them for black text only


def classify_cell(cell: Any, where: str, file: str) -> tuple[str, float | None, bool, bool] | None:
    """(status, SIPRI's number, is_estimate, is_uncertain) of a data cell; None for an empty cell."""
    value = cell.value
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise fail(file, f"{where}: non-finite number {value!r}")
        return ("value", float(value), *_colour_flags(cell))
    if isinstance(value, str):
        text = value.strip()
        if text in MISSING_MARKERS:
            return "missing", None, False, False
        if text == NOT_A_STATE:
            return "not_a_state", None, False, False
    raise fail(file, f"{where}: {value!r} is neither a number nor a SIPRI marker ('...', 'xxx')")


def parse_notes(value: Any, where: str, file: str) -> tuple[str | None, list[str], list[int]]:
    """Notes cell -> (text as published, symbols present, numbered footnotes), e.g. '‡§¶16' -> ['‡','§','¶'], [16]."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise fail(file, f"{where}: unexpected note {value!r}")
    text = _text(value)
    if text is None or text in MISSING_MARKERS:
        return text, [], []
    if _NOTE_REST.sub("", text):
        raise fail(file, f"{where}: unexpected note {text!r} (expected symbols {''.join(NOTE_SYMBOLS)} and numbers)")
    symbols = list(dict.fromkeys(c for c in text if c in NOTE_SYMBOLS))
    return text, symbols, [int(n) for n in re.findall(r"\d+", text)]


@dataclass(frozen=True)
class _Layout:
    years: list[tuple[int, int]]  # (column index, year)
    notes: int | None
    currency: int | None
    fiscal: int | None
    blank: list[int]


def _label_role(text: str) -> str | None:
    key = text.casefold()
    return next((role for prefix, role in _LABEL_COLUMNS if key.startswith(prefix)), None)


def _country_layout(header: tuple, h: int, sheet: str, spec: SheetSpec, file: str) -> _Layout:
    years, blank, named = [], [], {}
    for j, cell in enumerate(header[1:], start=1):
        year, text = _year(cell.value), _text(cell.value) or ""
        role = _label_role(text)
        if year is not None:
            years.append((j, year))
        elif role is not None:
            named.setdefault(role, j)
        elif not text:
            blank.append(j)
        elif not _CURRENT_COPY.fullmatch(text):
            raise fail(file, f"sheet {sheet!r}, cell {_coord(h, j)}: unexpected header {text!r}")
    if not years:
        raise fail(file, f"sheet {sheet!r}: no year columns in header row {h + 1}")
    seen = [y for _, y in years]
    if len(set(seen)) != len(seen):
        raise fail(file, f"sheet {sheet!r}: a year appears twice in header row {h + 1}")
    if "notes" not in named:
        raise fail(file, f"sheet {sheet!r}: no 'Notes' column in header row {h + 1}")
    if spec.unit == "lcu" and "currency" not in named:
        raise fail(file, f"sheet {sheet!r}: no 'Currency' column in header row {h + 1}")
    return _Layout(years, named.get("notes"), named.get("currency"), named.get("fiscal"), blank)


def _cell(row: tuple, j: int | None) -> Any:
    return row[j].value if j is not None and j < len(row) else None


def read_country_sheet(ws: Any, spec: SheetSpec, file: str) -> SheetResult:
    """Cell records (name, year, status, number, estimate, uncertain) and row labels (name, currency, fiscal, notes)."""
    sheet = ws.title
    rows = _rows(ws)
    h = _header_row(rows, "Country", sheet, file)
    layout = _country_layout(rows[h], h, sheet, spec, file)
    result = SheetResult(years=[y for _, y in layout.years], copyright_years=_copyright_years(rows, h))
    seen: dict[str, int] = {}
    region = None
    for i in range(h + 1, len(rows)):
        row = rows[i]
        cells = [(j, year, row[j]) for j, year in layout.years if j < len(row)]
        has_data = any(not _blank(c.value) for _, _, c in cells)
        name = _text(_cell(row, 0))
        if name is None:
            if has_data:
                raise fail(file, f"sheet {sheet!r}, row {i + 1}: values without a country name in column A")
            continue
        # Region and subregion rows: no values, or (2026 release) bold with only '...' markers.
        if not has_data or (row[0].font is not None and row[0].font.b):
            if any(isinstance(c.value, (int, float)) for _, _, c in cells):
                raise fail(file, f"sheet {sheet!r}, row {i + 1}: bold region row {name!r} holds numbers")
            region = name if name in SIPRI_REGIONS else region
            continue
        if name in seen:
            raise fail(file, f"sheet {sheet!r}: country {name!r} in rows {seen[name] + 1} and {i + 1}")
        seen[name] = i
        if region is not None:
            result.regions.add(region)
        for j in layout.blank:  # the 2021 release keeps remarks ('Base year is 1985') there: text only
            if isinstance(_cell(row, j), (int, float)):
                raise fail(file, f"sheet {sheet!r}, cell {_coord(i, j)}: number under an empty header")
        notes, symbols, footnotes = parse_notes(_cell(row, layout.notes), f"sheet {sheet!r}, notes of row {i + 1}", file)
        currency, fiscal = _text(_cell(row, layout.currency)), _text(_cell(row, layout.fiscal))
        result.labels.append((name, currency, fiscal, notes, symbols, footnotes))
        for j, year, cell in cells:
            status = classify_cell(cell, f"sheet {sheet!r}, cell {_coord(i, j)}", file)
            if status is not None:
                result.records.append((name, year, *status))
    return result


def read_regional_totals(ws: Any, file: str, fallback_base: int | None) -> SheetResult:
    """Records (region, year, measure, status, raw US$ b., uncertain, price base, omitted countries)."""
    sheet = ws.title
    rows = _rows(ws)
    h = _header_row(rows, "Region", sheet, file)
    legend = " ".join(str(r[0].value) for r in rows[:h] if r and isinstance(r[0].value, str))
    base_match = _REGIONAL_BASE.search(legend)
    base = int(base_match.group(1)) if base_match else fallback_base
    columns, blank, omitted = [], [], None
    for j, cell in enumerate(rows[h][1:], start=1):
        year, text = _year(cell.value), _text(cell.value) or ""
        current = _CURRENT_PRICES.fullmatch(text)
        if year is not None:
            columns.append((j, year, "constant_usd", base))
        elif current:
            columns.append((j, int(current["year"]), "current_usd", None))
        elif text.casefold() == "omitted countries":
            omitted = j
        elif not text:
            blank.append(j)
        else:
            raise fail(file, f"sheet {sheet!r}, cell {_coord(h, j)}: unexpected header {text!r}")
    if not columns:
        raise fail(file, f"sheet {sheet!r}: no year columns in header row {h + 1}")
    if base is None and any(m == "constant_usd" for _, _, m, _ in columns):
        raise fail(file, f"sheet {sheet!r}: no 'constant YYYY prices' in the legend above row {h + 1}")
    result = SheetResult(years=[y for _, y, _, _ in columns], copyright_years=_copyright_years(rows, h))
    seen: set[str] = set()
    for i in range(h + 1, len(rows)):
        row = rows[i]
        region = _text(_cell(row, 0))
        cells = [(j, y, m, b, row[j]) for j, y, m, b in columns if j < len(row)]
        if region is None or all(_blank(c.value) for *_, c in cells):
            if region is None and any(not _blank(c.value) for *_, c in cells):
                raise fail(file, f"sheet {sheet!r}, row {i + 1}: values without a region name in column A")
            continue
        if region in seen:
            raise fail(file, f"sheet {sheet!r}: region {region!r} appears twice")
        seen.add(region)
        for j in blank:
            if not _blank(_cell(row, j)):
                raise fail(file, f"sheet {sheet!r}, cell {_coord(i, j)}: value under an empty header")
        left_out = _text(_cell(row, omitted))
        for j, year, measure, price_base, cell in cells:
            status = classify_cell(cell, f"sheet {sheet!r}, cell {_coord(i, j)}", file)
            if status is not None:
                kind, number, _, uncertain = status
                # Red here means more than 10% of the total is SIPRI's estimate for countries lacking data.
                result.records.append((region, year, measure, kind, number, uncertain, price_base, left_out))
    return result


def read_footnotes(ws: Any, file: str) -> list[tuple[int | None, str | None, str | None, str | None]]:
    """(footnote_id, symbol, flag, text) for the 5 special-note symbols and every numbered footnote."""
    out, seen = [], set()
    for i, row in enumerate(_rows(ws)):
        if not row:
            continue
        first = row[0].value
        text = next((_text(c.value) for c in row[1:] if _text(c.value) is not None), None)
        if isinstance(first, str) and first.strip() in NOTE_SYMBOLS:
            key: Any = first.strip()
            entry = (None, key, NOTE_SYMBOLS[key], text)
        elif _footnote_number(first):
            key = int(float(first))
            entry = (key, None, None, text)
        elif isinstance(first, (int, float)) and not isinstance(first, bool):
            raise fail(file, f"sheet {ws.title!r}, cell A{i + 1}: footnote number {first!r} is not an integer")
        else:
            continue  # title and explanatory lines
        if key in seen:
            raise fail(file, f"sheet {ws.title!r}, cell A{i + 1}: footnote {key!r} defined twice")
        seen.add(key)
        out.append(entry)
    return out


def _footnote_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return value > 0
    return isinstance(value, str) and re.fullmatch(r"\d+(?:\.0+)?", value.strip()) is not None
