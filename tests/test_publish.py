"""Publish is one DuckLake transaction: failures and kills leave the last committed warehouse intact and
readable, a reader's transaction keeps its snapshot, and each commit says which run loaded what."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.lib import publish as publish_module
from pipelines.lib.config import paths_from_env
from pipelines.lib.lake import Lake
from pipelines.lib.publish import PublishError, PublishLockedError, commit_message, publish_lock, publish_warehouse
from tests.warehouse_compare import open_warehouse, warehouse_state


def test_exception_during_publish_rolls_back(copied_home: Path, monkeypatch: pytest.MonkeyPatch):
    paths = paths_from_env()
    before = warehouse_state()

    def broken_checks(con, report):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(publish_module, "_run_checks", broken_checks)
    with pytest.raises(RuntimeError, match="disk on fire"):
        publish_warehouse(paths)
    assert warehouse_state() == before
    with open_warehouse() as con:
        assert con.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0] > 0


def test_failed_sql_check_rolls_the_publish_back(copied_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    paths = paths_from_env()
    before = warehouse_state()
    checks = tmp_path / "sql"
    (checks / "checks").mkdir(parents=True)
    for layer in ("ddl", "core", "marts"):
        (checks / layer).symlink_to(publish_module.SQL_DIR / layer)
    (checks / "checks" / "always_violated.sql").write_text("SELECT iso3 FROM core.dim_country LIMIT 2;")
    monkeypatch.setattr(publish_module, "SQL_DIR", checks)
    with pytest.raises(PublishError, match="always_violated: 2 violating rows"):
        publish_warehouse(paths)
    assert warehouse_state() == before


def test_killed_publish_leaves_the_committed_warehouse_and_next_publish_recovers(copied_home: Path):
    paths = paths_from_env()
    before = warehouse_state()
    # A publish that hangs after loading every table, inside its transaction, so it can be killed mid-way.
    script = textwrap.dedent(
        """
        import time
        from pipelines.lib import publish
        from pipelines.lib.config import paths_from_env
        def hang(con, report):
            print("loaded", flush=True)
            time.sleep(120)
        publish._run_checks = hang
        publish.publish_warehouse(paths_from_env())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert proc.stdout.readline().strip() == b"loaded"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert warehouse_state() == before
    report = publish_warehouse(paths)  # the lock died with the process
    assert report.row_counts["core.fct_military_expenditure"] > 0
    assert report.snapshot_id > before[0]


def test_a_reader_transaction_keeps_its_snapshot_while_a_publish_commits(copied_home: Path):
    paths = paths_from_env()
    reader = open_warehouse()
    try:
        reader.execute("BEGIN TRANSACTION")
        old_stamp = reader.execute("SELECT published_at FROM meta.publish").fetchone()[0]
        rows_before = reader.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0]
        report = publish_warehouse(paths)
        # The open transaction still reads the snapshot it began on, consistently.
        assert reader.execute("SELECT published_at FROM meta.publish").fetchone()[0] == old_stamp
        assert reader.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0] == rows_before
        reader.execute("COMMIT")
        # Its next transaction reads the new snapshot.
        assert reader.execute("SELECT published_at FROM meta.publish").fetchone()[0] != old_stamp
        assert reader.execute("SELECT id FROM warehouse.current_snapshot()").fetchone()[0] == report.snapshot_id
    finally:
        reader.close()


def test_each_publish_is_one_snapshot_whose_message_names_the_run_and_what_it_loaded(copied_home: Path):
    paths = paths_from_env()
    lake = Lake(paths.lake)
    for table in ("stg_nato", "stg_cisa_kev"):  # as if staged again: a re-staged file is reloaded
        for snapshot_id in lake.snapshots(table):
            os.utime(lake.path(table, snapshot_id))
    with open_warehouse() as con:
        before = con.execute("SELECT max(snapshot_id) FROM warehouse.snapshots()").fetchone()[0]
    report = publish_warehouse(paths, run_id="run-1234")
    with open_warehouse() as con:
        snapshots = con.execute("SELECT snapshot_id, author, commit_message FROM warehouse.snapshots() "
                                "WHERE snapshot_id > $1", [before]).fetchall()
    assert [(s, a) for s, a, _ in snapshots] == [(report.snapshot_id, "threatwatch")]
    message = snapshots[0][2]
    assert "run-1234" in message
    for table in ("stg_nato", "stg_cisa_kev"):
        assert report.loaded[table] and report.newly_loaded[table] == report.loaded[table]
        assert all(snapshot_id in message for snapshot_id in report.loaded[table])
    assert report.newly_loaded["stg_sipri"] == [] and "stg_sipri" not in message  # unchanged: not reloaded


def test_a_commit_message_names_many_snapshots_by_count():
    message = commit_message("r", {"stg_gdelt_event": [f"s{i:03}" for i in range(25)], "stg_nato": []})
    assert message.startswith("publish by run r; loaded stg_gdelt_event: s000, s001")
    assert "s019 and 5 more (meta.loads)" in message and "s020" not in message and "stg_nato" not in message


def test_second_publish_is_refused_while_one_holds_the_lock(copied_home: Path):
    paths = paths_from_env()
    with publish_lock(paths):
        with pytest.raises(PublishLockedError, match="another publish"):
            publish_warehouse(paths)


def test_partitioned_staged_tables_are_cut_as_their_sources_partition_the_lake():
    from pipelines.defs.domains import EVENT_SOURCES
    from pipelines.lib.staged_tables import STAGED_TABLES

    partitioned = {t.name: (t.partition_column, t.monthly) for t in STAGED_TABLES if t.partitioned}
    specs = {m.SPEC.staging_key.path[-1]: (m.SPEC.partition_column, m.SPEC.monthly) for m in EVENT_SOURCES}
    assert partitioned == specs
