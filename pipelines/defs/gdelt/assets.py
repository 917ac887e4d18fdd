"""GDELT 2.0 events, partitioned by day: each 15-minute export file is its own snapshot, verified by md5.

A sensor (pipelines/defs/gdelt/schedules.py) asks for each new file as it appears in lastupdate.txt; a backfill over a
day range reads masterfilelist.txt and fetches the exports of those days it does not hold yet.
"""

import hashlib
import re
from pathlib import Path

import polars as pl
from dagster import DailyPartitionsDefinition

from pipelines.lib.acquire import commit_event_snapshot
from pipelines.lib.held_partitions import partitions_at_the_data
from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import FetchRequest, PartialFetchError, SourceSpec, StagedOutput, sample_dir_files
from pipelines.lib.config import SAMPLES_DIR
from pipelines.lib.http import FetchError
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.gdelt.fetch import fetch_gdelt_export, fetch_gdelt_file_list, gdelt_exports_between
from pipelines.lib.staged_tables import STG_GDELT_EVENT
from pipelines.defs.gdelt.checks import gdelt_suite
from transforms.conflict_events.gdelt import read_gdelt_export, read_gdelt_export_zip, read_gdelt_export_zips
from transforms.conflict_events.gdelt_files import parse_gdelt_file_list
from transforms.errors import SourceFormatError

SOURCE = "gdelt"
# GDELT 2.0's first export file is 2015-02-18 23:00 UTC; today's partition fills every 15 minutes.
HISTORY = DailyPartitionsDefinition(start_date="2015-02-18", end_offset=1)
_STAMP = re.compile(r"^(\d{14})\.export\.CSV(\.zip)?$", re.IGNORECASE)  # as listed, or unzipped by hand


def export_day(file_name: str) -> str | None:
    """The day partition of an export file name (20250104161500.export.CSV[.zip] -> 2025-01-04)."""
    m = _STAMP.match(file_name)
    return f"{m[1][:4]}-{m[1][4:6]}-{m[1][6:8]}" if m else None


def read_gdelt_files(files: list[Path], crosswalk: pl.DataFrame, manifest: Manifest) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One export zip: its events, with the file's md5 beside the master list's so the suite can compare."""
    if len(files) != 1 or export_day(files[0].name) is None:
        raise SourceFormatError(SOURCE, ", ".join(f.name for f in files), "a GDELT snapshot holds one <ts>.export.CSV[.zip]")
    path = files[0]
    if path.suffix.lower() == ".zip":
        events, rejected = read_gdelt_export_zip(path, crosswalk)
    else:  # an export unzipped before import: the master list's md5 (of the zip) cannot apply
        events, rejected = read_gdelt_export(path, crosswalk, path.name)
    return _with_md5(events, path, manifest), rejected


def read_many_gdelt_files(snapshots: list[tuple[list[Path], Manifest]],
                          crosswalk: pl.DataFrame) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """read_gdelt_files for each snapshot, the zips typed and checked in one Polars pass."""
    if not all(len(files) == 1 and export_day(files[0].name) and files[0].suffix.lower() == ".zip"
               for files, _ in snapshots):
        return [read_gdelt_files(files, crosswalk, manifest) for files, manifest in snapshots]
    staged = read_gdelt_export_zips([files[0] for files, _ in snapshots], crosswalk)
    return [(_with_md5(events, files[0], manifest), rejected)
            for (files, manifest), (events, rejected) in zip(snapshots, staged, strict=True)]


def _with_md5(events: pl.DataFrame, path: Path, manifest: Manifest) -> pl.DataFrame:
    """The file's md5 beside the master list's, on every event."""
    with path.open("rb") as handle:  # streamed: the zip is read once more, never held whole for its digest
        md5 = hashlib.file_digest(handle, "md5").hexdigest()
    expected = manifest.file(path.name).params.get("expected_md5")
    return events.with_columns(file_md5=pl.lit(md5), expected_md5=pl.lit(expected, pl.Utf8))


def _known_exports(store: SnapshotStore) -> dict[str, str]:
    """Export file name -> md5 of every GDELT snapshot already held."""
    return {f.name: f.params.get("md5") or f.params.get("expected_md5") for m in store.list(SOURCE) for f in m.files}


def fetch_gdelt(request: FetchRequest) -> list[Manifest]:
    """The run's export files not held yet: those the sensor named, else every export of the run's days."""
    store, config = request.store, request.config
    with store.draft(SOURCE) as scratch:  # the file list only says what to fetch; it is not a snapshot itself
        which = "lastupdate" if config.files or config.format == "lastupdate" else "masterfilelist"
        _, listing = fetch_gdelt_file_list(request.client, scratch, request.base_url, which)
        scratch.discard()
    exports = gdelt_exports_between(listing, request.window.start, request.window.end)
    if config.files:
        exports = exports.filter(pl.col("url").is_in(config.files))
    known = _known_exports(store)
    manifests, refused = [], []
    for row in exports.iter_rows(named=True):
        if known.get(row["file_name"]) == row["md5"]:
            continue  # an export file never changes once listed: held with the same md5 means done
        try:
            with store.draft(SOURCE) as draft:
                fetch_gdelt_export(request.client, draft, row["url"], expected_size=row["size"],
                                   expected_md5=row["md5"], base_url=request.base_url)
                manifests.append(commit_event_snapshot(store, draft, SOURCE, "http"))
        except FetchError as exc:  # one bad or missing file must not hold back the rest of the range
            refused.append(str(exc))
    if refused:
        raise PartialFetchError(SOURCE, request.base_url,
                                f"{len(refused)} of {exports.height} exports refused: " + "; ".join(refused[:3]),
                                manifests=manifests)
    return manifests


def sample_params() -> dict[str, dict]:
    """The bundled master list's size and md5 of each sample export, recorded as a fetch would."""
    listing = parse_gdelt_file_list((SAMPLES_DIR / SOURCE / "masterfilelist.txt").read_text(encoding="utf-8"),
                                    "masterfilelist.txt")
    return {r["file_name"]: {"expected_md5": r["md5"], "expected_size": r["size"]}
            for r in listing.iter_rows(named=True)}


GDELT = SourceSpec(
    source=SOURCE,
    group="conflict_events",
    description="GDELT 2.0 export files, one snapshot per 15-minute file, size and md5 checked against the list.",
    fetch=fetch_gdelt,
    samples=lambda config: [[p] for p in sample_dir_files(SOURCE) if export_day(p.name)],
    outputs=(StagedOutput(STG_GDELT_EVENT, "GDELT media-coded events by day added: CAMEO codes as text, FIPS resolved "
                          "to ISO3.", lambda frame, previous: (*gdelt_suite(frame), "")),),
    fresh_days=1,
    partitions_def=HISTORY,
    partition_column="date_added",
    read=read_gdelt_files,
    read_many=read_many_gdelt_files,
    file_partitions=lambda names: sorted({d for n in names if (d := export_day(n))}) or None,
    sample_params=sample_params,
)

# The partitions span the held data (or THREATWATCH_GDELT_FIRST_PARTITION on), not the publisher's
# whole history: docs/adr/0009.
SPEC = partitions_at_the_data(GDELT)
PARTITIONS = SPEC.partitions_def
ASSETS, CHECKS = build_source_assets(SPEC)
