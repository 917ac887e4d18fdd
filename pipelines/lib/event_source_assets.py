"""Partitioned event sources (UCDP GED, ACLED, GDELT): snapshots → partitioned staging → blocking GX.

A run covers a range of partitions (months or days) in one go (single-run backfill policy). The snapshot
asset acquires what the range needs; the staging asset re-reads the snapshots whose rows fall in the range
and replaces exactly those partitions in the lake; the check validates every partition file not yet judged.
"""

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Optional

import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetChecksDefinition,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    MonthlyPartitionsDefinition,
    TimeWindowPartitionsDefinition,
    asset,
    asset_check,
)

from pipelines.lib.acquire import commit_event_snapshot
from pipelines.lib.source_assets import check_result
from pipelines.lib.asset_metadata import frame_preview
from pipelines.lib.http import FetchError
from pipelines.lib.lake import UNDATED, Lake, PartitionedLake, partition_table
from pipelines.lib.progress import ProgressLog
from pipelines.lib.reference import load_country_crosswalk
from pipelines.lib.resources import HttpClientResource, LakeResource, SnapshotStoreResource
from pipelines.lib.snapshots import Manifest, SnapshotStore, prefer_real
from pipelines.lib.credentials import MissingCredentialsError
from pipelines.lib.source_registry import source_info
from pipelines.lib.staged_tables import StagedTable
from pipelines.lib.validation import Expect, run_suite
from transforms.errors import SourceFormatError
from transforms.quarantine import to_quarantine_records

GROUP = "conflict_events"
# A run tagged so adds new snapshots to its partitions instead of replacing them (the GDELT sensor's runs).
INCREMENTAL_TAG = "threatwatch/incremental"
# The tags of a single-run backfill over a partition range (Dagster's own names).
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class EventSnapshotConfig(Config):
    """Per-run options of an event snapshot asset (each source says which it reads)."""

    format: str = "default"  # ucdp_ged: bulk | candidate | api; acled: api; gdelt: masterfilelist | lastupdate
    version: str = ""  # UCDP release, e.g. "25.1", or candidate "26.0.7"
    files: list[str] = []  # GDELT: export URLs the sensor saw in lastupdate.txt (empty: the whole range)


@dataclass(frozen=True)
class EventWindow:
    """The partitions one run covers: [start, end) in UTC and their keys."""

    start: datetime
    end: datetime
    partitions: tuple[str, ...]


@dataclass(frozen=True)
class FetchRequest:
    """What a live fetch gets: the client, the store (a fetch may commit several snapshots), the range."""

    client: object
    store: SnapshotStore
    base_url: str
    config: EventSnapshotConfig
    window: EventWindow


class PartialFetchError(FetchError):
    """Some files of a range were refused; `manifests` are the snapshots that did arrive."""

    def __init__(self, *args, manifests: list[Manifest], **kwargs):
        super().__init__(*args, **kwargs)
        self.manifests = manifests


@dataclass(frozen=True)
class EventSourceAssets:
    """Everything the partitioned factory needs to know about an event source."""

    source: str
    description: str
    partitions_def: TimeWindowPartitionsDefinition
    table: StagedTable
    table_description: str
    fetch: Callable[[FetchRequest], list[Manifest]]  # live: commits one or more snapshots
    sample_groups: Callable[[], list[list[Path]]]  # offline: each inner list becomes one snapshot
    read: Callable[[list[Path], pl.DataFrame, Manifest], "tuple[pl.DataFrame, pl.DataFrame]"]  # files, crosswalk, manifest
    partition_column: str  # the Date/Datetime column whose month or day is the partition
    suite: Callable[[pl.DataFrame], "tuple[list[Expect], pl.DataFrame]"]  # frame -> (expectations, frame to check)
    fresh_days: int
    # The partitions a snapshot's files cover without reading them (GDELT: from the file name); None: read to know.
    file_partitions: Callable[[list[str]], Optional[list[str]]] = lambda names: None
    # Per-file params a sample snapshot records as a fetch would (GDELT: the master list's md5 and size).
    sample_params: Callable[[], dict[str, dict]] = dict

    @property
    def snapshot_key(self) -> AssetKey:
        return AssetKey(["snapshot", self.source])

    @property
    def staging_key(self) -> AssetKey:
        return AssetKey(["staging", self.table.name])

    @property
    def monthly(self) -> bool:
        return isinstance(self.partitions_def, MonthlyPartitionsDefinition)

    def partition_key(self, column: str) -> pl.Expr:
        """The partition key of each row, as Dagster spells it (2024-03-01 for a month, a day for a day)."""
        day = pl.col(column).cast(pl.Date)
        return (day.dt.truncate("1mo") if self.monthly else day).dt.strftime("%Y-%m-%d")


