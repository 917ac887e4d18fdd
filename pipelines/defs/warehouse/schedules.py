"""When the warehouse publishes on its own: after every successful conflict-event run (those jobs are
partitioned, publish is not, so a sensor chains them)."""

from __future__ import annotations

from dagster import AssetSelection, DagsterRunStatus, DefaultSensorStatus, RunRequest, define_asset_job, run_status_sensor

from pipelines.defs.acled.schedules import acled_job
from pipelines.defs.gdelt.schedules import gdelt_job
from pipelines.defs.ucdp_ged.schedules import ucdp_ged_job

publish_job = define_asset_job("publish_job", selection=AssetSelection.groups("warehouse"),
                               description="Rebuild and swap in the warehouse from the validated lake.")
EVENT_JOBS = [ucdp_ged_job, acled_job, gdelt_job]


# On by default: it only follows event runs someone (or a schedule) started, and publishing what passed
# validation is what those runs are for. It watches the event jobs, not UI backfills (those target publish).
@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=EVENT_JOBS, request_job=publish_job,
                   default_status=DefaultSensorStatus.RUNNING,
                   description="Publish the warehouse after each successful conflict-event run.")
def publish_after_event_run(context):
    return RunRequest(run_key=context.dagster_run.run_id)


JOBS, SCHEDULES, SENSORS = [publish_job], [], [publish_after_event_run]
