"""Publish is atomic: failures and kills leave the last good warehouse intact and readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import publish as publish_module
from pipelines.lib.config import paths_from_env
from pipelines.lib.publish import PublishError, PublishLockedError, candidate_path, publish_lock, publish_warehouse
from tests.warehouse_compare import file_sha256, warehouse_content


def _published_at(path: Path):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT published_at FROM meta.publish").fetchone()[0]


def test_exception_during_build_keeps_previous_warehouse(copied_home: Path, monkeypatch: pytest.MonkeyPatch):
    paths = paths_from_env()
    before = file_sha256(paths.warehouse)

    def broken_checks(con, report):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(publish_module, "_run_checks", broken_checks)
    with pytest.raises(RuntimeError, match="disk on fire"):
        publish_warehouse(paths)
    assert file_sha256(paths.warehouse) == before
    assert not candidate_path(paths.warehouse).exists()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0] > 0


def test_failed_sql_check_blocks_the_swap(copied_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    paths = paths_from_env()
    before = file_sha256(paths.warehouse)
    checks = tmp_path / "sql"
    (checks / "checks").mkdir(parents=True)
    for layer in ("ddl", "core", "marts"):
        (checks / layer).symlink_to(publish_module.SQL_DIR / layer)
    (checks / "checks" / "always_violated.sql").write_text("SELECT iso3 FROM core.dim_country LIMIT 2;")
    monkeypatch.setattr(publish_module, "SQL_DIR", checks)
    with pytest.raises(PublishError, match="always_violated: 2 violating rows"):
        publish_warehouse(paths)
    assert file_sha256(paths.warehouse) == before


def test_killed_publish_leaves_previous_warehouse_and_next_publish_recovers(copied_home: Path):
    paths = paths_from_env()
    before = warehouse_content(paths.warehouse, ignore_clock=False)
    # A publish that hangs after building most of the candidate, so it can be killed mid-way.
    script = textwrap.dedent(
        """
        import time
        from pipelines.lib import publish
        from pipelines.lib.config import paths_from_env
        def hang(con, report):
            print("building", flush=True)
            time.sleep(120)
        publish._run_checks = hang
        publish.publish_warehouse(paths_from_env())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert proc.stdout.readline().strip() == b"building"
        assert candidate_path(paths.warehouse).exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert warehouse_content(paths.warehouse, ignore_clock=False) == before
    report = publish_warehouse(paths)  # the lock died with the process; the stale candidate is discarded
    assert report.row_counts["core.fct_military_expenditure"] > 0
    assert not candidate_path(paths.warehouse).exists()


def test_reader_holding_old_file_keeps_reading_it(copied_home: Path):
    paths = paths_from_env()
    old_stamp = _published_at(paths.warehouse)
    reader = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows_before = reader.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0]
        time.sleep(0.01)  # published_at must differ between the two builds
        publish_warehouse(paths)
        # The open connection still sees the old file, consistently.
        assert reader.execute("SELECT published_at FROM meta.publish").fetchone()[0] == old_stamp
        assert reader.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0] == rows_before
    finally:
        reader.close()
    # A new reader, in another process (DuckDB caches instances per path in-process), sees the new file.
    probe = subprocess.run(
        [sys.executable, "-c",
         f"import duckdb; print(duckdb.connect({str(paths.warehouse)!r}, read_only=True)"
         ".execute('SELECT published_at FROM meta.publish').fetchone()[0])"],
        capture_output=True, text=True, check=True,
    )
    assert probe.stdout.strip() != str(old_stamp)


def test_second_publish_is_refused_while_one_holds_the_lock(copied_home: Path):
    paths = paths_from_env()
    with publish_lock(paths.warehouse):
        with pytest.raises(PublishLockedError, match="another publish"):
            publish_warehouse(paths)
