"""One NATO table sheet's grid to rows: header years (and their `e`), blocks and units, Ally and aggregate rows.

NATO_TABLES says which sheets are read and what each block measures; nato.py reads a workbook's sheets
through parse_sheet and assembles the edition (decisions in its docstring).
"""

from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
from dataclasses import dataclass

import openpyxl

from transforms.errors import SourceFormatError
from transforms.zip_member import WORKBOOK_LIMITS, check_zip_container

SOURCE = "nato"


@dataclass(frozen=True)
class _Block:
    label: str  # regex on the normalised column-B label ("" = the table has no block labels); group 1 = base year
    measure: str
    unit: str  # the unit our convention stores; the table's own unit text must convert to it
    constant: bool  # constant prices: price_base_year is set


@dataclass(frozen=True)
class _Table:
    sheet: str
    blocks: tuple[_Block, ...]


_CURRENT, _CONSTANT = r"current prices and exchange rates", r"constant (\d{4}) prices and exchange rates"
NATO_TABLES: tuple[_Table, ...] = (
    _Table("TABLE1", (_Block(r"current prices", "lcu_current", "lcu", False),
                      _Block(r"constant (\d{4}) prices", "lcu_constant", "lcu", True))),
    _Table("TABLE2", (_Block(_CURRENT, "current_usd", "usd", False), _Block(_CONSTANT, "constant_usd", "usd", True))),
    _Table("TABLE3", (_Block(r"share of real gdp \(%\)", "share_of_gdp", "percent", True),
                      _Block(r"annual real change \(%\)", "real_change_pct", "percent", True))),
    _Table("TABLE5", (_Block(_CURRENT, "gdp_current_usd", "usd", False),
                      _Block(_CONSTANT, "gdp_constant_usd", "usd", True))),
    _Table("TABLE6", (_Block(r"gdp per capita \(thousand us dollars\)", "gdp_per_capita_usd", "usd", True),
                      _Block(r"defence expenditure per capita \(us dollars\)", "per_capita_usd", "usd", True))),
    _Table("TABLE7", (_Block("", "armed_forces_personnel", "persons", False),)),
    _Table("TABLE8a", (_Block(r"equipment \(a\)", "equipment_share_pct", "percent", False),
                       _Block(r"personnel \(b\)", "personnel_expenditure_share_pct", "percent", False))),
    _Table("TABLE8b", (_Block(r"infrastructure \(c\)", "infrastructure_share_pct", "percent", False),
                       _Block(r"other \(d\)", "other_share_pct", "percent", False))),
)
SKIPPED_SHEETS = ("TABLE4",)  # required, not parsed (see the module docstring)
REQUIRED_SHEETS = tuple(sorted([t.sheet for t in NATO_TABLES] + list(SKIPPED_SHEETS)))


