"""UCDP GED's cadence: the monthly candidate release and the yearly final release."""

from __future__ import annotations

from datetime import timedelta

from dagster import AssetSelection, RunRequest, ScheduleEvaluationContext, define_asset_job, schedule

from pipelines.defs.ucdp_ged import assets as ucdp_ged
from pipelines.lib.date_window import month_start
from pipelines.lib.source_spec import RANGE_END, RANGE_START

ucdp_ged_job = define_asset_job("ucdp_ged_job", selection=AssetSelection.assets(*ucdp_ged.ASSETS),
                                description="Fetch and stage UCDP GED months (one run covers a range).")


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
    # From the first partition: the partitions start at the held data unless configured earlier (docs/adr/0009).
    first = ucdp_ged.PARTITIONS.get_first_partition_key()
    return RunRequest(run_key=version, tags={RANGE_START: first, RANGE_END: f"{year - 1}-12-01"},
                      run_config={"ops": {"snapshot__ucdp_ged": {"config": {"format": "bulk", "version": version}}}})


JOBS, SCHEDULES, SENSORS = [ucdp_ged_job], [ucdp_candidate_monthly, ucdp_ged_yearly], []
