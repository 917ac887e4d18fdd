"""The one asset factory: a `SourceSpec` (pipelines/lib/source_spec.py) becomes the source's Dagster definitions.

snapshot asset (lib/snapshot_asset.py) → staging (lib/staging.py, or lib/partition_staging.py for a spec
with partitions) → one blocking GX check per staged table (lib/source_checks.py).
"""

from __future__ import annotations

import warnings

from dagster import AssetChecksDefinition, AssetsDefinition, BetaWarning

from pipelines.lib.partition_staging import build_partitioned_staging_asset
from pipelines.lib.snapshot_asset import build_snapshot_asset
from pipelines.lib.source_checks import build_checks
from pipelines.lib.source_spec import SourceSpec
from pipelines.lib.staging import build_staging_asset


def build_source_assets(spec: SourceSpec) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The snapshot asset, the staging asset(s) and one blocking GX check per staged table."""
    with warnings.catch_warnings():
        # A single-run backfill policy is what makes a partition range one run; Dagster still labels it beta.
        warnings.simplefilter("ignore", BetaWarning)
        snapshot = build_snapshot_asset(spec)
        staging = build_partitioned_staging_asset(spec) if spec.partitioned else build_staging_asset(spec)
    return [snapshot, staging], build_checks(spec)
