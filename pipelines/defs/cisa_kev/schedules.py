"""CISA KEV's cadence: CISA adds to the catalog on weekdays, so look every weekday evening."""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, ScheduleDefinition, define_asset_job

kev_job = define_asset_job("kev_job", selection=AssetSelection.assets(AssetKey("snapshot/cisa_kev".split("/"))).downstream())
kev_daily = ScheduleDefinition(name="kev_daily", job=kev_job, cron_schedule="0 20 * * 1-5", execution_timezone="UTC")

JOBS, SCHEDULES, SENSORS = [kev_job], [kev_daily], []
