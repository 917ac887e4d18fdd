"""Alerts to the webhook in THREATWATCH_ALERT_WEBHOOK_URL: every failed run, and every failed blocking check.

Both sensors run by default: without the variable they skip (and say why), and they only read the instance.
`run_failure_alert` names the run, the assets of each failed step and every failed blocking check with its first
failing expectation. `blocking_check_alert` reports a failed blocking check while its run is still going (or
when no run failed with it, e.g. a check reported through the API); a check whose run has already failed is left
to the run's alert, so one failure is one message.
"""

from __future__ import annotations

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from pipelines.lib.alerts import FIRST_FAILURE_KEY, WEBHOOK_ENV, Alert, AlertWebhookResource, CheckFailure, first_line

_OFF = SkipReason(f"{WEBHOOK_ENV} is not set: alerts are off")
# Check executions read per check and tick: more failures of one check between two ticks are one backlog.
_HISTORY = 25


def check_failure(evaluation) -> CheckFailure:
    """A failed check evaluation as the alert names it: asset, check, first failing expectation."""
    first = evaluation.metadata.get(FIRST_FAILURE_KEY)
    text = getattr(first, "value", None) or first_line(evaluation.description) or "no description"
    return CheckFailure(evaluation.asset_key.to_user_string(), evaluation.check_name, text)


def _is_blocking_failure(evaluation) -> bool:
    return not evaluation.passed and bool(evaluation.blocking)


def run_failure_alert_for(instance: DagsterInstance, run: DagsterRun) -> Alert:
    """What went wrong in a failed run: its failed blocking checks, then its other failed steps and their assets."""
    logs = instance.all_logs(run.run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.STEP_FAILURE,
                                                   DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                                                   DagsterEventType.RUN_FAILURE})
    checks, errors, assets_of_step = [], [], {}
    for entry in logs:
        event = entry.dagster_event
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            assets_of_step.setdefault(event.step_key, []).append(event.asset_key.to_user_string())
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION and _is_blocking_failure(event.event_specific_data):
            checks.append(check_failure(event.event_specific_data))
    for entry in logs:
        event = entry.dagster_event
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            cause = error.cause or error  # Dagster wraps the user's exception once
            if "DagsterAssetCheckFailedError" in (cause.cls_name or ""):
                continue  # named above, with its expectation
            assets = ", ".join(assets_of_step.get(event.step_key, [])) or event.step_key
            errors.append(f"{assets} failed: {first_line(cause.message)}")
    if not checks and not errors:  # the run itself failed (its process died, it was refused, …)
        errors = [first_line(e.dagster_event.message) for e in logs
                  if e.dagster_event.event_type == DagsterEventType.RUN_FAILURE][:1] or ["no step failed; see the run's log"]
    return Alert(kind="run_failure", headline=f"ThreatWatch run {run.run_id} of {run.job_name} failed",
                 run_id=run.run_id, job=run.job_name, checks=checks, errors=errors)


@run_failure_sensor(
    name="run_failure_alert", monitor_all_code_locations=True, default_status=DefaultSensorStatus.RUNNING,
    description=f"POST every failed run (CLI or UI) to {WEBHOOK_ENV}: failed steps, their assets, failed blocking "
                "checks and their first failing expectation.")
def run_failure_alert(context: RunFailureSensorContext, alert_webhook: AlertWebhookResource):
    if not alert_webhook.configured:
        return _OFF
    alert_webhook.send(run_failure_alert_for(context.instance, context.dagster_run))
    return None


def _blocking_check_keys(context: SensorEvaluationContext):
    graph = context.repository_def.asset_graph
    return sorted((k for k in graph.asset_check_keys if graph.get_check_spec(k).blocking),
                  key=lambda k: (k.asset_key.to_user_string(), k.name))


@sensor(name="blocking_check_alert", minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description=f"POST each failed blocking check to {WEBHOOK_ENV} with its asset and first failing expectation "
                    "(unless its run already failed: run_failure_alert then says it).")
def blocking_check_alert(context: SensorEvaluationContext, alert_webhook: AlertWebhookResource):
    if not alert_webhook.configured:
        return _OFF
    instance = context.instance
    storage = instance.event_log_storage
    records = [r for key in _blocking_check_keys(context)
               for r in storage.get_asset_check_execution_history(key, limit=_HISTORY)]
    if context.cursor is None:  # first tick: watch from now on, never replay old failures
        context.update_cursor(str(max((r.id for r in records), default=0)))
        return SkipReason("watching blocking checks from now on")
    after = int(context.cursor)
    sent = 0
    for record in sorted((r for r in records if r.id > after), key=lambda r: r.id):
        run = instance.get_run_by_id(record.run_id) if record.run_id else None
        # record statuses by value: Dagster does not export their enum at the top level
        if record.status.value == "PLANNED" and run and not run.is_finished:
            break  # its verdict is still to come, under this same id: look again next tick
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        if (record.status.value == "FAILED" and evaluation is not None
                and _is_blocking_failure(evaluation) and not (run and run.status == DagsterRunStatus.FAILURE)):
            failure = check_failure(evaluation)
            alert_webhook.send(Alert(
                kind="blocking_check_failed", run_id=record.run_id or "", job=run.job_name if run else "",
                headline=f"ThreatWatch: blocking check {failure.asset}:{failure.check} failed; publication is blocked",
                checks=[failure]))
            sent += 1
        context.update_cursor(str(record.id))  # after each send: a webhook outage resends only what it missed
    return None if sent else SkipReason("no new failed blocking check")


JOBS, SCHEDULES, SENSORS = [], [], [run_failure_alert, blocking_check_alert]
