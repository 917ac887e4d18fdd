"""ACLED's cadence: weekly, re-pulling last month and this month (ACLED revises recent weeks)."""

from __future__ import annotations

from datetime import timedelta

from dagster import AssetSelection, RunRequest, ScheduleEvaluationContext, define_asset_job, schedule

from pipelines.defs.acled import assets as acled
from pipelines.lib.date_window import month_start
from pipelines.lib.source_spec import RANGE_END, RANGE_START

acled_job = define_asset_job("acled_job", selection=AssetSelection.assets(*acled.ASSETS),
                             description="Fetch and stage ACLED months (one run covers a range).")


@schedule(job=acled_job, cron_schedule="0 8 * * 2", execution_timezone="UTC",
          description="ACLED publishes weekly and revises recent weeks: pull last month and this month.")
def acled_weekly(context: ScheduleEvaluationContext):
    today = context.scheduled_execution_time.date()
    this_month = month_start(today)
    # Never before the first partition (they start at the held data: docs/adr/0009).
    last_month = max(month_start(this_month - timedelta(days=1)).isoformat(), acled.PARTITIONS.get_first_partition_key())
    return RunRequest(run_key=today.isoformat(),
                      tags={RANGE_START: last_month, RANGE_END: this_month.isoformat()})


JOBS, SCHEDULES, SENSORS = [acled_job], [acled_weekly], []
