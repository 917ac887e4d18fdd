"""SIPRI's sheets read cell by cell: a country sheet, the Regional totals and the Footnotes (openpyxl).

The cells themselves (markers, font flags, notes) are classified by sipri_workbook.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from transforms.defense_spending.sipri_workbook import (
    NOTE_SYMBOLS,
    SIPRI_REGIONS,
    SheetResult,
    SheetSpec,
    cell_ref,
    cell_text,
    classify_cell,
    fail,
    find_header_row,
    header_year,
    is_blank,
    parse_notes,
    row_value,
    sheet_rows,
    years_in_copyright,
)

# '2020 Current' (2021 release) ends the Constant sheet with a copy of Current USD; it is skipped (and in that
# file swaps Montenegro and North Macedonia). '2025 (current prices)' ends Regional totals: measure current_usd.
_CURRENT_COPY = re.compile(r"\d{4}\s*current", re.IGNORECASE)
_CURRENT_PRICES = re.compile(r"(?P<year>\d{4})\s*\(current prices\)", re.IGNORECASE)
_REGIONAL_BASE = re.compile(r"constant \(?(\d{4})\)? prices", re.IGNORECASE)
# Label columns before the years; 'Reporting year' (Share of Govt.) names the 12 months a ratio covers.
_LABEL_COLUMNS = (("notes", "notes"), ("currency", "currency"), ("fiscal year", "fiscal"), ("reporting year", "fiscal"))


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
        year, text = header_year(cell.value), cell_text(cell.value) or ""
        role = _label_role(text)
        if year is not None:
            years.append((j, year))
        elif role is not None:
            named.setdefault(role, j)
        elif not text:
            blank.append(j)
        elif not _CURRENT_COPY.fullmatch(text):
            raise fail(file, f"sheet {sheet!r}, cell {cell_ref(h, j)}: unexpected header {text!r}")
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


def read_country_sheet(ws: Any, spec: SheetSpec, file: str) -> SheetResult:
    """Cell records (name, year, status, number, estimate, uncertain) and row labels (name, currency, fiscal, notes)."""
    sheet = ws.title
    rows = sheet_rows(ws)
    h = find_header_row(rows, "Country", sheet, file)
    layout = _country_layout(rows[h], h, sheet, spec, file)
    result = SheetResult(years=[y for _, y in layout.years], copyright_years=years_in_copyright(rows, h))
    seen: dict[str, int] = {}
    region = None
    for i in range(h + 1, len(rows)):
        row = rows[i]
        cells = [(j, year, row[j]) for j, year in layout.years if j < len(row)]
        has_data = any(not is_blank(c.value) for _, _, c in cells)
        name = cell_text(row_value(row, 0))
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
            if isinstance(row_value(row, j), (int, float)):
                raise fail(file, f"sheet {sheet!r}, cell {cell_ref(i, j)}: number under an empty header")
        notes, symbols, footnotes = parse_notes(row_value(row, layout.notes), f"sheet {sheet!r}, notes of row {i + 1}", file)
        currency, fiscal = cell_text(row_value(row, layout.currency)), cell_text(row_value(row, layout.fiscal))
        result.labels.append((name, currency, fiscal, notes, symbols, footnotes))
        for j, year, cell in cells:
            status = classify_cell(cell, f"sheet {sheet!r}, cell {cell_ref(i, j)}", file)
            if status is not None:
                result.records.append((name, year, *status))
    return result


def read_regional_totals(ws: Any, file: str, fallback_base: int | None) -> SheetResult:
    """Records (region, year, measure, status, raw US$ b., uncertain, price base, omitted countries)."""
    sheet = ws.title
    rows = sheet_rows(ws)
    h = find_header_row(rows, "Region", sheet, file)
    legend = " ".join(str(r[0].value) for r in rows[:h] if r and isinstance(r[0].value, str))
    base_match = _REGIONAL_BASE.search(legend)
    base = int(base_match.group(1)) if base_match else fallback_base
    columns, blank, omitted = [], [], None
    for j, cell in enumerate(rows[h][1:], start=1):
        year, text = header_year(cell.value), cell_text(cell.value) or ""
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
            raise fail(file, f"sheet {sheet!r}, cell {cell_ref(h, j)}: unexpected header {text!r}")
    if not columns:
        raise fail(file, f"sheet {sheet!r}: no year columns in header row {h + 1}")
    if base is None and any(m == "constant_usd" for _, _, m, _ in columns):
        raise fail(file, f"sheet {sheet!r}: no 'constant YYYY prices' in the legend above row {h + 1}")
    result = SheetResult(years=[y for _, y, _, _ in columns], copyright_years=years_in_copyright(rows, h))
    seen: set[str] = set()
    for i in range(h + 1, len(rows)):
        row = rows[i]
        region = cell_text(row_value(row, 0))
        cells = [(j, y, m, b, row[j]) for j, y, m, b in columns if j < len(row)]
        if region is None or all(is_blank(c.value) for *_, c in cells):
            if region is None and any(not is_blank(c.value) for *_, c in cells):
                raise fail(file, f"sheet {sheet!r}, row {i + 1}: values without a region name in column A")
            continue
        if region in seen:
            raise fail(file, f"sheet {sheet!r}: region {region!r} appears twice")
        seen.add(region)
        for j in blank:
            if not is_blank(row_value(row, j)):
                raise fail(file, f"sheet {sheet!r}, cell {cell_ref(i, j)}: value under an empty header")
        left_out = cell_text(row_value(row, omitted))
        for j, year, measure, price_base, cell in cells:
            status = classify_cell(cell, f"sheet {sheet!r}, cell {cell_ref(i, j)}", file)
            if status is not None:
                kind, number, _, uncertain = status
                # Red here means more than 10% of the total is SIPRI's estimate for countries lacking data.
                result.records.append((region, year, measure, kind, number, uncertain, price_base, left_out))
    return result


def read_footnotes(ws: Any, file: str) -> list[tuple[int | None, str | None, str | None, str | None]]:
    """(footnote_id, symbol, flag, text) for the 5 special-note symbols and every numbered footnote."""
    out, seen = [], set()
    for i, row in enumerate(sheet_rows(ws)):
        if not row:
            continue
        first = row[0].value
        text = next((cell_text(c.value) for c in row[1:] if cell_text(c.value) is not None), None)
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
