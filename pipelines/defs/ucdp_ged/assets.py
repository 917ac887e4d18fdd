"""UCDP GED events, partitioned by month: API pages, bulk and candidate releases, HDX country extracts."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import polars as pl
from dagster import MonthlyPartitionsDefinition

from pipelines.lib.acquire import commit_event_snapshot
from pipelines.lib.held_partitions import partitions_at_the_data
from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import FetchRequest, SourceSpec, StagedOutput, page_order, sample_dir_files
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.defs.ucdp_ged.fetch import (
    BULK_BASE_URL,
    UcdpQuota,
    fetch_ucdp_bulk,
    fetch_ucdp_ged_api,
)
from pipelines.lib.staged_tables import STG_UCDP_GED_EVENT
from pipelines.defs.ucdp_ged.checks import ucdp_ged_suite
from transforms.conflict_events.ucdp_ged import read_ucdp_ged_csv
from transforms.conflict_events.ucdp_ged_json import read_ucdp_ged_api_pages, read_ucdp_ged_geojson
from transforms.errors import SourceFormatError
from transforms.zip_member import unzip_single_member

SOURCE = "ucdp_ged"
DEFAULT_VERSION = "25.1"  # the yearly release a bulk or API run reads unless config says otherwise
BULK_URL_ENV = "THREATWATCH_UCDP_GED_BULK_URL"  # the bulk download site (or a mirror); the API is THREATWATCH_UCDP_GED_URL
# UCDP's first GED year; a month's events are final a year later and candidates a month later.
HISTORY = MonthlyPartitionsDefinition(start_date="1989-01-01", end_offset=0)


def read_ucdp_ged_files(files: list[Path], crosswalk: pl.DataFrame, manifest: Manifest) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every GED layout of a snapshot: API pages together, each CSV (zipped or not) and GeoJSON on its own."""
    pages = sorted([f for f in files if f.name.startswith("gedevents_") and f.suffix == ".json"], key=page_order)
    parts = [read_ucdp_ged_api_pages(pages, crosswalk)] if pages else []
    for path in files:
        if path in pages:
            continue
        if path.suffix.lower() == ".csv":
            parts.append(read_ucdp_ged_csv(path, crosswalk))
        elif path.suffix.lower() == ".geojson":
            parts.append(read_ucdp_ged_geojson(path, crosswalk))
        elif path.suffix.lower() == ".zip":
            parts.append(_read_zipped_csv(path, crosswalk))
        else:
            raise SourceFormatError(SOURCE, path.name, "not a GED layout (.csv, .zip, .geojson or API page .json)")
    if not parts:
        raise SourceFormatError(SOURCE, "(none)", "the snapshot has no files")
    events = pl.concat([p[0] for p in parts], how="diagonal_relaxed")
    # UCDP publishes ~1% of events with low <= best <= high broken; they are kept and flagged. Whether that
    # share is still small is a property of the release, not of a month (one flagged event of two in a quiet
    # month is no signal), so it is measured over the snapshot and checked by the suite per partition.
    share = (~events["deaths_ordered"]).mean() if events.height else 0.0
    return (events.with_columns(pl.lit(share, pl.Float64).alias("snapshot_out_of_order_share")),
            pl.concat([p[1] for p in parts], how="diagonal_relaxed"))


# A GED release CSV is a few hundred MB; the cap only has to stop what no release could be.
MAX_CSV_BYTES = 4 * 1024**3


def unzip_release_csv(path: Path, folder: Path, source: str) -> Path:
    """The one CSV of a UCDP release zip, unpacked into `folder` under its own name (which carries the release)."""
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as out:
        name = unzip_single_member(path, r"[^/\\]+\.csv", out.write, source=source, max_uncompressed_bytes=MAX_CSV_BYTES)
    return Path(out.name).rename(folder / name)


def _read_zipped_csv(path: Path, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    with tempfile.TemporaryDirectory() as scratch:
        csv = unzip_release_csv(path, Path(scratch), SOURCE)
        events, rejected = read_ucdp_ged_csv(csv, crosswalk)
    member = pl.lit(f"{path.name}!{csv.name}")  # a zip member traces to its zip
    return events.with_columns(member.alias("source_file")), rejected.with_columns(member.alias("source_file"))


def fetch_ucdp_ged(request: FetchRequest) -> list[Manifest]:
    """API (format api; token and quota), the yearly bulk zip (default) or a monthly candidate CSV."""
    config, window, store = request.config, request.window, request.store
    version = config.version or DEFAULT_VERSION
    with store.draft(SOURCE) as draft:
        if config.format == "api":
            quota = UcdpQuota(store.root / ".quota" / "ucdp.json")
            fetch_ucdp_ged_api(request.client, draft, request.base_url, version=version, start_date=window.start.date(),
                               end_date=(window.end - timedelta(days=1)).date(), quota=quota)
        else:
            dataset = "candidate" if config.format == "candidate" else "ged"
            fetch_ucdp_bulk(request.client, draft, os.environ.get(BULK_URL_ENV) or BULK_BASE_URL,
                            dataset=dataset, version=version)
        return [commit_event_snapshot(store, draft, SOURCE, "http")]


UCDP_GED = SourceSpec(
    source=SOURCE,
    group="conflict_events",
    description="UCDP GED snapshots: API pages for the run's months, or a yearly / monthly candidate release.",
    fetch=fetch_ucdp_ged,
    # A release, an HDX extract and API pages are separate snapshots, as they would be fetched.
    samples=lambda config: [*([p] for p in sample_dir_files(SOURCE) if p.suffix == ".csv"),
                            sample_dir_files(SOURCE, "api")],
    outputs=(StagedOutput(STG_UCDP_GED_EVENT, "UCDP GED events by month of date_start: deaths best/low/high, GW codes "
                          "resolved, release kept.", lambda frame, previous: (*ucdp_ged_suite(frame), "")),),
    fresh_days=45,  # a candidate release every month
    partitions_def=HISTORY,
    partition_column="event_date",
    read=read_ucdp_ged_files,
)

# The partitions span the held data (or THREATWATCH_UCDP_GED_FIRST_PARTITION on), not the publisher's
# whole history: docs/adr/0009.
SPEC = partitions_at_the_data(UCDP_GED)
PARTITIONS = SPEC.partitions_def
ASSETS, CHECKS = build_source_assets(SPEC)
