"""Jobs and schedules that span a domain's sources (defence spending, cyber incidents) or every asset."""

from __future__ import annotations

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

from pipelines.defs.acled import assets as acled
from pipelines.defs.gdelt import assets as gdelt
from pipelines.defs.ucdp_ged import assets as ucdp_ged

# Partitioned by month or day; a Dagster job covers one partitioning, so these run as their own jobs.
EVENT_SOURCES = [ucdp_ged, acled, gdelt]
EVENT_ASSETS = AssetSelection.assets(*(a for m in EVENT_SOURCES for a in m.ASSETS))

# Every unpartitioned asset and check in one run; `threatwatch run` (the Quickstart) runs the event jobs
# over their ranges first, then this, so one command still materializes every asset. Not the weekly
# maintenance: it has its own schedule, and a run's publish must not share the run with it.
threatwatch_job = define_asset_job("threatwatch_job",
                                   selection=AssetSelection.all() - EVENT_ASSETS - AssetSelection.groups("maintenance"))

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
    name="defense_spending_weekly", job=defense_spending_job, cron_schedule="0 6 * * 1", execution_timezone="UTC")
# The incident catalogues and ATT&CK change weekly at most.
cyber_incidents_weekly = ScheduleDefinition(
    name="cyber_incidents_weekly", job=cyber_incidents_job, cron_schedule="0 7 * * 1", execution_timezone="UTC")

JOBS = [threatwatch_job, defense_spending_job, cyber_incidents_job]
SCHEDULES, SENSORS = [defense_spending_weekly, cyber_incidents_weekly], []
