"""World Bank WDI military indicators: a snapshot's API v2 JSON pages and bulk CSVs (loose or zipped) staged.

The files themselves are parsed in worldbank_files.py; here they are assembled per snapshot and staged.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

from transforms.defense_spending.worldbank_files import (
    COUNTRY_METADATA_SCHEMA,
    OBSERVATION_SCHEMA,
    SOURCE,
    WORLDBANK_MEASURES,
    format_error,
    looks_like_markup,
    parse_worldbank_api_countries,
    parse_worldbank_api_pages,
    parse_worldbank_bulk_csv,
    parse_worldbank_country_metadata_csv,
)
from transforms.zip_member import ZipLimits, read_zip_members

# The 48 empty-Region rows of Metadata_Country (identical in the 2024, 2025 and 2026 files) plus INX
# ("Not classified"), which the data files carry but Metadata_Country does not list.
WORLDBANK_AGGREGATE_CODES: frozenset[str] = frozenset(
    "AFE AFW ARB CEB CSS EAP EAR EAS ECA ECS EMU EUU FCS HIC HPC IBD IBT IDA IDB IDX INX LAC LCN LDC "
    "LIC LMC LMY LTE MEA MIC MNA NAC OED OSS PRE PSS PST SAS SSA SSF SST TEA TEC TLA TMN TSA TSS UMC WLD".split()
)

COUNTRIES_SCHEMA = pl.Schema(
    {
        "iso3": pl.Utf8,
        "country_code": pl.Utf8,
        "country_name": pl.Utf8,
        "indicator_code": pl.Utf8,
        "measure": pl.Utf8,
        "unit": pl.Utf8,
        "year": pl.Int32,
        "value": pl.Float64,
        "is_estimate": pl.Boolean,
        "release": pl.Utf8,
        "release_sort": pl.Utf8,
        "snapshot_id": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
AGGREGATES_SCHEMA = pl.Schema(
    {
        "aggregate_code": pl.Utf8,
        "aggregate_name": pl.Utf8,
        "indicator_code": pl.Utf8,
        "measure": pl.Utf8,
        "unit": pl.Utf8,
        "year": pl.Int32,
        "value": pl.Float64,
        "release": pl.Utf8,
        "release_sort": pl.Utf8,
        "snapshot_id": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
QUARANTINE_ROWS_SCHEMA = pl.Schema({**COUNTRIES_SCHEMA, "reason": pl.Utf8})

# One indicator's bulk zip unpacks to ~0.3 MB (data CSV ~0.25 MB); the caps only stop what no WDI file could be.
_ZIP_LIMITS = ZipLimits(max_member_bytes=32 * 1024**2, max_total_bytes=64 * 1024**2, max_ratio=100.0)
_PAGE_FILE = re.compile(r"(?P<stem>.+)\.page-(?P<page>\d+)\.json", re.IGNORECASE)

def _zip_members(path: Path) -> list[tuple[str, bytes]]:
    """(member name, bytes) of every file in a zip, through the checked zip reader (names, sizes, ratio)."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            html = looks_like_markup(fh.read(512))
        raise format_error(path.name, "got HTML/XML instead of a zip" if html else "not a readable zip archive")
    members = read_zip_members(path, source=SOURCE, limits=_ZIP_LIMITS,
                               skip=lambda info: info.filename.startswith("__MACOSX/"))  # macOS re-zip debris
    if not members:
        raise format_error(path.name, "zip holds no files")
    return members


def _csv_kind(base: str, raw: bytes) -> str:
    """'data', 'country' or 'indicator' from the WB file name, else from the first header field."""
    for prefix, kind in (("Metadata_Country", "country"), ("Metadata_Indicator", "indicator"), ("API_", "data")):
        if base.startswith(prefix):
            return kind
    head = raw.removeprefix(b"\xef\xbb\xbf").lstrip()[:40].replace(b'"', b"")
    if head.startswith(b"Country Code"):
        return "country"
    return "indicator" if head.startswith(b"INDICATOR_CODE") else "data"