def event_window(context: AssetExecutionContext) -> EventWindow:
    """The run's partition range as a window."""
    window = context.partition_time_window
    return EventWindow(window.start.astimezone(timezone.utc), window.end.astimezone(timezone.utc),
                       tuple(context.partition_keys))


def relevant_snapshots(store: SnapshotStore, lake: PartitionedLake, spec: EventSourceAssets,
                       partitions: tuple[str, ...]) -> list[Manifest]:
    """Snapshots whose rows may fall in `partitions`: real ones (samples only while there are none), and
    of snapshots with the same file names only the newest (a re-fetched file supersedes its earlier copy)."""
    manifests = store.list(spec.source)
    newest: dict[tuple[str, ...], Manifest] = {}
    for m in prefer_real(manifests, lambda m: m.origin):  # oldest first, so the newest wins
        newest[tuple(sorted(f.name for f in m.files))] = m
    wanted = set(partitions)
    chosen = []
    for m in sorted(newest.values(), key=lambda m: m.snapshot_id):
        covered = spec.file_partitions([f.name for f in m.files])
        if covered is None:
            covered = lake.coverage(m.snapshot_id)
        if covered is None or wanted.intersection(covered):
            chosen.append(m)
    return chosen


def _split_rejected(spec: EventSourceAssets, rejected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rejected rows with a usable date (keyed like staged rows) and those without."""
    dtype = rejected.schema.get(spec.partition_column)
    if dtype is not None and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        keyed = rejected.with_columns(spec.partition_key(spec.partition_column).alias("_partition"))
    else:
        keyed = rejected.with_columns(pl.lit(None, pl.Utf8).alias("_partition"))
    return keyed.filter(pl.col("_partition").is_not_null()), keyed.filter(pl.col("_partition").is_null()).drop("_partition")


def stage_window(spec: EventSourceAssets, store: SnapshotStore, lake: Lake, partitions: tuple[str, ...],
                 crosswalk: pl.DataFrame, incremental: bool = False,
                 on_progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, dict[str, int]], int]:
    """Re-stage exactly `partitions` from the snapshots covering them.

    Each snapshot's rows are written as soon as it is read (memory holds one snapshot, not the range); the
    new partition folders are swapped in together at the end, so a failure leaves every partition as it was.
    `incremental` (the GDELT sensor): only snapshots not yet staged are read and added beside the partition's
    files, so a new 15-minute file costs its own rows, not its day's.
    `on_progress(done, total)` hears of each snapshot read.
    Returns partition -> snapshot -> rows staged, and the rows quarantined from the snapshots read.
    """
    plake = PartitionedLake(lake, spec.table.name)
    wanted = set(partitions)
    counts: dict[str, dict[str, int]] = {p: {} for p in partitions}
    held = {s for p in partitions for s in plake.files(p)} if incremental else set()
    buildings = {} if incremental else {p: plake.start_replacement(p) for p in partitions}
    quarantined = 0
    try:
        todo = [m for m in relevant_snapshots(store, plake, spec, partitions) if m.snapshot_id not in held]
        for done, manifest in enumerate(todo, 1):
            quarantined += _stage_snapshot(spec, store, lake, plake, manifest, crosswalk, wanted, buildings, counts)
            if on_progress:
                on_progress(done, len(todo))
    except BaseException:
        for building in buildings.values():
            plake.discard_replacement(building)
        raise
    for partition, building in buildings.items():  # an empty partition is replaced too: its rows were withdrawn
        plake.finish_replacement(partition, building)
    return counts, quarantined


def _stage_snapshot(spec: EventSourceAssets, store: SnapshotStore, lake: Lake, plake: PartitionedLake,
                    manifest: Manifest, crosswalk: pl.DataFrame, wanted: set[str], buildings: dict[str, Path],
                    counts: dict[str, dict[str, int]]) -> int:
    """Read one snapshot and write its rows of the wanted partitions; returns how many rows it rejected."""
    files = [store.file_path(manifest, f.name) for f in manifest.files]
    try:
        frame, rejected = spec.read(files, crosswalk, manifest)
    except SourceFormatError as exc:
        raise exc.with_snapshot(manifest.snapshot_id) from exc
    frame = frame.with_columns(pl.lit(manifest.snapshot_id, pl.Utf8).alias("snapshot_id"),
                               spec.partition_key(spec.partition_column).alias("_partition"))
    rejected = rejected.with_columns(pl.lit(manifest.snapshot_id, pl.Utf8).alias("snapshot_id"))
    keyed_rejects, undated = _split_rejected(spec, rejected)
    covered = set(frame["_partition"].drop_nulls().unique()) | set(keyed_rejects["_partition"].unique())
    plake.record_coverage(manifest.snapshot_id, sorted(covered))
    lake.write_quarantine(partition_table(spec.table.name, UNDATED), manifest.snapshot_id,
                          to_quarantine_records(undated, source=spec.source, table=spec.table.name))
    for partition in sorted(covered & wanted):
        rows = frame.filter(pl.col("_partition") == partition).drop("_partition")
        rejects = to_quarantine_records(keyed_rejects.filter(pl.col("_partition") == partition).drop("_partition"),
                                        source=spec.source, table=spec.table.name)
        if partition in buildings:
            plake.write_replacement(buildings[partition], manifest.snapshot_id, rows, rejects)
        else:  # incremental: beside the partition's other files
            lake.write(partition_table(spec.table.name, partition), manifest.snapshot_id, rows)
            lake.write_quarantine(partition_table(spec.table.name, partition), manifest.snapshot_id, rejects)
        counts[partition][manifest.snapshot_id] = rows.height
    return rejected.height


def build_event_source_assets(spec: EventSourceAssets) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The partitioned snapshot asset, the partitioned staging asset and its blocking GX check."""
    with warnings.catch_warnings():
        # A single-run backfill policy is what makes a range one run; Dagster still labels it beta.
        warnings.simplefilter("ignore", BetaWarning)
        return _build_event_source_assets(spec)


def _build_event_source_assets(spec: EventSourceAssets) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:

    @asset(
        key=spec.snapshot_key,
        group_name=GROUP,
        kinds={"http"},
        partitions_def=spec.partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        freshness_policy=FreshnessPolicy.time_window(
            fail_window=timedelta(days=spec.fresh_days + 1), warn_window=timedelta(days=spec.fresh_days)),
        check_specs=[AssetCheckSpec("fetch_succeeded", asset=spec.snapshot_key,
                                    description="The publisher answered; a failure means the last snapshots were kept.")],
        description=spec.description,
    )
    def snapshot_asset(context: AssetExecutionContext, config: EventSnapshotConfig, http: HttpClientResource,
                       snapshots: SnapshotStoreResource):
        store, window = snapshots.store(), event_window(context)
        problem = None
        if http.offline:
            has_real = any(m.origin != "sample" for m in store.list(spec.source))
            manifests = [] if has_real else [register_event_sample(store, spec.source, g, spec.sample_params())
                                         for g in spec.sample_groups()]
            how = "offline: existing snapshots" if has_real else "sample"
        else:
            try:
                request = FetchRequest(http.client(), store, source_info(spec.source).base_url(), config, window)
                manifests, how = spec.fetch(request), "fetched"
            except (FetchError, MissingCredentialsError) as exc:
                # One publisher's outage must not freeze the warehouse: the partitions keep their last snapshots.
                manifests = getattr(exc, "manifests", [])
                how, problem = "partly fetched" if manifests else "kept (fetch failed)", str(exc)
                context.log.warning(f"{spec.source}: {problem}; partitions {window.partitions[0]}…"
                                    f"{window.partitions[-1]} keep their last snapshots")
        context.log.info(f"{spec.source}: {len(manifests)} snapshots for {len(window.partitions)} partitions ({how})")
        yield MaterializeResult(metadata={
            "how": how,
            "snapshot_id": max((m.snapshot_id for m in manifests), default="none"),
            "snapshot_ids": MetadataValue.json(sorted({m.snapshot_id for m in manifests})),
            "files": sum(len(m.files) for m in manifests),
            "bytes": sum(f.bytes for m in manifests for f in m.files),
            "licence": source_info(spec.source).licence,
            "partitions": f"{window.partitions[0]} … {window.partitions[-1]} ({len(window.partitions)})",
            **({"problem": problem} if problem else {}),
        })
        yield AssetCheckResult(check_name="fetch_succeeded", passed=problem is None, severity=AssetCheckSeverity.WARN,
                               description=problem or f"{how}: {len(manifests)} snapshots")

    @asset(
        key=spec.staging_key,
        deps=[spec.snapshot_key],
        group_name=GROUP,
        kinds={"polars", "parquet"},
        partitions_def=spec.partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        description=spec.table_description,
    )
    def staging_asset(context: AssetExecutionContext, snapshots: SnapshotStoreResource, lake: LakeResource):
        window = event_window(context)
        incremental = context.run.tags.get(INCREMENTAL_TAG) == "true"
        counts, quarantined = stage_window(spec, snapshots.store(), lake.lake(), window.partitions,
                                           load_country_crosswalk(), incremental=incremental,
                                           on_progress=ProgressLog(context.log, "snapshots staged"))
        rows = sum(n for by_snapshot in counts.values() for n in by_snapshot.values())
        filled = sorted(p for p, by_snapshot in counts.items() if by_snapshot)
        latest = filled[-1] if filled else None
        preview = lake.lake().read(partition_table(spec.table.name, latest), max(counts[latest])) if latest else None
        return MaterializeResult(metadata={
            "dagster/row_count": rows,
            "quarantined_rows": quarantined,
            "mode": "incremental" if incremental else "replace",
            "partitions": len(window.partitions),
            "partitions_with_rows": len(filled),
            "snapshots_read": MetadataValue.json(sorted({s for by in counts.values() for s in by})),
            **({"preview": frame_preview(preview)} if preview is not None else {}),
        })

    return [snapshot_asset, staging_asset], [_build_event_check(spec)]


def register_event_sample(store: SnapshotStore, source: str, files: list[Path],
                          params: dict[str, dict] | None = None) -> Manifest:
    """One bundled sample group as a snapshot (with per-file params, as a fetch records them); the same files
    again reuse their snapshot."""
    with store.draft(source) as draft:
        for path in files:
            draft.add_local_file(path, url=path.resolve().as_uri(), params=(params or {}).get(path.name))
        return commit_event_snapshot(store, draft, source, "sample")


# Rows validated in one suite run. GX costs about a second per run whatever the size, so pending partitions
# are judged in batches (a month-by-month backfill is not hundreds of runs); the cap bounds the pandas copy
# GX needs (GDELT: 250,000 rows, about a day, peak ~1.2 GB; benchmarks/gdelt_scale.py).
VALIDATION_BATCH_ROWS = 250_000


def validate_pending(spec: EventSourceAssets, lake: Lake, docs_dir: Path | None,
                     batch_rows: int = VALIDATION_BATCH_ROWS, on_progress: Callable[[int, int], None] | None = None):
    """Validate every staged partition file without a verdict; each file gets the verdict of its batch.

    Batches are planned from the files' row counts (Parquet metadata) and read one batch at a time.
    """
    plake = PartitionedLake(lake, spec.table.name)
    batches: list[list[tuple[str, str]]] = [[]]
    rows_in_batch = 0
    for partition, snapshot_ids in plake.pending().items():
        for snapshot_id in snapshot_ids:
            path = lake.path(partition_table(spec.table.name, partition), snapshot_id)
            rows = pl.scan_parquet(path).select(pl.len()).collect().item()
            if batches[-1] and rows_in_batch + rows > batch_rows:
                batches.append([])
                rows_in_batch = 0
            batches[-1].append((partition, snapshot_id))
            rows_in_batch += rows
    reports = []
    batches = [b for b in batches if b]
    for done, batch in enumerate(batches, 1):
        partitions = sorted({p for p, _ in batch})
        label = partitions[0] if len(partitions) == 1 else f"{partitions[0]}..{partitions[-1]}"
        frames = [lake.read(partition_table(spec.table.name, p), s) for p, s in batch]
        expectations, frame = spec.suite(pl.concat(frames, how="vertical_relaxed"))
        del frames
        report = run_suite(frame, suite=f"{spec.table.name}_suite", table=spec.table.name,
                           snapshot_id=f"{label} ({len(batch)} files)", expectations=expectations, docs_dir=docs_dir)
        for partition, snapshot_id in batch:
            lake.record_validation(partition_table(spec.table.name, partition), snapshot_id, report)
        reports.append((label, report))
        if on_progress:
            on_progress(done, len(batches))
    return reports


def _build_event_check(spec: EventSourceAssets) -> AssetChecksDefinition:
    @asset_check(asset=spec.staging_key, name=f"gx_{spec.table.name}", blocking=True,
                 description=f"Great Expectations suite on each new partition of {spec.table.name}; "
                             "a failure blocks publication.")
    def gx_check(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        reports = validate_pending(spec, lake.lake(), lake.paths().validation_docs,
                                   on_progress=ProgressLog(context.log, "batches validated"))
        if not reports:
            return AssetCheckResult(passed=True, description="no new partition files to validate")
        notes = [f"[{spec.source}] partitions {p} failed their suite" for p, r in reports if not r.success]
        for note in notes:
            context.log.error(note)
        return check_result([r for _, r in reports], notes)

    return gx_check


def covered_partitions(spec: EventSourceAssets, store: SnapshotStore, lake: Lake, crosswalk: pl.DataFrame) -> list[str]:
    """The partitions the held snapshots (or, with none, the bundled samples) fill: what an offline run stages."""
    plake = PartitionedLake(lake, spec.table.name)
    manifests = store.list(spec.source)
    if any(m.origin != "sample" for m in manifests):
        groups = [([store.file_path(m, f.name) for f in m.files], m) for m in
                  relevant_snapshots(store, plake, spec, tuple(spec.partitions_def.get_partition_keys()))]
    else:
        groups = [(files, None) for files in spec.sample_groups()]
    keys: set[str] = set()
    for files, manifest in groups:
        known = spec.file_partitions([f.name for f in files])
        if known is None and manifest is not None:
            known = plake.coverage(manifest.snapshot_id)
        if known is None:
            frame, _ = spec.read(files, crosswalk, manifest)
            known = frame.select(spec.partition_key(spec.partition_column)).to_series().drop_nulls().unique().to_list()
        keys.update(known)
    return sorted(keys & set(spec.partitions_def.get_partition_keys()))


def page_order(path: Path) -> tuple[str, int]:
    """Sort API page files by their page number (`…_p10.json` after `…_p2.json`), not alphabetically."""
    stem, _, number = path.stem.rpartition("_p")
    return (stem, int(number)) if number.isdigit() else (path.stem, -1)
