"""When the warehouse publishes on its own: after every successful conflict-event run (those jobs are
partitioned, publish is not, so a sensor chains them)."""

from __future__ import annotations

from dagster import AssetSelection, DagsterRunStatus, RunRequest, define_asset_job, run_status_sensor

from pipelines.defs.acled.schedules import acled_job
from pipelines.defs.gdelt.schedules import gdelt_job
from pipelines.defs.ucdp_ged.schedules import ucdp_ged_job

publish_job = define_asset_job("publish_job", selection=AssetSelection.groups("warehouse"),
                               description="Rebuild and swap in the warehouse from the validated lake.")
EVENT_JOBS = [ucdp_ged_job, acled_job, gdelt_job]


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=EVENT_JOBS, request_job=publish_job,
                   description="Publish the warehouse after each successful conflict-event run.")
def publish_after_event_run(context):
    return RunRequest(run_key=context.dagster_run.run_id)


JOBS, SCHEDULES, SENSORS = [publish_job], [], [publish_after_event_run]
