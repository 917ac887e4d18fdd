"""SIPRI Military Expenditure Database workbooks (static releases and portal exports) to tidy Polars frames.

Units follow ours, not SIPRI's: money in US dollars (US$ m. x 1e6, Regional totals US$ b. x 1e9), shares in
percent (SIPRI's fraction x 100), per capita in US dollars as published, local currency as published
(unit 'lcu', with its Currency). The products are float64, so a value equals the workbook's number times
the factor to within ~1e-16 relative (well inside 1e-12); 0.0343 becomes 3.4300000000000006, not 3.43.
Only cells holding a number or a marker become rows: an entirely empty cell (None) says nothing and is
skipped, while '...' and its variants become status 'missing' and 'xxx' (no such state) 'not_a_state'.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from transforms.defense_spending.sipri_workbook import (
    COUNTRY_MEASURES,
    FOOTNOTES_SHEET,
    REGIONAL_SHEET,
    SIPRI_REGIONS,
    SOURCE,
    SheetResult,
    SheetSpec,
    classify_sheets,
    fail,
    open_workbook,
)
from transforms.defense_spending.sipri_sheets import read_country_sheet, read_footnotes, read_regional_totals
from transforms.reference.countries import resolve_country_names

__all__ = [
    "COUNTRIES_SCHEMA", "FOOTNOTES_SCHEMA", "QUARANTINE_ROWS_SCHEMA", "REGIONAL_TOTALS_SCHEMA", "SOURCE",
    "STAGED_COUNTRIES_SCHEMA", "STAGED_REGIONAL_TOTALS_SCHEMA", "SipriRelease", "SipriWorkbook",
    "read_sipri_snapshot", "read_sipri_workbook", "resolve_sipri_countries", "stage_sipri",
]

COUNTRIES_SCHEMA = pl.Schema(
    {
        "country_name": pl.Utf8,  # as published, outer spaces stripped
        "iso3": pl.Utf8,  # null until resolve_sipri_countries
        "year": pl.Int32,
        "measure": pl.Utf8,
        "value": pl.Float64,  # null unless status is 'value'
        "unit": pl.Utf8,  # usd | percent | lcu
        "status": pl.Utf8,  # value | missing | not_a_state
        "is_estimate": pl.Boolean,  # blue font
        "is_uncertain": pl.Boolean,  # red font
        "price_base_year": pl.Int32,  # constant_usd only
        "currency": pl.Utf8,  # local-currency sheets only
        "fiscal_year": pl.Utf8,  # 'Fiscal Year' (LCU financial years) or 'Reporting year' (Share of Govt.)
        "notes_raw": pl.Utf8,
        "note_symbols": pl.List(pl.Utf8),
        "footnote_ids": pl.List(pl.Int32),
        "sheet": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
REGIONAL_TOTALS_SCHEMA = pl.Schema(
    {
        "region": pl.Utf8,
        "year": pl.Int32,
        "measure": pl.Utf8,  # constant_usd, or current_usd for the 'YYYY (current prices)' column
        "value": pl.Float64,  # US dollars
        "unit": pl.Utf8,
        "status": pl.Utf8,
        "is_uncertain": pl.Boolean,  # red: over 10% of the total is SIPRI's estimate for missing countries
        "price_base_year": pl.Int32,
        "omitted_countries": pl.Utf8,
        "sheet": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
FOOTNOTES_SCHEMA = pl.Schema(
    {"footnote_id": pl.Int32, "symbol": pl.Utf8, "flag": pl.Utf8, "text": pl.Utf8, "source_file": pl.Utf8}
)
_RELEASE_SCHEMA = {
    "snapshot_id": pl.Utf8, "release_label": pl.Utf8, "release_year": pl.Int32,
    "data_last_year": pl.Int32, "is_portal_export": pl.Boolean,
}
STAGED_COUNTRIES_SCHEMA = pl.Schema({**COUNTRIES_SCHEMA, **_RELEASE_SCHEMA})
STAGED_REGIONAL_TOTALS_SCHEMA = pl.Schema({**REGIONAL_TOTALS_SCHEMA, **_RELEASE_SCHEMA})
QUARANTINE_ROWS_SCHEMA = pl.Schema({**STAGED_COUNTRIES_SCHEMA, "reason": pl.Utf8})

_CELL_SCHEMA = {  # what read_country_sheet yields, in order: one record per cell, one label per row
    "country_name": pl.Utf8, "year": pl.Int32, "status": pl.Utf8, "raw": pl.Float64, "is_estimate": pl.Boolean,
    "is_uncertain": pl.Boolean,
}
_LABEL_SCHEMA = {
    "country_name": pl.Utf8, "currency": pl.Utf8, "fiscal_year": pl.Utf8, "notes_raw": pl.Utf8,
    "note_symbols": pl.List(pl.Utf8), "footnote_ids": pl.List(pl.Int32),
}
_REGION_ROW_SCHEMA = {
    "region": pl.Utf8, "year": pl.Int32, "measure": pl.Utf8, "status": pl.Utf8, "raw": pl.Float64,
    "is_uncertain": pl.Boolean, "price_base_year": pl.Int32, "omitted_countries": pl.Utf8,
}
_FILE_YEARS = re.compile(r"(\d{4})-(\d{4})")


@dataclass(frozen=True)
class SipriRelease:
    """Which vintage a workbook is: release (copyright) year, year span, constant-price base, portal or not."""

    release_year: int
    first_year: int
    data_last_year: int
    price_base_year: int | None
    is_portal_export: bool

    @property
    def release_label(self) -> str:
        """E.g. 'SIPRI 2026 (data 1949-2025)' or 'SIPRI portal export 2024 (data 2017-2024)'."""
        kind = "SIPRI portal export" if self.is_portal_export else "SIPRI"
        return f"{kind} {self.release_year} (data {self.first_year}-{self.data_last_year})"


@dataclass(frozen=True)
class SipriWorkbook:
    """One parsed workbook: country rows (long), regional totals, footnotes and the release it belongs to."""

    countries: pl.DataFrame
    regional_totals: pl.DataFrame
    footnotes: pl.DataFrame
    release: SipriRelease


def _portal_body(raw: bytes, file: str) -> bytes:
    """The xlsx inside a portal reply {"Value": "<base64>"} (POST backend.sipri.org/api/p/excel-export)."""
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(file, f"not a valid JSON portal reply: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("Value"), str):
        raise fail(file, "JSON is not a portal export reply (no string 'Value')")
    try:
        data = base64.b64decode(doc["Value"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise fail(file, f"'Value' is not valid base64: {e}") from e
    if not data.startswith(b"PK\x03\x04"):
        raise fail(file, "'Value' does not decode to an xlsx workbook")
    return data


def read_sipri_workbook(path: Path | bytes, file_name: str, *, require_all_sheets: bool = False) -> SipriWorkbook:
    """Parse a SIPRI xlsx or a portal JSON reply; require_all_sheets makes a missing data sheet an error."""
    raw = path if isinstance(path, bytes) else Path(path).read_bytes()
    from_portal = raw.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"
    if from_portal:
        raw, file_name = _portal_body(raw, file_name), f"{file_name}!Value"
    wb = open_workbook(raw, file_name)
    try:
        return _read_workbook(wb, file_name, from_portal, require_all_sheets)
    finally:
        wb.close()


def _read_workbook(wb: Any, file: str, from_portal: bool, require_all_sheets: bool) -> SipriWorkbook:
    titles = list(wb.sheetnames)
    specs = classify_sheets(titles, file)
    missing = [m for m in COUNTRY_MEASURES if m not in {s.measure for s in specs.values()}]
    missing += [s for s in (REGIONAL_SHEET, FOOTNOTES_SHEET) if s not in titles]
    if require_all_sheets and missing:
        raise fail(file, f"missing sheet(s) for {', '.join(missing)} (renamed or removed?)")
    if not specs and REGIONAL_SHEET not in titles:
        raise fail(file, "no SIPRI data sheet (expected e.g. 'Share of GDP')")
    base = next((s.price_base_year for s in specs.values() if s.price_base_year is not None), None)
    parts, regional, footnotes, years, copyright, regions = [], None, [], [], set(), []
    for title, spec in specs.items():
        sheet = read_country_sheet(wb[title], spec, file)
        years += sheet.years
        copyright |= sheet.copyright_years
        regions.append(sheet.regions)
        parts.append(_country_frame(sheet, spec, title, file))
    if REGIONAL_SHEET in titles:
        sheet = read_regional_totals(wb[REGIONAL_SHEET], file, base)
        copyright |= sheet.copyright_years
        years = years or sheet.years
        regional = _regional_frame(sheet.records, file)
    if FOOTNOTES_SHEET in titles:
        footnotes = read_footnotes(wb[FOOTNOTES_SHEET], file)
    # A portal export is a selection: fewer sheets, or countries of only some regions. (A year selection is
    # not used: it cannot be told from a short synthetic sample, and a full export equals the release.)
    portal = from_portal or bool(missing) or any(r != SIPRI_REGIONS for r in regions)
    release = SipriRelease(_release_year(copyright, file), min(years), max(years), base, portal)
    countries = pl.concat(parts) if parts else pl.DataFrame(schema=COUNTRIES_SCHEMA)
    return SipriWorkbook(
        countries=countries.sort("measure", "country_name", "year"),
        regional_totals=regional if regional is not None else pl.DataFrame(schema=REGIONAL_TOTALS_SCHEMA),
        footnotes=pl.DataFrame([(*f, file) for f in footnotes], schema=FOOTNOTES_SCHEMA, orient="row"),
        release=release,
    )


def _release_year(copyright_years: set[int], file: str) -> int:
    """The '© SIPRI YYYY' year of the sheet titles; without one, the file name's last data year + 1."""
    if copyright_years:
        return max(copyright_years)
    found = _FILE_YEARS.findall(Path(file.split("!")[0]).name)
    if not found:
        raise fail(file, "no '© SIPRI YYYY' in any sheet title and no year span in the file name")
    return int(found[-1][1]) + 1  # SIPRI publishes each April for the year before


