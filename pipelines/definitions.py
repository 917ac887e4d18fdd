"""The ThreatWatch code location: every asset, check, resource, job and schedule (DESIGN §5)."""

from __future__ import annotations

import os

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job

from pipelines.assets import nato, reconciliation, sipri, warehouse, worldbank
from pipelines.resources import HttpClientResource, LakeResource, SnapshotStoreResource, WarehouseResource

ALL_ASSETS = [*worldbank.ASSETS, *sipri.ASSETS, *nato.ASSETS, *warehouse.ASSETS]
ALL_CHECKS = [*worldbank.CHECKS, *sipri.CHECKS, *nato.CHECKS, *reconciliation.CHECKS]

# Every asset and check, in one run: what `threatwatch run` and the Quickstart execute.
threatwatch_job = define_asset_job("threatwatch_job", selection=AssetSelection.all())

defense_spending_job = define_asset_job(
    "defense_spending_job",
    selection=AssetSelection.groups("defense_spending") | AssetSelection.groups("warehouse"),
    description="Refresh the defence-spending sources and republish.",
)

# WDI is revised several times a year; a weekly look is cheap because unchanged content creates no snapshot.
defense_spending_weekly = ScheduleDefinition(
    name="defense_spending_weekly",
    job=defense_spending_job,
    cron_schedule="0 6 * * 1",
    execution_timezone="UTC",
)


def build_definitions(offline: bool = False) -> Definitions:
    """The Definitions object; `offline=True` runs every source from snapshots and bundled samples."""
    return Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[threatwatch_job, defense_spending_job],
        schedules=[defense_spending_weekly],
        resources={
            "http": HttpClientResource(offline=offline),
            "snapshots": SnapshotStoreResource(),
            "lake": LakeResource(),
            "warehouse": WarehouseResource(),
        },
    )


# THREATWATCH_OFFLINE=1 makes the UI run from snapshots and samples too (demos, air-gapped analysts).
defs = build_definitions(offline=os.environ.get("THREATWATCH_OFFLINE", "").lower() in ("1", "true", "yes"))
