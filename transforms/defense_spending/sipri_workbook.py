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
_NOTE_REST = re.compile(r"[\d\s,;" + "".join(NOTE_SYMBOLS) + "]")


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


def sheet_rows(ws: Any) -> list[tuple]:
    """Every row of a sheet, whatever its stale <dimension> tag says."""
    ws.reset_dimensions()  # a stale <dimension> tag would otherwise cut rows off in read-only mode
    return list(ws.iter_rows())


def cell_ref(row_index: int, col_index: int) -> str:
    """The A1 reference of a 0-based row and column."""
    return f"{get_column_letter(col_index + 1)}{row_index + 1}"


def is_blank(value: Any) -> bool:
    """An empty cell, or one holding only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str | None:
    """A cell as trimmed text (integral floats without '.0'), None when empty."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def header_year(value: Any) -> int | None:
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


def find_header_row(rows: list[tuple], first: str, sheet: str, file: str) -> int:
    """The 0-based row whose column A reads `first`, within the first rows of the sheet."""
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if row and isinstance(row[0].value, str) and row[0].value.strip() == first:
            return i
    raise fail(file, f"sheet {sheet!r}: no {first!r} header in column A of the first {_HEADER_SEARCH_ROWS} rows")


def years_in_copyright(rows: list[tuple], header: int) -> set[int]:
    """The years of the '© SIPRI YYYY' lines above the header."""
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
    text = cell_text(value)
    if text is None or text in MISSING_MARKERS:
        return text, [], []
    if _NOTE_REST.sub("", text):
        raise fail(file, f"{where}: unexpected note {text!r} (expected symbols {''.join(NOTE_SYMBOLS)} and numbers)")
    symbols = list(dict.fromkeys(c for c in text if c in NOTE_SYMBOLS))
    return text, symbols, [int(n) for n in re.findall(r"\d+", text)]


def row_value(row: tuple, j: int | None) -> Any:
    """The value of column j of a row, None past its end or without a column."""
    return row[j].value if j is not None and j < len(row) else None


