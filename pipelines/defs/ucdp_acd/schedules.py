"""UCDP/PRIO ACD's cadence: yearly, with GED's release."""

from __future__ import annotations

from dagster import AssetSelection, RunRequest, ScheduleEvaluationContext, define_asset_job, schedule

from pipelines.defs.ucdp_acd import assets as ucdp_acd

conflict_years_job = define_asset_job(
    "conflict_years_job", selection=AssetSelection.assets(*ucdp_acd.ASSETS).downstream(),
    description="Refresh the UCDP/PRIO conflict-years and republish.")


@schedule(job=conflict_years_job, cron_schedule="0 9 2 7 *", execution_timezone="UTC",
          description="The UCDP/PRIO Armed Conflict Dataset is released yearly with GED.")
def ucdp_acd_yearly(context: ScheduleEvaluationContext):
    version = f"{context.scheduled_execution_time.year % 100}.1"
    return RunRequest(run_key=version, run_config={"ops": {"snapshot__ucdp_acd": {"config": {"version": version}}}})


JOBS, SCHEDULES, SENSORS = [conflict_years_job], [ucdp_acd_yearly], []
