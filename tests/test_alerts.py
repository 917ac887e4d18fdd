"""Alerts reach a (loopback) webhook with the asset, the check and the first failing expectation, and no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
    instance_for_test,
)

from pipelines.definitions import build_definitions
from pipelines.defs.alerts import blocking_check_alert, run_failure_alert
from pipelines.lib.alerts import Alert, AlertDeliveryError, AlertWebhookResource, CheckFailure
from pipelines.lib.config import SAMPLES_DIR
from tests.test_bad_input import set_france_latest_year

BULK = SAMPLES_DIR / "worldbank" / "bulk"
WORLDBANK = [AssetKey(["snapshot", "worldbank"]), AssetKey(["staging", "stg_worldbank"]),
             AssetKey(["staging", "stg_worldbank_aggregate"])]


def _import_bad_worldbank(tmp_path: Path) -> None:
    """The sample bulk zips with France's latest share of GDP set to 150.5: the blocking GX check fails."""
    import zipfile

    from pipelines.cli import main

    edit = set_france_latest_year(b'"150.5"')
    files = []
    for src in sorted(BULK.glob("*.zip")):
        if src.name.startswith("MS.MIL.XPND.GD.ZS"):
            dest = tmp_path / src.name
            with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
                for info in zin.infolist():
                    data = zin.read(info)
                    zout.writestr(info, edit(data) if info.filename.startswith("API_") else data)
            src = dest
        files.append(str(src))
    assert main(["snapshot", "import", "worldbank", *files]) == 0


@pytest.fixture
def failed_run(tw_home, tmp_path):
    """A real run whose blocking check failed, recorded in a throwaway instance: (instance, run, definitions)."""
    _import_bad_worldbank(tmp_path)
    defs = build_definitions(offline=True)
    with instance_for_test() as instance:
        result = defs.resolve_job_def("threatwatch_job").execute_in_process(
            instance=instance, asset_selection=WORLDBANK, raise_on_error=False)
        assert not result.success
        yield instance, instance.get_run_by_id(result.run_id), defs


@pytest.fixture
def webhook(httpserver):
    httpserver.expect_request("/hooks/threatwatch", method="POST").respond_with_data("ok")
    return AlertWebhookResource(url=httpserver.url_for("/hooks/threatwatch"))


def _posted(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_a_failed_run_posts_its_blocking_check_and_first_failing_expectation(failed_run, webhook, httpserver):
    instance, run, _ = failed_run
    failure = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)[0]
    context = build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=run,
        dagster_event=failure.dagster_event, resources={"alert_webhook": webhook}).for_run_failure()
    run_failure_alert(context)
    [payload] = _posted(httpserver)
    assert payload["threatwatch"]["kind"] == "run_failure" and payload["threatwatch"]["run_id"] == run.run_id
    [check] = payload["threatwatch"]["checks"]
    assert check["asset"] == "staging/stg_worldbank" and check["check"] == "gx_stg_worldbank"
    assert check["first_failure"].startswith("stg_worldbank.share_value: expect_column_values_to_be_between failed")
    assert "150.5" in check["first_failure"]
    assert "staging/stg_worldbank:gx_stg_worldbank" in payload["text"] and run.run_id in payload["text"]


def test_the_check_alert_leaves_a_failed_run_to_the_run_alert(failed_run, webhook, httpserver):
    instance, _, defs = failed_run
    context = build_sensor_context(instance=instance, cursor="0", definitions=defs, resources={"alert_webhook": webhook})
    result = blocking_check_alert(context)
    assert isinstance(result, SkipReason) and _posted(httpserver) == []
    assert int(context.cursor) > 0  # the failure was seen, and is not looked at again


def _report_failed_check(instance, description: str) -> None:
    """A failed blocking check that came with no failing run (reported through the API)."""
    instance.report_runless_asset_event(AssetCheckEvaluation(
        asset_key=AssetKey(["staging", "stg_nato"]), check_name="gx_stg_nato", passed=False,
        severity=AssetCheckSeverity.ERROR, blocking=True, description=description,
        metadata={"first_failed_expectation": "stg_nato.iso3: expect_column_values_to_be_in_set failed — 1 unexpected"}))


