"""Weekly warehouse maintenance: merge small files, expire snapshots past the retention, delete unused files."""

# No `from __future__ import annotations`: Dagster reads the config and resource types from the signature.
from datetime import timedelta
from typing import Optional

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    Config,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
    define_asset_job,
)

from pipelines.lib.asset_metadata import asset_owners, asset_tags
from pipelines.lib.config import SNAPSHOT_RETENTION_ENV, snapshot_retention_from_env
from pipelines.lib.ducklake import CatalogConfig, connect_warehouse
from pipelines.lib.ducklake_maintenance import DEFAULT_FILE_GRACE, maintain_warehouse
from pipelines.lib.resources import WarehouseResource


class MaintenanceConfig(Config):
    """Launchpad settings; the defaults are what the schedule runs."""

    retention_days: Optional[int] = None  # None: THREATWATCH_SNAPSHOT_RETENTION_DAYS (default 30)
    # After a crash, 0 deletes the crashed writer's files now instead of a week later (no publish may run).
    file_grace_hours: float = DEFAULT_FILE_GRACE.total_seconds() / 3600


# Its own group: the warehouse group is what publish_job selects, and maintenance is not a publish.
# The `warehouse` pool (one slot) keeps it from ever running beside a publish.
@asset(group_name="maintenance", pool="warehouse", kinds={"ducklake"},
       owners=asset_owners("warehouse"), tags=asset_tags("maintenance", "warehouse"),
       description="Merge the warehouse's small Parquet files, expire DuckLake snapshots older than "
                   f"{SNAPSHOT_RETENTION_ENV} and delete files no snapshot uses (expired, merged away, or "
                   "left by a crashed writer).")
def warehouse_maintenance(context: AssetExecutionContext, config: MaintenanceConfig, warehouse: WarehouseResource) -> MaterializeResult:
    paths = warehouse.paths()
    catalog = CatalogConfig.from_env(paths)
    retention = timedelta(days=config.retention_days) if config.retention_days else snapshot_retention_from_env()
    if not catalog.exists():  # a fresh machine: nothing to maintain, and maintenance must not create a catalog
        context.log.info(f"no warehouse at {catalog.describe()} yet: nothing to maintain")
        return MaterializeResult(metadata={"catalog": MetadataValue.text(catalog.describe()), "published": False})
    with connect_warehouse(paths) as con:
        report = maintain_warehouse(con, retention, timedelta(hours=config.file_grace_hours))
        snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots('warehouse')").fetchone()[0]
    context.log.info(f"maintained {catalog.describe()}: {report}")
    return MaterializeResult(metadata={
        **report.as_metadata(),
        "snapshots_kept": snapshots,
        "retention_days": retention.days,
        "catalog": MetadataValue.text(catalog.describe()),
    })


warehouse_maintenance_job = define_asset_job(
    "warehouse_maintenance_job", selection=AssetSelection.assets(warehouse_maintenance),
    description="Merge small files, expire old snapshots, delete unused files of the warehouse DuckLake.")

# Sunday 03:00 UTC, when no source publishes on a schedule. On by default: it touches no network, keeps
# every snapshot inside the retention, and without it replaced GDELT partitions pile up on disk.
warehouse_maintenance_weekly = ScheduleDefinition(
    name="warehouse_maintenance_weekly", job=warehouse_maintenance_job, cron_schedule="0 3 * * 0",
    execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING,
    description="Weekly DuckLake maintenance of the warehouse.")

ASSETS, JOBS, SCHEDULES, SENSORS = [warehouse_maintenance], [warehouse_maintenance_job], [warehouse_maintenance_weekly], []