def _country_frame(result: SheetResult, spec: SheetSpec, sheet: str, file: str) -> pl.DataFrame:
    cells = pl.DataFrame(result.records, schema=_CELL_SCHEMA, orient="row")
    # Row labels (notes are lists) join on per row: building list cells per record is slow in Polars.
    labels = pl.DataFrame(dict(zip(_LABEL_SCHEMA, zip(*result.labels))) if result.labels else None, schema=_LABEL_SCHEMA)
    return cells.join(labels, on="country_name", how="left", maintain_order="left").select(
        "country_name",
        pl.lit(None, pl.Utf8).alias("iso3"),
        "year",
        pl.lit(spec.measure, pl.Utf8).alias("measure"),
        (pl.col("raw") * spec.factor).alias("value"),  # float64 product: SIPRI's number to our unit
        pl.lit(spec.unit, pl.Utf8).alias("unit"),
        "status",
        "is_estimate",
        "is_uncertain",
        pl.lit(spec.price_base_year, pl.Int32).alias("price_base_year"),
        "currency",
        "fiscal_year",
        "notes_raw",
        "note_symbols",
        "footnote_ids",
        pl.lit(sheet, pl.Utf8).alias("sheet"),
        pl.lit(file, pl.Utf8).alias("source_file"),
    )