_EXCEL_ERRORS = frozenset({"#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"})
_YEAR = re.compile(r"(\d{4})\s*(e?)", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_TITLE = re.compile(r"table\s*(\w+)\s*:")
_FOOTNOTE = re.compile(r"(notes?\s*:|sources?\s*:|\*|\([a-z]\)\s)", re.IGNORECASE)
_PAGE = re.compile(r"-\s*\d+\s*-")
_LABEL = re.compile(r"(?P<name>.*?)\s*(?P<star>\*)?\s*(?:\((?P<currency>[^()]*)\))?")
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_UNIT = re.compile(r"(?:(thousand|million|billion)s?(?: of)?\s*)?(national currency units|us dollars|%|percent|"
                   r"percentage of total defence expenditure)?")
_PRICE_BASIS = re.compile(r"(based on )?(constant )?\d{4} prices( and exchange rates)?")
_BASE_YEAR = re.compile(r"(\d{4}) prices")


def format_error(file: str, problem: str) -> SourceFormatError:
    """The error for a NATO workbook that is not what it should be."""
    return SourceFormatError(SOURCE, file, problem)


def _norm(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def _text(cell: object) -> str | None:
    return cell.strip() or None if isinstance(cell, str) else None


def _ref(sheet: str, row: int, col: int) -> str:
    return f"{sheet}!{openpyxl.utils.get_column_letter(col + 1)}{row + 1}"


def _unit(text: str) -> tuple[float, str] | None:
    """(factor to our unit, our unit) for a NATO unit text, None when the text names no unit."""
    match = _UNIT.fullmatch(_norm(text))
    if not match or not (match[1] or match[2]):
        return None
    factor, what = _SCALES.get(match[1] or "", 1.0), match[2]
    if what is None:
        return factor, "persons"  # a bare "Thousands" counts people (TABLE7, military personnel)
    if what == "national currency units":
        return factor, "lcu"
    if what == "us dollars":
        return factor, "usd"
    return (1.0, "percent") if factor == 1.0 else None


def _year(cell: object) -> tuple[int, bool] | None:
    """(year, is_estimate) for a header cell: 2019, '2019' or '2024e'; None for anything else."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)) and float(cell).is_integer() and 1900 <= cell <= 2100:
        return int(cell), False
    if isinstance(cell, str) and (match := _YEAR.fullmatch(cell.strip())) and 1900 <= int(match[1]) <= 2100:
        return int(match[1]), bool(match[2])
    return None


def open_workbook(raw: bytes, file: str) -> openpyxl.Workbook:
    """Open the bytes as an .xlsx workbook, refusing CSV, HTML, legacy .xls and broken zips by name."""
    if not raw.startswith(b"PK\x03\x04"):
        head = raw.removeprefix(b"\xef\xbb\xbf")[:200].lstrip()
        kind = ("HTML/XML" if head.startswith(b"<") else "a legacy .xls file" if raw.startswith(b"\xd0\xcf\x11\xe0")
                else "text (CSV?)" if b"," in head and b"\x00" not in head else "not a zip archive")
        raise format_error(file, f"not a NATO workbook: got {kind}, expected NATO's .xlsx tables workbook "
                          "(hand-made CSV excerpts are not supported)")
    check_zip_container(raw, source=SOURCE, file=file, limits=WORKBOOK_LIMITS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about NATO's external links and extensions
            return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise format_error(file, f"not a readable .xlsx workbook: {e}") from e


def _header(grid: list[tuple], sheet: str, file: str) -> tuple[int, int, dict[int, tuple[int, bool]]]:
    """(header row, first year column, {column: (year, is_estimate)}), found by content, not position."""
    for r, row in enumerate(grid):
        cols = [c for c, cell in enumerate(row) if _year(cell) is not None]
        if len(cols) < 2:
            continue
        years = {}
        for c in range(cols[0], len(row)):
            if row[c] is None or (isinstance(row[c], str) and not row[c].strip()):
                continue
            if (year := _year(row[c])) is None:
                raise format_error(file, f"cannot read year header {row[c]!r} at {_ref(sheet, r, c)}")
            years[c] = year
        order = [y for y, _ in years.values()]
        if order != sorted(set(order)):
            raise format_error(file, f"year header of {sheet} row {r + 1} is not strictly increasing: {order}")
        return r, cols[0], years
    raise format_error(file, f"no year header row in sheet {sheet}")


def _title_and_unit(grid: list[tuple], header: int, sheet: str, file: str) -> str:
    """Check the title names this sheet's table and return the unit line printed below it."""
    texts = [(r, t) for r in range(header) for t in map(_text, grid[r]) if t]
    at = next((i for i, (_, t) in enumerate(texts) if _TITLE.match(_norm(t))), None)
    if at is None:
        raise format_error(file, f"no 'Table N : …' title above the year header in sheet {sheet}")
    number = _TITLE.match(_norm(texts[at][1]))[1]
    if f"table{number}" != sheet.lower():
        raise format_error(file, f"sheet {sheet} holds {texts[at][1]!r}")
    if at + 1 >= len(texts):
        raise format_error(file, f"no unit line below the title in sheet {sheet}")
    unit_line = texts[at + 1][1]
    if _unit(unit_line) is None and not _PRICE_BASIS.fullmatch(_norm(unit_line)):
        raise format_error(file, f"unknown unit line {unit_line!r} in sheet {sheet}")
    return unit_line


def _block_meta(block: _Block, label: str, unit_line: str, sheet: str, file: str) -> tuple[float, str, int | None]:
    """(factor, unit, price base year) of a block from its label and the table's unit line."""
    paren = re.search(r"\(([^()]*)\)\s*$", label)
    unit = (_unit(paren[1]) if paren else None) or _unit(unit_line)
    if unit is None or unit[1] != block.unit:
        raise format_error(file, f"{sheet} block {label or sheet!r}: unit {unit_line!r} does not give {block.unit} "
                          f"for {block.measure}")
    base = None
    if block.constant:
        found = re.fullmatch(block.label, _norm(label)) if block.label else None
        text = found[1] if found and found.groups() else None
        text = text or ((m := _BASE_YEAR.search(_norm(unit_line))) and m[1])
        if not text:
            raise format_error(file, f"{sheet} block {label!r}: no price base year in the label or the unit line")
        base = int(text)
    return unit[0], unit[1], base


def _cell_value(cell: object, where: str, file: str) -> float | str | None:
    """A data cell as a float, None (empty or `..`) or 'error' (a cached Excel error)."""
    if cell is None:
        return None
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if not math.isfinite(cell):
            raise format_error(file, f"non-finite value {cell!r} at {where}")
        return float(cell)
    if isinstance(cell, str):
        text = cell.strip()
        if text in ("", "..", "…"):
            return None
        if text in ("-", "–", "—"):  # NATO's "nil": a true zero
            return 0.0
        if text.upper() in _EXCEL_ERRORS:
            return "error"
        if _NUMBER.fullmatch(text):
            return float(text)
    raise format_error(file, f"non-numeric value {cell!r} at {where}")


def parse_sheet(grid: list[tuple], table: _Table, file: str, out: dict) -> None:
    """Append one sheet's country and aggregate observations to out, checking its layout as it goes."""
    sheet = table.sheet
    header, first_col, years = _header(grid, sheet, file)
    unit_line = _title_and_unit(grid, header, sheet, file)
    name_col, outer_col = first_col - 1, first_col - 2
    if outer_col < 0:
        raise format_error(file, f"year header of {sheet} starts in column A: no room for labels")
    out["estimates"].update(y for y, est in years.values() if est)
    out["years"].update(y for y, _ in years.values())
    block = table.blocks[0] if not table.blocks[0].label else None  # TABLE7 has no block labels
    meta = _block_meta(block, "", unit_line, sheet, file) if block else None
    block_text, seen_blocks, seen_labels, in_notes = None, set(), set(), False
    for r in range(header + 1, len(grid)):
        row = grid[r] + (None,) * max(0, max(years) + 1 - len(grid[r]))
        outer, name = _text(row[outer_col]), _text(row[name_col])
        cells = {c: row[c] for c in years if not (row[c] is None or (isinstance(row[c], str) and not row[c].strip()))}
        label = name or outer
        if label and not cells and _PAGE.fullmatch(label):
            continue
        in_notes = in_notes or bool(label and _FOOTNOTE.match(label))
        if in_notes:  # footnotes end the data; a number among them would be lost, so it is an error
            if cells:
                raise format_error(file, f"values among the footnotes at {_ref(sheet, r, min(cells))}")
            continue
        if not cells:
            if name:
                raise format_error(file, f"label {name!r} at {_ref(sheet, r, name_col)} has no values "
                                  "(a block label in the wrong column?)")
            if outer:
                block = next((b for b in table.blocks if b.label and re.fullmatch(b.label, _norm(outer))), None)
                if block is None:
                    expected = [b.label for b in table.blocks if b.label]
                    raise format_error(file, f"unknown block label {outer!r} at {_ref(sheet, r, outer_col)} "
                                      f"(expected one matching {expected})")
                if block.measure in seen_blocks:
                    raise format_error(file, f"block {outer!r} appears twice in {sheet}")
                meta, block_text, seen_labels = _block_meta(block, outer, unit_line, sheet, file), outer, set()
                seen_blocks.add(block.measure)
            continue
        values = {c: _cell_value(v, _ref(sheet, r, c), file) for c, v in cells.items()}
        out["errors"] += sum(v == "error" for v in values.values())
        if not label:
            # NATO's hidden aggregate rows in TABLE1/8a/8b: no label, only #REF! or zeros
            if any(v not in ("error", 0.0, None) for v in values.values()):
                raise format_error(file, f"row {_ref(sheet, r, first_col)} has values but no country or aggregate label")
            out["skipped_rows"].append(f"{sheet}!{r + 1}")
            continue
        _check_row(block, outer, name, label, seen_labels, sheet, r, file)
        factor, unit, base = meta
        who = (outer,) if outer else _country_label(label, block, sheet, file)
        for c, v in values.items():
            if isinstance(v, float):
                key = (years[c][0], block.measure, v * factor, unit, base, sheet, block_text)
                out["aggregates" if outer else "countries"].append((*who, *key))
    missing = [b.measure for b in table.blocks if b.label and b.measure not in seen_blocks]
    if missing:
        raise format_error(file, f"sheet {sheet} lacks the block(s) for {missing}")


def _check_row(block: _Block | None, outer: str | None, name: str | None, label: str, seen: set, sheet: str,
               r: int, file: str) -> None:
    """Refuse a data row outside a block, with two labels, a non-NATO aggregate or a repeated name."""
    if block is None:
        raise format_error(file, f"values in {sheet} row {r + 1} before any block label")
    if outer and name:
        raise format_error(file, f"{sheet} row {r + 1} has labels in two columns: {outer!r}, {name!r}")
    if outer and not outer.upper().startswith("NATO"):
        raise format_error(file, f"{sheet} row {r + 1}: {outer!r} in the aggregate column is not a NATO aggregate")
    if label in seen:
        raise format_error(file, f"{label!r} appears twice in {sheet} block {block.measure}")
    seen.add(label)


def _country_label(label: str, block: _Block, sheet: str, file: str) -> tuple[str, bool, str | None]:
    """(name, has the 2 % star, currency) from 'Czechia*   (Koruny)'; only TABLE1 names a currency."""
    match = _LABEL.fullmatch(label)
    name, star, currency = match["name"], match["star"] is not None, match["currency"]
    if not name:
        raise format_error(file, f"{sheet} label {label!r} names no country")
    if (block.unit == "lcu") != (currency is not None):
        problem = "names no currency" if block.unit == "lcu" else "has an unexpected parenthesis"
        raise format_error(file, f"{sheet} label {label!r} {problem}")
    return name, star, currency.strip() if currency else None
