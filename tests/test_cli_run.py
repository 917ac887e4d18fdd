"""`threatwatch run` / `backfill`: recorded in the persistent Dagster instance, streamed step by step,
selections that publish what they stage, and one-line errors for selections and ranges that cannot run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus
from rich.console import Console

from pipelines.cli import main
from pipelines.lib.config import paths_from_env
from pipelines.lib.instance import REPO_DAGSTER_HOME, cli_run_tags, persistent_instance
from pipelines.lib.instance import dagster_home as instance_home
from pipelines.run import run_pipeline
from pipelines.run_display import RunDisplay
from tests.test_cli import one_line_error
from tests.warehouse_compare import warehouse_state


def test_the_suite_records_runs_in_a_throwaway_instance_with_the_repo_settings(dagster_home: Path):
    assert dagster_home != REPO_DAGSTER_HOME and REPO_DAGSTER_HOME not in dagster_home.parents
    assert os.environ["DAGSTER_HOME"] == str(dagster_home)
    assert (dagster_home / "dagster.yaml").read_text() == (REPO_DAGSTER_HOME / "dagster.yaml").read_text()


def test_a_multi_asset_selection_runs_whole_streams_each_step_and_lands_in_the_instance(copied_home: Path):
    """`key:staging/stg_nato+` once ended in DagsterInvalidSubsetError; now it runs, publishes, and the UI sees it."""
    out = io.StringIO()
    display = RunDisplay("live", offline=True, console=Console(file=out, width=200))
    seen_before_publish: list[str] = []

    def observer(entry):
        event = entry.dagster_event
        if event and event.event_type == DagsterEventType.STEP_START and event.step_key == "publish":
            seen_before_publish.append(out.getvalue())
        display.on_event(entry)

    with display:
        summary = run_pipeline(offline=True, select="key:staging/stg_nato+", observer=observer)
    display.finish(summary)
    assert summary.success and summary.published, summary.render()
    # Each step was printed as it happened: staging and its check were on screen before publish started.
    assert len(seen_before_publish) == 1
    assert "staged    staging/stg_nato " in seen_before_publish[0]
    assert "staged    staging/stg_nato_aggregate " in seen_before_publish[0]  # the multi-asset came whole
    assert "checked   staging/stg_nato:gx_stg_nato" in seen_before_publish[0]
    assert "published" not in seen_before_publish[0] and "published" in out.getvalue()
    assert "Summary" in out.getvalue() and "nato" in out.getvalue()

    [(job, run_id)] = summary.runs
    with DagsterInstance.from_config(str(instance_home())) as instance:
        run = instance.get_run_by_id(run_id)
        assert run.status == DagsterRunStatus.SUCCESS and run.job_name == job
        assert run.tags["threatwatch/launched_by"] == "cli"
        materialization = instance.get_latest_materialization_event(AssetKey(["staging", "stg_nato"]))
        assert materialization.run_id == run_id
        assert materialization.asset_materialization.metadata["dagster/row_count"].value > 0
        checks = [e.dagster_event.event_specific_data for e in
                  instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
        assert any(c.check_name == "gx_stg_nato" and c.passed for c in checks)
        assert any("published" in e.user_message for e in instance.all_logs(run_id) if e.dagster_event is None)


def test_a_group_selection_publishes_what_it_staged_and_no_publish_says_it_did_not(
        copied_home: Path, capsys: pytest.CaptureFixture):
    before = warehouse_state()
    assert main(["run", "--offline", "--select", "group:defense_spending", "--no-publish", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")  # quiet: nothing on success
    assert warehouse_state() == before

    assert main(["run", "--offline", "--select", "group:defense_spending", "--no-publish", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["published"] is False and "--no-publish" in report["not_published_because"]

    assert main(["run", "--offline", "--select", "group:defense_spending", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["success"] and report["published"], report
    keys = {a["key"] for a in report["assets"]}
    assert {"staging/stg_nato", "staging/stg_sipri", "warehouse/marts/nato_burden_sharing"} <= keys
    assert not any(k.startswith("staging/stg_cfr") for k in keys)
    with DagsterInstance.from_config(report["dagster_home"]) as instance:
        assert all(instance.get_run_by_id(r["run_id"]).is_success for r in report["runs"])


@pytest.mark.parametrize("select, says", [
    ("key:nope", "matches no asset"),
    ("group:nope", "matches no asset"),
    ("group:", "is not an asset selection"),
])
def test_a_selection_that_cannot_run_is_a_one_line_error(tw_home: Path, capsys: pytest.CaptureFixture,
                                                         select: str, says: str):
    assert main(["run", "--offline", "--select", select]) == 2
    error = one_line_error(capsys)
    assert says in error and repr(select) in error
    assert not (tw_home / "catalog.sqlite").exists()


@pytest.mark.parametrize("start, end, says", [
    ("2025-13-01", "2025-12-01", "--start 2025-13-01 is not a partition"),
    ("2025-01-15", "2025-02-01", "each month (YYYY-MM-01)"),
    ("2025-03-01", "2025-01-01", "is after --end"),
])
def test_a_backfill_range_that_is_not_partitions_is_a_one_line_error(tw_home: Path, capsys: pytest.CaptureFixture,
                                                                      start: str, end: str, says: str):
    assert main(["backfill", "acled", "--start", start, "--end", end, "--offline"]) == 2
    assert says in one_line_error(capsys)


def test_a_cli_run_whose_process_died_is_closed_and_frees_its_pool_slot(dagster_home: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_id = str(uuid.uuid4())
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.add_run(DagsterRun(job_name="threatwatch_job", run_id=run_id, status=DagsterRunStatus.STARTED,
                                    tags={**cli_run_tags(), "threatwatch/pid": str(dead.pid)}))
        instance.event_log_storage.initialize_concurrency_limit_to_default("warehouse")  # as a run's first claim does
        instance.event_log_storage.claim_concurrency_slot("warehouse", run_id, "publish")
        assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 1
    with persistent_instance() as instance:
        run = instance.get_run_by_id(run_id)
        assert run.status == DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info("warehouse").active_slot_count == 0
        # a live CLI run (this process) is left alone
        mine = str(uuid.uuid4())
        instance.add_run(DagsterRun(job_name="threatwatch_job", run_id=mine, status=DagsterRunStatus.STARTED,
                                    tags={**cli_run_tags(), "threatwatch/pid": str(os.getppid())}))
    with persistent_instance() as instance:
        assert instance.get_run_by_id(mine).status == DagsterRunStatus.STARTED


def test_a_backfill_reports_staging_progress_snapshot_by_snapshot(tw_home: Path):
    """The GDELT samples are six 15-minute exports over two days: staging says each one as it reads it."""
    from pipelines.lib.progress import parse_progress
    from pipelines.run import run_backfill

    progress, jobs = [], []

    def observer(entry):
        if entry.dagster_event is None and parse_progress(entry.user_message):
            progress.append((entry.step_key, parse_progress(entry.user_message)))
        elif entry.dagster_event and entry.dagster_event.event_type == DagsterEventType.RUN_START:
            jobs.append(entry.job_name)

    summary = run_backfill("gdelt", "2024-06-01", "2024-06-02", offline=True, observer=observer)
    assert summary.success and summary.published, summary.render()
    assert jobs == ["gdelt_job", "publish_job"] and [j for j, _ in summary.runs] == jobs
    staged = [(p.done, p.total) for step, p in progress if p.unit == "snapshots staged"]
    assert staged == [(n, 6) for n in range(1, 7)]
    assert {step for step, _ in progress} <= {"staging__stg_gdelt_event", "staging__stg_gdelt_event_gx_stg_gdelt_event"}


def test_a_cli_publish_waits_for_the_warehouse_pool_another_run_holds(copied_home: Path, dagster_home: Path):
    """One publish at a time, whoever launched it: a UI run holding the pool's one slot makes the CLI wait."""
    import threading

    holder = str(uuid.uuid4())  # stands for a UI run in the middle of its publish
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.add_run(DagsterRun(job_name="publish_job", run_id=holder, status=DagsterRunStatus.STARTED))
        instance.event_log_storage.initialize_concurrency_limit_to_default("warehouse")
        assert instance.event_log_storage.claim_concurrency_slot("warehouse", holder, "publish").is_claimed
    blocked, started = threading.Event(), []

    def observer(entry):
        event = entry.dagster_event
        if event and event.event_type == DagsterEventType.ENGINE_EVENT and event.step_key == "publish" \
                and "pool" in (event.message or ""):
            blocked.set()
        if event and event.event_type == DagsterEventType.STEP_START and event.step_key == "publish":
            started.append(blocked.is_set())

    result = {}
    worker = threading.Thread(target=lambda: result.update(
        summary=run_pipeline(offline=True, select="group:warehouse", observer=observer)))
    worker.start()
    assert blocked.wait(timeout=600), "the CLI publish never waited for the pool"
    assert started == []  # still waiting: the warehouse is not being built
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.event_log_storage.free_concurrency_slots_for_run(holder)
    worker.join(timeout=600)
    assert not worker.is_alive()
    assert started == [True] and result["summary"].published, result["summary"].render()