def test_a_failed_blocking_check_outside_a_failed_run_is_posted_once(webhook, httpserver):
    defs = build_definitions(offline=True)
    with instance_for_test() as instance:
        first = build_sensor_context(instance=instance, definitions=defs, resources={"alert_webhook": webhook})
        assert isinstance(blocking_check_alert(first), SkipReason)  # the first tick only starts watching
        _report_failed_check(instance, "1 expectation failed")
        context = build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs,
                                       resources={"alert_webhook": webhook})
        assert blocking_check_alert(context) is None
        again = build_sensor_context(instance=instance, cursor=context.cursor, definitions=defs,
                                     resources={"alert_webhook": webhook})
        assert isinstance(blocking_check_alert(again), SkipReason)
    [payload] = _posted(httpserver)
    assert payload["threatwatch"]["kind"] == "blocking_check_failed"
    assert payload["threatwatch"]["checks"] == [{
        "asset": "staging/stg_nato", "check": "gx_stg_nato",
        "first_failure": "stg_nato.iso3: expect_column_values_to_be_in_set failed — 1 unexpected"}]


def test_a_refused_post_fails_the_tick_and_is_sent_again(httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=503)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    webhook = AlertWebhookResource(url=httpserver.url_for("/hook"))
    defs = build_definitions(offline=True)
    with instance_for_test() as instance:
        first = build_sensor_context(instance=instance, definitions=defs, resources={"alert_webhook": webhook})
        blocking_check_alert(first)
        _report_failed_check(instance, "failed")
        failing = build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs,
                                       resources={"alert_webhook": webhook})
        with pytest.raises(AlertDeliveryError, match="HTTP 503"):
            blocking_check_alert(failing)
        assert failing.cursor == first.cursor
        retry = build_sensor_context(instance=instance, cursor=failing.cursor, definitions=defs,
                                     resources={"alert_webhook": webhook})
        assert blocking_check_alert(retry) is None
    assert len(httpserver.log) == 2


def test_without_a_webhook_url_alerts_are_off(failed_run, httpserver):
    instance, _, defs = failed_run
    context = build_sensor_context(instance=instance, cursor="0", definitions=defs,
                                   resources={"alert_webhook": AlertWebhookResource()})
    result = blocking_check_alert(context)
    assert isinstance(result, SkipReason) and "THREATWATCH_ALERT_WEBHOOK_URL" in result.skip_message
    assert httpserver.log == []


def test_secrets_never_leave(monkeypatch):
    monkeypatch.setenv("THREATWATCH_ACLED_PASSWORD", "hunter2-acled")
    monkeypatch.setenv("THREATWATCH_ALERT_WEBHOOK_URL", "https://hooks.example/T000/B000/XXXXSECRET")
    alert = Alert(kind="run_failure", headline="run r of j failed", run_id="r", job="j",
                  checks=[CheckFailure("staging/stg_acled_event", "gx_stg_acled_event", "password hunter2-acled")],
                  errors=["snapshot/acled failed: POST https://hooks.example/T000/B000/XXXXSECRET refused",
                          "GET https://acleddata.com/api?key=abc123&page=2 failed"])
    text = json.dumps(alert.payload())
    assert "hunter2-acled" not in text and "XXXXSECRET" not in text and "abc123" not in text
    assert "REDACTED" in text and "staging/stg_acled_event" in text and "page=2" in text


def test_the_run_alert_sees_in_process_runs_as_the_cli_makes_them(tw_home, tmp_path, webhook, httpserver):
    # a CLI run executes in process: it has no code-location origin, so only a sensor watching every location sees it
    defs = build_definitions(offline=True)
    with instance_for_test() as instance:
        first = build_sensor_context(instance=instance, definitions=defs, resources={"alert_webhook": webhook})
        run_failure_alert.evaluate_tick(first)  # starts its cursor at now
        _import_bad_worldbank(tmp_path)
        result = defs.resolve_job_def("threatwatch_job").execute_in_process(
            instance=instance, asset_selection=WORLDBANK, raise_on_error=False)
        assert not result.success
        # named as the daemon names it: a run without an origin then matches only a sensor watching everything
        tick = build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs,
                                    repository_name="__repository__", resources={"alert_webhook": webhook})
        run_failure_alert.evaluate_tick(tick)
    [payload] = _posted(httpserver)
    assert payload["threatwatch"]["run_id"] == result.run_id
    assert payload["threatwatch"]["checks"][0]["check"] == "gx_stg_worldbank"
