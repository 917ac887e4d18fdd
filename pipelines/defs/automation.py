"""Cadences of the conflict sources (DESIGN §5): the GDELT sensor, ACLED weekly, UCDP candidate monthly,
GED and ACD yearly, and a publish after every successful event run (event jobs are partitioned; publish is not)."""

from __future__ import annotations

import os
from datetime import date, timedelta

from dagster import (
    AssetSelection,
    DagsterRunStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    run_status_sensor,
    schedule,
    sensor,
)

from pipelines.defs.acled import assets as acled
from pipelines.defs.gdelt import assets as gdelt
from pipelines.defs.ucdp_acd import assets as ucdp_acd
from pipelines.defs.ucdp_ged import assets as ucdp_ged
from pipelines.lib.event_source_assets import INCREMENTAL_TAG
from pipelines.lib.config import paths_from_env
from pipelines.lib.http import FetchError, HttpClient, HttpSettings
from pipelines.defs.gdelt.fetch import fetch_gdelt_file_list
from pipelines.lib.source_registry import source_info
from pipelines.lib.snapshots import SnapshotStore

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

ucdp_ged_job = define_asset_job("ucdp_ged_job", selection=AssetSelection.assets(*ucdp_ged.ASSETS),
                                description="Fetch and stage UCDP GED months (one run covers a range).")
acled_job = define_asset_job("acled_job", selection=AssetSelection.assets(*acled.ASSETS),
                             description="Fetch and stage ACLED months (one run covers a range).")
gdelt_job = define_asset_job("gdelt_job", selection=AssetSelection.assets(*gdelt.ASSETS),
                             description="Fetch and stage GDELT days: new 15-minute files, or a backfilled range.")
conflict_years_job = define_asset_job(
    "conflict_years_job", selection=AssetSelection.assets(*ucdp_acd.ASSETS).downstream(),
    description="Refresh the UCDP/PRIO conflict-years and republish.")
publish_job = define_asset_job("publish_job", selection=AssetSelection.groups("warehouse"),
                               description="Rebuild and swap in the warehouse from the validated lake.")
EVENT_JOBS = [ucdp_ged_job, acled_job, gdelt_job]


def month_start(day: date) -> date:
    """The first day of a day's month: the key of its monthly partition."""
    return day.replace(day=1)


@sensor(job=gdelt_job, minimum_interval_seconds=900,
        description="Every 15 minutes: read GDELT's lastupdate.txt and request each export file not seen yet.")
def gdelt_new_files(context: SensorEvaluationContext):
    if os.environ.get("THREATWATCH_OFFLINE", "").lower() in ("1", "true", "yes"):
        return SkipReason("offline: no network")
    store = SnapshotStore(paths_from_env().snapshots)
    try:
        with store.draft("gdelt") as scratch:
            _, listing = fetch_gdelt_file_list(HttpClient(HttpSettings(max_attempts=2)), scratch,
                                               source_info("gdelt").base_url(), "lastupdate")
            scratch.discard()
    except FetchError as exc:
        return SkipReason(f"lastupdate.txt unavailable: {exc}")
    exports = listing.filter(listing["kind"] == "export").sort("timestamp")
    cursor = context.cursor or ""
    requests = []
    for row in exports.iter_rows(named=True):
        stamp = row["timestamp"].strftime("%Y%m%d%H%M%S")
        if stamp <= cursor:
            continue
        requests.append(RunRequest(
            run_key=row["file_name"], partition_key=row["timestamp"].strftime("%Y-%m-%d"),
            tags={INCREMENTAL_TAG: "true"},
            run_config={"ops": {"snapshot__gdelt": {"config": {"files": [row["url"]], "format": "lastupdate"}}}}))
        cursor = stamp
    context.update_cursor(cursor)
    return requests or SkipReason("no new export file")


@schedule(job=acled_job, cron_schedule="0 8 * * 2", execution_timezone="UTC",
          description="ACLED publishes weekly and revises recent weeks: pull last month and this month.")
def acled_weekly(context: ScheduleEvaluationContext):
    today = context.scheduled_execution_time.date()
    this_month = month_start(today)
    last_month = month_start(this_month - timedelta(days=1))
    return RunRequest(run_key=today.isoformat(),
                      tags={RANGE_START: last_month.isoformat(), RANGE_END: this_month.isoformat()})


@schedule(job=ucdp_ged_job, cron_schedule="0 9 15 * *", execution_timezone="UTC",
          description="UCDP's monthly candidate release for the month before last month's end.")
def ucdp_candidate_monthly(context: ScheduleEvaluationContext):
    month = month_start(month_start(context.scheduled_execution_time.date()) - timedelta(days=1))
    version = f"{month.year % 100}.0.{month.month}"
    return RunRequest(run_key=version, partition_key=month.isoformat(), run_config={
        "ops": {"snapshot__ucdp_ged": {"config": {"format": "candidate", "version": version}}}})


@schedule(job=ucdp_ged_job, cron_schedule="0 9 1 7 *", execution_timezone="UTC",
          description="UCDP GED's yearly release (June): restage every month it covers, replacing candidates.")
def ucdp_ged_yearly(context: ScheduleEvaluationContext):
    year = context.scheduled_execution_time.year
    version = f"{year % 100}.1"
    return RunRequest(run_key=version, tags={RANGE_START: "1989-01-01", RANGE_END: f"{year - 1}-12-01"},
                      run_config={"ops": {"snapshot__ucdp_ged": {"config": {"format": "bulk", "version": version}}}})


@schedule(job=conflict_years_job, cron_schedule="0 9 2 7 *", execution_timezone="UTC",
          description="The UCDP/PRIO Armed Conflict Dataset is released yearly with GED.")
def ucdp_acd_yearly(context: ScheduleEvaluationContext):
    version = f"{context.scheduled_execution_time.year % 100}.1"
    return RunRequest(run_key=version, run_config={"ops": {"snapshot__ucdp_acd": {"config": {"version": version}}}})


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=EVENT_JOBS, request_job=publish_job,
                   description="Publish the warehouse after each successful conflict-event run.")
def publish_after_event_run(context):
    return RunRequest(run_key=context.dagster_run.run_id)


CONFLICT_JOBS = [ucdp_ged_job, acled_job, gdelt_job, conflict_years_job, publish_job]
CONFLICT_SCHEDULES = [acled_weekly, ucdp_candidate_monthly, ucdp_ged_yearly, ucdp_acd_yearly]
CONFLICT_SENSORS = [gdelt_new_files, publish_after_event_run]
