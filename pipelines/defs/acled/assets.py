"""ACLED events, partitioned by month: OAuth API pulls of the run's months, or CSV exports imported by hand."""

from datetime import timedelta
from pathlib import Path

import polars as pl
from dagster import MonthlyPartitionsDefinition

from pipelines.lib.acquire import commit_event_snapshot
from pipelines.lib.held_partitions import partitions_at_the_data
from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import FetchRequest, SourceSpec, StagedOutput, page_order, sample_dir_files
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.defs.acled.fetch import AcledAuth, fetch_acled_events
from pipelines.lib.staged_tables import STG_ACLED_EVENT
from pipelines.lib.suites.conflict import event_suite
from transforms.conflict_events.acled import read_acled_api_pages, read_acled_csv
from transforms.errors import SourceFormatError

SOURCE = "acled"
# ACLED's oldest data (Africa) starts in 1997; the current month is open and revised weekly.
HISTORY = MonthlyPartitionsDefinition(start_date="1997-01-01", end_offset=1)


def read_acled_files(files: list[Path], crosswalk: pl.DataFrame, manifest: Manifest) -> tuple[pl.DataFrame, pl.DataFrame]:
    """API pages of one pull together; each CSV export on its own."""
    pages = sorted([f for f in files if f.suffix.lower() == ".json"], key=page_order)
    parts = [read_acled_api_pages(pages, crosswalk)] if pages else []
    for path in files:
        if path.suffix.lower() == ".csv":
            parts.append(read_acled_csv(path, crosswalk))
        elif path not in pages:
            raise SourceFormatError(SOURCE, path.name, "not an ACLED export (.csv) or API page (.json)")
    if not parts:
        raise SourceFormatError(SOURCE, "(none)", "the snapshot has no files")
    return (pl.concat([p[0] for p in parts], how="diagonal_relaxed"),
            pl.concat([p[1] for p in parts], how="diagonal_relaxed"))


def fetch_acled(request: FetchRequest) -> list[Manifest]:
    """One API pull of the run's months (OAuth password grant, token refreshed as needed)."""
    window, store = request.window, request.store
    auth = AcledAuth(request.client, request.base_url)
    with store.draft(SOURCE) as draft:
        fetch_acled_events(request.client, draft, request.base_url, start_date=window.start.date(),
                           end_date=(window.end - timedelta(days=1)).date(), auth=auth)
        return [commit_event_snapshot(store, draft, SOURCE, "http")]


ACLED = SourceSpec(
    source=SOURCE,
    group="conflict_events",
    description="ACLED snapshots: one authenticated API pull per run over its months (terms restrict redistribution).",
    fetch=fetch_acled,
    samples=lambda config: [[p for p in sample_dir_files(SOURCE) if p.suffix == ".csv"], sample_dir_files(SOURCE, "api")],
    outputs=(StagedOutput(STG_ACLED_EVENT, "ACLED events by month of event_date: ISO numeric resolved, fatalities as "
                          "published.", lambda frame, previous: (*event_suite(SOURCE, 1997, frame), "")),),
    fresh_days=8,  # ACLED publishes weekly
    partitions_def=HISTORY,
    partition_column="event_date",
    read=read_acled_files,
)

# The partitions span the held data (or THREATWATCH_ACLED_FIRST_PARTITION on), not the publisher's
# whole history: docs/adr/0009.
SPEC = partitions_at_the_data(ACLED)
PARTITIONS = SPEC.partitions_def
ASSETS, CHECKS = build_source_assets(SPEC)
