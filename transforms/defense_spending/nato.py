"""NATO "Defence Expenditure of NATO Countries" Excel tables (TABLE1 … TABLE8b) to tidy Polars frames.

Each sheet is parsed by nato_sheets.py; here the sheets become one edition and its staged rows.

Decisions (../shared/data/defense_spending/SOURCES.md §3):
- TABLE4 is not parsed: its columns are TABLE2's constant US$ for 2014 and the last year, TABLE3's share of
  GDP for those years, and the 2014-to-last-year real change, which is (last / 2014 - 1) * 100 of the
  same constant US$. It adds no number of its own; the sheet must still be present.
- `..` (not available) gives no row; `-` (nil) gives the value 0; cached Excel errors (`#REF!`) give no
  row and are counted in `NatoEdition.skipped_errors`.
- The `*` (national 2 % law) is printed in TABLE1-3 only; it is a fact about the Ally in this edition,
  so `has_national_2pct_law` is set on the Ally's rows in every table.
- Years marked `e` in any table header are estimates in every table (the footnotes say so per edition).
- Only NATO's .xlsx workbook is read. Hand-made CSV excerpts (e.g. `230707-def-exp-2023-TABLES-en.csv`:
  unlabelled blocks, no units, estimates unmarked, rounded) are refused: they cannot be read faithfully.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.defense_spending.nato_sheets import (
    NATO_TABLES,
    REQUIRED_SHEETS,
    format_error,
    open_workbook,
    parse_sheet,
)
from transforms.reference.countries import resolve_country_names

COUNTRIES_SCHEMA = pl.Schema(
    {
        "country_name": pl.Utf8,
        "has_national_2pct_law": pl.Boolean,
        "iso3": pl.Utf8,
        "currency": pl.Utf8,
        "year": pl.Int32,
        "measure": pl.Utf8,
        "value": pl.Float64,
        "unit": pl.Utf8,
        "is_estimate": pl.Boolean,
        "price_base_year": pl.Int32,
        "table": pl.Utf8,
        "block": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
_SHARED = ["year", "measure", "value", "unit", "is_estimate", "price_base_year", "table", "block", "source_file"]
AGGREGATES_SCHEMA = pl.Schema({"aggregate_name": pl.Utf8, **{c: COUNTRIES_SCHEMA[c] for c in _SHARED}})
STAGED_COUNTRIES_SCHEMA = pl.Schema({**COUNTRIES_SCHEMA, "snapshot_id": pl.Utf8})
STAGED_AGGREGATES_SCHEMA = pl.Schema({**AGGREGATES_SCHEMA, "snapshot_id": pl.Utf8})
QUARANTINE_ROWS_SCHEMA = pl.Schema({**STAGED_COUNTRIES_SCHEMA, "reason": pl.Utf8})

# Measures that may be negative; every other NATO measure (money, GDP, personnel, shares) may not.
SIGNED_MEASURES = frozenset({"real_change_pct"})


@dataclass(frozen=True)
class NatoEdition:
    """One edition of the NATO tables: its label, year span, estimate years and what was skipped."""

    edition_label: str
    first_year: int
    last_year: int
    estimate_years: tuple[int, ...]
    price_base_year: int
    file_name: str
    skipped_errors: int  # cached Excel error cells (#REF! …) that carried no value
    skipped_rows: tuple[str, ...]  # unlabelled rows holding only errors or zeros (NATO's hidden aggregate rows)


@dataclass(frozen=True)
class NatoWorkbook:
    """A parsed workbook: country rows, NATO-aggregate rows and the edition."""

    countries: pl.DataFrame
    aggregates: pl.DataFrame
    edition: NatoEdition


def _edition_label(file: str, created: object, last_year: int) -> str:
    """'NATO June 2024' from the YYMMDD file prefix, else from the workbook's creation date."""
    if (m := re.match(r"(\d{2})(\d{2})(\d{2})-", file)) and 1 <= int(m[2]) <= 12:
        return f"NATO {calendar.month_name[int(m[2])]} 20{m[1]}"
    if hasattr(created, "year") and hasattr(created, "month"):
        return f"NATO {calendar.month_name[created.month]} {created.year}"
    return f"NATO edition to {last_year}"