def _regional_frame(records: list[tuple], file: str) -> pl.DataFrame:
    frame = pl.DataFrame(records, schema=_REGION_ROW_SCHEMA, orient="row")
    return frame.select(
        "region",
        "year",
        "measure",
        (pl.col("raw") * 1e9).alias("value"),  # US$ b. to US dollars
        pl.lit("usd", pl.Utf8).alias("unit"),
        "status",
        "is_uncertain",
        "price_base_year",
        "omitted_countries",
        pl.lit(REGIONAL_SHEET, pl.Utf8).alias("sheet"),
        pl.lit(file, pl.Utf8).alias("source_file"),
    ).sort("measure", "region", "year")


def read_sipri_snapshot(files: list[Path], *, require_all_sheets: bool = False) -> list[SipriWorkbook]:
    """Parse every workbook of a snapshot (.xlsx files and portal .json replies), in file-name order."""
    out = []
    for path in sorted(map(Path, files), key=lambda p: p.name):
        if path.name == "manifest.json":  # the snapshot store's own record, not publisher data
            continue
        if path.suffix.lower() not in (".xlsx", ".json"):
            raise fail(path.name, "not a SIPRI file (expected an .xlsx workbook or a portal .json reply)")
        out.append(read_sipri_workbook(path, path.name, require_all_sheets=require_all_sheets))
    return out


