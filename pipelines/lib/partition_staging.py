"""Staging of a partitioned (event) source: a run's range of months or days re-staged in one go.

The staging asset re-reads the snapshots whose rows fall in the range and replaces exactly those partitions
in the lake (single-run backfill policy: a range is one run, not one run per partition).
"""

from pathlib import Path
from typing import Callable

import polars as pl
from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy, MaterializeResult, MetadataValue, asset

from pipelines.lib.asset_metadata import asset_owners, asset_tags, frame_preview
from pipelines.lib.column_docs import column_schema_metadata
from pipelines.lib.lake import UNDATED, Lake, PartitionedLake, partition_table
from pipelines.lib.progress import ProgressLog
from pipelines.lib.reference import load_country_crosswalk
from pipelines.lib.resources import LakeResource, SnapshotStoreResource
from pipelines.lib.held_partitions import held_coverage, newest_snapshots
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_spec import INCREMENTAL_TAG, ROWS_IN_RUN, SourceSpec, event_window
from pipelines.lib.validation import warm_up
from transforms.errors import SourceFormatError
from transforms.quarantine import to_quarantine_records


# Snapshots read in one go by a spec with read_many: 25 GDELT files (62,500 rows) save most of the per-file
# cost (benchmarks: 200 files in 1.9 s, not 3.1-3.5 s one by one) and hold ~100 MB of raw text.
READ_BATCH = 25


def relevant_snapshots(store: SnapshotStore, lake: PartitionedLake, spec: SourceSpec,
                       partitions: tuple[str, ...]) -> list[Manifest]:
    """Snapshots whose rows may fall in `partitions`: real ones (samples only while there are none), and
    of snapshots with the same file names only the newest (a re-fetched file supersedes its earlier copy)."""
    wanted = set(partitions)
    chosen = []
    for m in newest_snapshots(store.list(spec.source)):
        covered = spec.file_partitions([f.name for f in m.files])
        if covered is None:
            covered = lake.coverage(m.snapshot_id)
        if covered is None or wanted.intersection(covered):
            chosen.append(m)
    return chosen


def _split_rejected(spec: SourceSpec, rejected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rejected rows with a usable date (keyed like staged rows) and those without."""
    dtype = rejected.schema.get(spec.partition_column)
    if dtype is not None and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        keyed = rejected.with_columns(spec.partition_key(spec.partition_column).alias("_partition"))
    else:
        keyed = rejected.with_columns(pl.lit(None, pl.Utf8).alias("_partition"))
    return keyed.filter(pl.col("_partition").is_not_null()), keyed.filter(pl.col("_partition").is_null()).drop("_partition")


def stage_window(spec: SourceSpec, store: SnapshotStore, lake: Lake, partitions: tuple[str, ...],
                 crosswalk: pl.DataFrame, incremental: bool = False,
                 on_progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, dict[str, int]], int]:
    """Re-stage exactly `partitions` from the snapshots covering them.

    Each snapshot's rows are written as soon as it is read (memory holds one snapshot, or one batch of
    READ_BATCH small ones for a source that reads many at once, not the range); the
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
        step = READ_BATCH if spec.read_many is not None else 1
        for first in range(0, len(todo), step):
            batch = todo[first:first + step]
            for done, (manifest, (frame, rejected)) in enumerate(
                    zip(batch, _read(spec, store, batch, crosswalk), strict=True), first + 1):
                quarantined += _write_snapshot(spec, lake, plake, manifest, frame, rejected, wanted, buildings, counts)
                if on_progress:
                    on_progress(done, len(todo))
    except BaseException:
        for building in buildings.values():
            plake.discard_replacement(building)
        raise
    for partition, building in buildings.items():  # an empty partition is replaced too: its rows were withdrawn
        plake.finish_replacement(partition, building)
    return counts, quarantined


def _read(spec: SourceSpec, store: SnapshotStore, manifests: list[Manifest],
          crosswalk: pl.DataFrame) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """(staged frame, rejected rows) of each snapshot; a format error names the snapshot of the bad file."""
    groups = [([store.file_path(m, f.name) for f in m.files], m) for m in manifests]
    try:
        if spec.read_many is not None:
            return spec.read_many(groups, crosswalk)
        return [spec.read(files, crosswalk, manifest) for files, manifest in groups]
    except SourceFormatError as exc:
        owner = next((m for files, m in groups if exc.file in {f.name for f in files}), None)
        if owner is None:
            raise
        raise exc.with_snapshot(owner.snapshot_id) from exc


def _write_snapshot(spec: SourceSpec, lake: Lake, plake: PartitionedLake, manifest: Manifest, frame: pl.DataFrame,
                    rejected: pl.DataFrame, wanted: set[str], buildings: dict[str, Path],
                    counts: dict[str, dict[str, int]]) -> int:
    """Write one snapshot's rows of the wanted partitions; returns how many rows it rejected."""
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


def covered_partitions(spec: SourceSpec, store: SnapshotStore, lake: Lake, crosswalk: pl.DataFrame) -> list[str]:
    """The partitions the held snapshots (or, with none, the bundled samples) fill: what an offline run stages."""
    return sorted(set(held_coverage(spec, store, lake, crosswalk)) & set(spec.partitions_def.get_partition_keys()))


def build_partitioned_staging_asset(spec: SourceSpec) -> AssetsDefinition:
    """The staging asset of an event source, on the source's partitions."""

    @asset(
        key=spec.staging_key,
        deps=[spec.snapshot_key],
        group_name=spec.group,
        kinds={"polars", "parquet"},
        partitions_def=spec.partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        description=spec.outputs[0].description,
        owners=asset_owners(spec.group),
        tags=asset_tags("staging", spec.group, spec.source),
        metadata=column_schema_metadata(spec.table.warehouse_table),
    )
    def staging_asset(context: AssetExecutionContext, snapshots: SnapshotStoreResource, lake: LakeResource):
        warm_up()  # the blocking GX check runs next in this process: GX imports while Polars stages
        window = event_window(context)
        incremental = context.run.tags.get(INCREMENTAL_TAG) == "true"
        counts, quarantined = stage_window(spec, snapshots.store(), lake.lake(), window.partitions,
                                           load_country_crosswalk(), incremental=incremental,
                                           on_progress=ProgressLog(context.log, "snapshots staged"))
        rows = sum(n for by_snapshot in counts.values() for n in by_snapshot.values())
        filled = sorted(p for p, by_snapshot in counts.items() if by_snapshot)
        latest = filled[-1] if filled else None
        preview = lake.lake().read(partition_table(spec.table.name, latest), max(counts[latest])) if latest else None
        for partition, by_snapshot in counts.items():  # a range run's partitions each say their own rows
            context.add_asset_metadata({"dagster/row_count": sum(by_snapshot.values()),
                                        "snapshots": MetadataValue.json(sorted(by_snapshot))}, partition_key=partition)
        return MaterializeResult(metadata={
            ROWS_IN_RUN: rows,
            "quarantined_rows": quarantined,
            "mode": "incremental" if incremental else "replace",
            "partitions": len(window.partitions),
            "partitions_with_rows": len(filled),
            "snapshots_read": MetadataValue.json(sorted({s for by in counts.values() for s in by})),
            **({"preview": frame_preview(preview)} if preview is not None else {}),
        })

    return staging_asset