def read_nato_workbook(path: Path | bytes, file_name: str) -> NatoWorkbook:
    """Parse a NATO defence-expenditure tables workbook into country rows, aggregate rows and the edition."""
    raw = path if isinstance(path, bytes) else Path(path).read_bytes()
    book = open_workbook(raw, file_name)
    try:
        missing = [s for s in REQUIRED_SHEETS if s not in book.sheetnames]
        if missing:
            raise format_error(file_name, f"not a NATO tables workbook: sheet(s) {missing} missing (found {book.sheetnames})")
        out = {"countries": [], "aggregates": [], "errors": 0, "skipped_rows": [], "estimates": set(), "years": set()}
        for table in NATO_TABLES:
            grid = list(book[table.sheet].iter_rows(min_row=1, min_col=1, values_only=True))
            parse_sheet(grid, table, file_name, out)
        created = book.properties.created
    finally:
        book.close()
    return _assemble(out, file_name, created)


def _assemble(out: dict, file: str, created: object) -> NatoWorkbook:
    estimates = sorted(out["estimates"])
    shared = {c: COUNTRIES_SCHEMA[c] for c in ("year", "measure", "value", "unit", "price_base_year", "table", "block")}
    firsts = {"countries": {"country_name": pl.Utf8, "star": pl.Boolean, "currency": pl.Utf8},
              "aggregates": {"aggregate_name": pl.Utf8}}
    frames = {
        kind: pl.DataFrame(out[kind], schema={**first, **shared}, orient="row").with_columns(
            is_estimate=pl.col("year").is_in(estimates), source_file=pl.lit(file, pl.Utf8)
        )
        for kind, first in firsts.items()
    }
    countries = frames["countries"]
    starred = countries.filter(pl.col("star"))["country_name"].unique().to_list()
    countries = countries.with_columns(
        has_national_2pct_law=pl.col("country_name").is_in(starred), iso3=pl.lit(None, pl.Utf8)
    )
    bases = set(countries["price_base_year"].drop_nulls()) | set(frames["aggregates"]["price_base_year"].drop_nulls())
    if len(bases) != 1:
        raise format_error(file, f"expected one price base year across the tables, found {sorted(bases)}")
    edition = NatoEdition(
        edition_label=_edition_label(file, created, max(out["years"])),
        first_year=min(out["years"]), last_year=max(out["years"]), estimate_years=tuple(estimates),
        price_base_year=bases.pop(), file_name=file, skipped_errors=out["errors"],
        skipped_rows=tuple(out["skipped_rows"]),
    )
    order = ["table", "measure", "year"]
    return NatoWorkbook(
        countries.select(list(COUNTRIES_SCHEMA)).cast(dict(COUNTRIES_SCHEMA)).sort(*order, "country_name"),
        frames["aggregates"].select(list(AGGREGATES_SCHEMA)).cast(dict(AGGREGATES_SCHEMA))
        .sort(*order, "aggregate_name"),
        edition,
    )


def resolve_nato_countries(countries: pl.DataFrame, aliases: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    """Fill iso3 from the published country names (null where a name is unknown, for validation to name)."""
    resolved = resolve_country_names(countries.drop("iso3"), "country_name", aliases, crosswalk)
    return resolved.select(countries.columns)


def stage_nato(
    workbook: NatoWorkbook, aliases: pl.DataFrame, crosswalk: pl.DataFrame, snapshot_id: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(countries, aggregates, quarantine) with iso3 and snapshot_id; impossible negatives go to quarantine."""
    snapshot = pl.lit(snapshot_id, pl.Utf8).alias("snapshot_id")
    countries = resolve_nato_countries(workbook.countries, aliases, crosswalk).with_columns(
        snapshot,
        reason=pl.when((pl.col("value") < 0) & ~pl.col("measure").is_in(list(SIGNED_MEASURES)))
        .then(pl.format("negative {}", pl.col("measure"))),
    )
    quarantine = countries.filter(pl.col("reason").is_not_null()).select(list(QUARANTINE_ROWS_SCHEMA))
    countries = countries.filter(pl.col("reason").is_null()).select(list(STAGED_COUNTRIES_SCHEMA))
    aggregates = workbook.aggregates.with_columns(snapshot)
    return (
        countries.cast(dict(STAGED_COUNTRIES_SCHEMA)),
        aggregates.cast(dict(STAGED_AGGREGATES_SCHEMA)),
        quarantine.cast(dict(QUARANTINE_ROWS_SCHEMA)),
    )


_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"], start=1)}


def with_nato_release(frame: pl.DataFrame, edition: NatoEdition) -> pl.DataFrame:
    """Add `release` (the edition label) and `release_sort` (YYYY-MM of the edition, else its last data year)."""
    words = edition.edition_label.lower().split()
    month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
    year = next((int(w) for w in words if w.isdigit() and len(w) == 4), edition.last_year)
    sort = f"{year:04d}-{month:02d}" if month else f"{year:04d}"
    return frame.with_columns(release=pl.lit(edition.edition_label, pl.Utf8), release_sort=pl.lit(sort, pl.Utf8))