def resolve_sipri_countries(countries: pl.DataFrame, aliases: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    """Fill iso3 from the published name, without a year (SIPRI's rows are whole series; 'USSR' is one entity)."""
    resolved = resolve_country_names(countries.drop("iso3"), "country_name", aliases, crosswalk)
    return resolved.select(countries.columns)


# Rows of the country sheets that are groupings, not states: published beside the regional totals.
SIPRI_GROUP_ROWS = frozenset({"European Union"})


def _group_rows_as_regions(countries: pl.DataFrame) -> pl.DataFrame:
    """Country-sheet rows of groupings (e.g. the European Union) in the regional-totals shape."""
    groups = countries.filter(pl.col("country_name").is_in(list(SIPRI_GROUP_ROWS)))
    return groups.select(
        region=pl.col("country_name"), year="year", measure="measure", value="value", unit="unit", status="status",
        is_uncertain="is_uncertain", price_base_year="price_base_year", omitted_countries=pl.lit(None, pl.Utf8),
        sheet="sheet", source_file="source_file",
    ).cast(dict(REGIONAL_TOTALS_SCHEMA))


def stage_sipri(
    workbook: SipriWorkbook, aliases: pl.DataFrame, crosswalk: pl.DataFrame, snapshot_id: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(countries with iso3 and release columns, regional totals, quarantined rows with a reason).

    An unmapped name keeps a null iso3 in the countries frame, so the validation suite fails naming it.
    """
    release = workbook.release
    groups = _group_rows_as_regions(workbook.countries)
    states = workbook.countries.filter(~pl.col("country_name").is_in(list(SIPRI_GROUP_ROWS)))
    columns = {
        "snapshot_id": pl.lit(snapshot_id, pl.Utf8),
        "release_label": pl.lit(release.release_label, pl.Utf8),
        "release_year": pl.lit(release.release_year, pl.Int32),
        "data_last_year": pl.lit(release.data_last_year, pl.Int32),
        "is_portal_export": pl.lit(release.is_portal_export, pl.Boolean),
    }
    countries = resolve_sipri_countries(states, aliases, crosswalk).with_columns(
        **columns,
        reason=pl.when(pl.col("value") < 0)
        .then(pl.lit("negative value"))
        # Spending cannot exceed the government budget it is part of; a share of GDP above 100 can be
        # real (Kuwait 1991), so that one is left to the validation suite's reviewed exceptions.
        .when((pl.col("measure") == "share_of_government_spending") & (pl.col("value") > 100))
        .then(pl.lit("share of government spending above 100")),
    )
    quarantine = countries.filter(pl.col("reason").is_not_null()).select(list(QUARANTINE_ROWS_SCHEMA))
    countries = countries.filter(pl.col("reason").is_null()).select(list(STAGED_COUNTRIES_SCHEMA))
    regional = pl.concat([workbook.regional_totals, groups]).with_columns(**columns).select(
        list(STAGED_REGIONAL_TOTALS_SCHEMA))
    return (
        countries.cast(dict(STAGED_COUNTRIES_SCHEMA)),
        regional.cast(dict(STAGED_REGIONAL_TOTALS_SCHEMA)),
        quarantine.cast(dict(QUARANTINE_ROWS_SCHEMA)),
    )


def sipri_release_sort(release: SipriRelease) -> str:
    """A sortable key of a release: data year, then copyright year, a full workbook after a portal export."""
    return f"{release.data_last_year:04d}-{release.release_year:04d}-{0 if release.is_portal_export else 1}"


def stage_sipri_footnotes(workbook: SipriWorkbook, snapshot_id: str) -> pl.DataFrame:
    """The Footnotes sheet with the release it belongs to, so notes join to values of the same release."""
    return workbook.footnotes.with_columns(
        snapshot_id=pl.lit(snapshot_id, pl.Utf8),
        release=pl.lit(workbook.release.release_label, pl.Utf8),
    )
