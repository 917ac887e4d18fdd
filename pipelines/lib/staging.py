"""Staging of an unpartitioned source: each snapshot staged whole into the source's tables, one multi-asset."""

import polars as pl
from dagster import AssetExecutionContext, AssetsDefinition, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines.lib.asset_metadata import asset_owners, asset_tags, frame_preview, frame_schema
from pipelines.lib.column_docs import column_schema_metadata
from pipelines.lib.lake import Lake
from pipelines.lib.resources import LakeResource, SnapshotStoreResource
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_spec import SourceSpec
from transforms.errors import SourceFormatError
from transforms.quarantine import to_quarantine_records


def snapshots_to_stage(store: SnapshotStore, lake: Lake, spec: SourceSpec) -> list[Manifest]:
    """Snapshots never staged (every release is kept), plus the latest so a code change re-stages it."""
    manifests = store.list(spec.source)
    if not manifests:
        return []  # the snapshot asset has already said why, loudly; nothing to stage is not an error
    first = spec.outputs[0].table.name
    failed = lake.failed(first)
    staged = set(lake.snapshots(first))
    todo = [m for m in manifests[:-1] if m.snapshot_id not in staged and m.snapshot_id not in failed]
    return todo + [manifests[-1]]


def build_staging_asset(spec: SourceSpec) -> AssetsDefinition:
    """One multi-asset staging every pending snapshot of the source into all its tables."""

    @multi_asset(
        name=f"{spec.source}_staging",
        specs=[
            AssetSpec(o.key, deps=[spec.snapshot_key], group_name=spec.group, kinds={"polars", "parquet"},
                      description=o.description, owners=asset_owners(spec.group),
                      tags=asset_tags("staging", spec.group, spec.source),
                      metadata=column_schema_metadata(o.table.warehouse_table))
            for o in spec.outputs
        ],
    )
    def staging_asset(context: AssetExecutionContext, snapshots: SnapshotStoreResource, lake: LakeResource):
        store, lake_ = snapshots.store(), lake.lake()
        staged: dict[str, list[tuple[str, pl.DataFrame, int]]] = {o.table.name: [] for o in spec.outputs}
        for manifest in snapshots_to_stage(store, lake_, spec):
            files = [store.file_path(manifest, f.name) for f in manifest.files]
            try:
                tables = spec.stage(files, manifest.snapshot_id)
            except SourceFormatError as exc:
                named = exc.with_snapshot(manifest.snapshot_id)
                lake_.record_staging_failure(spec.outputs[0].table.name, manifest.snapshot_id, str(named))
                raise named from exc
            for o in spec.outputs:
                frame, rejected = tables[o.table.name]
                lake_.write(o.table.name, manifest.snapshot_id, frame)
                lake_.write_quarantine(o.table.name, manifest.snapshot_id,
                                       to_quarantine_records(rejected, source=spec.source, table=o.table.name))
                staged[o.table.name].append((manifest.snapshot_id, frame, rejected.height))
        for o in spec.outputs:
            if not staged[o.table.name]:
                yield MaterializeResult(asset_key=o.key, metadata={"snapshot_id": "none", "dagster/row_count": 0})
                continue
            snapshot_id, frame, quarantined = staged[o.table.name][-1]
            yield MaterializeResult(
                asset_key=o.key,
                metadata={
                    "snapshot_id": snapshot_id,
                    "snapshots_staged": MetadataValue.json([s for s, _, _ in staged[o.table.name]]),
                    "dagster/row_count": frame.height,
                    "quarantined_rows": quarantined,
                    "preview": frame_preview(frame),
                    "dagster/column_schema": frame_schema(frame, o.table.warehouse_table).value,
                },
            )

    return staging_asset
