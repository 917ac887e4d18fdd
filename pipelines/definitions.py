"""The ThreatWatch code location: every asset, check, resource, job and schedule (DESIGN §5)."""

from __future__ import annotations

import os

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job

from pipelines.defs.acled import assets as acled
from pipelines.defs.cfr import assets as cfr
from pipelines.defs.cisa_kev import assets as cisa_kev
from pipelines.defs.dcid import assets as dcid
from pipelines.defs.eurepoc import assets as eurepoc
from pipelines.defs.gdelt import assets as gdelt
from pipelines.defs.mitre_attack import assets as mitre_attack
from pipelines.defs.nato import assets as nato
from pipelines.defs.warehouse import checks as reconciliation
from pipelines.defs.sipri import assets as sipri
from pipelines.defs.ucdp_acd import assets as ucdp_acd
from pipelines.defs.ucdp_ged import assets as ucdp_ged
from pipelines.defs.warehouse import assets as warehouse
from pipelines.defs.worldbank import assets as worldbank
from pipelines.defs.automation import CONFLICT_JOBS, CONFLICT_SCHEDULES, CONFLICT_SENSORS
from pipelines.lib.resources import HttpClientResource, LakeResource, SnapshotStoreResource, WarehouseResource

SOURCES = [worldbank, sipri, nato, eurepoc, cfr, dcid, cisa_kev, mitre_attack, ucdp_acd]
# Partitioned by month or day; a Dagster job covers one partitioning, so these run as their own jobs.
EVENT_SOURCES = [ucdp_ged, acled, gdelt]
ALL_ASSETS = [*(a for m in SOURCES + EVENT_SOURCES for a in m.ASSETS), *warehouse.ASSETS]
ALL_CHECKS = [*(c for m in SOURCES + EVENT_SOURCES for c in m.CHECKS), *reconciliation.CHECKS]
EVENT_ASSETS = AssetSelection.assets(*(a for m in EVENT_SOURCES for a in m.ASSETS))

# Every unpartitioned asset and check in one run; `threatwatch run` (the Quickstart) runs the event jobs
# over their ranges first, then this, so one command still materializes every asset.
threatwatch_job = define_asset_job("threatwatch_job", selection=AssetSelection.all() - EVENT_ASSETS)

cyber_incidents_job = define_asset_job(
    "cyber_incidents_job",
    selection=AssetSelection.groups("cyber_incidents") | AssetSelection.groups("warehouse"),
    description="Refresh the cyber-incident sources and republish.",
)

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


# KEV changes on weekdays; the incident catalogues and ATT&CK change weekly at most.
kev_daily = ScheduleDefinition(name="kev_daily", job=define_asset_job(
    "kev_job", selection=AssetSelection.keys("snapshot/cisa_kev").downstream()), cron_schedule="0 20 * * 1-5",
    execution_timezone="UTC")
cyber_incidents_weekly = ScheduleDefinition(name="cyber_incidents_weekly", job=cyber_incidents_job,
                                            cron_schedule="0 7 * * 1", execution_timezone="UTC")


def build_definitions(offline: bool = False) -> Definitions:
    """The Definitions object; `offline=True` runs every source from snapshots and bundled samples."""
    return Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[threatwatch_job, defense_spending_job, cyber_incidents_job, kev_daily.job, *CONFLICT_JOBS],
        schedules=[defense_spending_weekly, kev_daily, cyber_incidents_weekly, *CONFLICT_SCHEDULES],
        sensors=CONFLICT_SENSORS,
        resources={
            "http": HttpClientResource(offline=offline),
            "snapshots": SnapshotStoreResource(),
            "lake": LakeResource(),
            "warehouse": WarehouseResource(),
        },
    )


# THREATWATCH_OFFLINE=1 makes the UI run from snapshots and samples too (demos, air-gapped analysts).
defs = build_definitions(offline=os.environ.get("THREATWATCH_OFFLINE", "").lower() in ("1", "true", "yes"))