def read_worldbank_snapshot(files: list[Path]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read every file of a snapshot (JSON pages, CSVs, zips, in any mix) into (observations, country metadata)."""
    observations, metadata, page_sets = [], [], {}
    for path in sorted(map(Path, files), key=lambda p: p.name):
        name = path.name
        if name == "manifest.json":  # the snapshot store's own record, not publisher data
            continue
        if match := _PAGE_FILE.fullmatch(name):
            page_sets.setdefault(match["stem"], []).append((name, path.read_bytes()))
        elif name.lower().endswith(".zip"):
            for member, raw in _zip_members(path):
                _read_csv_file(f"{name}!{member}", member.rsplit("/", 1)[-1], raw, observations, metadata)
        elif name.lower().endswith(".csv"):
            _read_csv_file(name, name, path.read_bytes(), observations, metadata)
        else:
            raise format_error(name, "not a World Bank file (expected *.page-NNN.json, *.csv or *.zip)")
    for stem, pages in sorted(page_sets.items()):
        if stem == "countries":
            metadata.append((pages[0][0], parse_worldbank_api_countries(pages)))
        else:
            observations.append(parse_worldbank_api_pages(pages))
    frame = pl.concat(observations) if observations else pl.DataFrame(schema=OBSERVATION_SCHEMA)
    dup = frame.filter(pl.struct("country_code", "indicator_code", "year").is_duplicated())
    if dup.height:
        first = dup.sort("source_file").row(0, named=True)
        key = {k: first[k] for k in ("country_code", "indicator_code", "year")}
        files_ = sorted(set(dup.filter(**key)["source_file"]))
        raise format_error(files_[0], f"{' / '.join(map(str, key.values()))} also in {files_[1:]}")
    return frame.sort("country_code", "indicator_code", "year"), _merge_metadata(metadata)


def _read_csv_file(label: str, base: str, raw: bytes, observations: list, metadata: list) -> None:
    if not base.lower().endswith(".csv"):
        raise format_error(label, "not a World Bank file (expected a CSV)")
    kind = _csv_kind(base, raw)
    if kind == "data":
        observations.append(parse_worldbank_bulk_csv(raw, label))
    elif kind == "country":
        metadata.append((label, parse_worldbank_country_metadata_csv(raw, label)))


def _merge_metadata(frames: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    """One row per code; each zip repeats Metadata_Country, so only a flip of is_aggregate is an error."""
    merged: dict[str, tuple[str, dict]] = {}
    for label, frame in frames:
        for row in frame.iter_rows(named=True):
            kept = merged.setdefault(row["country_code"], (label, row))
            if kept[1]["is_aggregate"] != row["is_aggregate"]:
                raise format_error(label, f"{row['country_code']} is an aggregate here but not in {kept[0]} (or vice versa)")
    rows = [row for _, row in merged.values()]
    return pl.DataFrame(rows, schema=COUNTRY_METADATA_SCHEMA).sort("country_code")


def _release_columns(snapshot_id: str) -> dict[str, pl.Expr]:
    """Which WDI release a value belongs to: its Last Updated date, else the day the snapshot was taken."""
    taken = f"{snapshot_id[:4]}-{snapshot_id[4:6]}-{snapshot_id[6:8]}"
    return {
        "release": pl.when(pl.col("last_updated").is_not_null())
        .then(pl.format("WDI {}", pl.col("last_updated")))
        .otherwise(pl.lit(f"WDI as retrieved {taken}")),
        "release_sort": pl.coalesce(pl.col("last_updated"), pl.lit(taken)),
    }


def stage_worldbank(
    observations: pl.DataFrame, country_metadata: pl.DataFrame, known_iso3: pl.DataFrame, snapshot_id: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split observations into (countries, aggregates, quarantine) with measures, units and ISO3 attached."""
    if country_metadata["country_code"].is_duplicated().any():
        raise ValueError("country_metadata must have one row per country_code")
    measures = pl.DataFrame(
        [(code, measure, unit) for code, (measure, unit) in WORLDBANK_MEASURES.items()],
        schema={"indicator_code": pl.Utf8, "measure": pl.Utf8, "unit": pl.Utf8},
        orient="row",
    )
    unknown = observations.join(measures, on="indicator_code", how="anti")
    if unknown.height:
        raise format_error(unknown["source_file"][0], f"unknown indicator code {unknown['indicator_code'][0]!r}")
    rows = (
        observations.join(measures, on="indicator_code", how="left")
        .join(country_metadata.select("country_code", "is_aggregate"), on="country_code", how="left")
        .with_columns(
            # metadata decides when it lists the code; the constant covers INX and lone data files
            is_aggregate=pl.col("is_aggregate").fill_null(
                pl.col("country_code").is_in(list(WORLDBANK_AGGREGATE_CODES))
            ),
            snapshot_id=pl.lit(snapshot_id, pl.Utf8),
            **_release_columns(snapshot_id),
        )
        .sort("country_code", "indicator_code", "year")
    )
    aggregates = rows.filter(pl.col("is_aggregate")).select(
        pl.col("country_code").alias("aggregate_code"),
        pl.col("country_name").alias("aggregate_name"),
        *list(AGGREGATES_SCHEMA)[2:],
    )
    known = known_iso3["iso3"].drop_nulls().unique().to_list()
    countries = rows.filter(~pl.col("is_aggregate")).with_columns(
        iso3=pl.when(pl.col("country_code").is_in(known)).then(pl.col("country_code")),
        is_estimate=pl.when(pl.col("obs_status").is_not_null()).then(pl.col("obs_status") == "E"),
        reason=pl.when(pl.col("value") < 0)
        .then(pl.lit("negative value"))
        # Spending cannot exceed the government budget it is part of; a share of GDP above 100
        # can be real (Kuwait 1991), so that one is left to the validation suite's reviewed exceptions.
        .when((pl.col("measure") == "share_of_government_spending") & (pl.col("value") > 100))
        .then(pl.lit("share of government spending above 100")),
    )
    quarantine = countries.filter(pl.col("reason").is_not_null()).select(list(QUARANTINE_ROWS_SCHEMA))
    countries = countries.filter(pl.col("reason").is_null()).select(list(COUNTRIES_SCHEMA))
    return (
        countries.cast(dict(COUNTRIES_SCHEMA)),
        aggregates.cast(dict(AGGREGATES_SCHEMA)),
        quarantine.cast(dict(QUARANTINE_ROWS_SCHEMA)),
    )
