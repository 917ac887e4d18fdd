"""Warehouse maintenance on a real DuckLake: files merged, snapshots expired past the retention, unused and
crashed writers' files deleted, foreign files refused; the data reads the same throughout."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from pipelines.defs.warehouse.maintenance import warehouse_maintenance
from pipelines.lib.config import paths_from_env, snapshot_retention_from_env
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.ducklake_maintenance import MaintenanceError, maintain_warehouse
from pipelines.lib.resources import WarehouseResource
from tests.lake_state import catalog_files, fingerprint, orphans_and_missing

MONTH = timedelta(days=30)
# A writer that dies after writing its Parquet files and before committing them (as under kill -9).
CRASHED_WRITER = """
import os
from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
con = connect_warehouse(paths_from_env())
con.execute("BEGIN")
con.execute("INSERT INTO core.events SELECT range AS id, 'crashed' AS day FROM range(50000)")
os._exit(9)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tw_home: Path) -> str:
    """The embedded SQLite catalog, then the same test on a PostgreSQL one (skipped only if it cannot start)."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_catalog")
    return request.param


def _small_commits(con: duckdb.DuckDBPyConnection, commits: int = 6) -> None:
    """What 15-minute publishes leave: a small file per commit, a replaced partition, one inlined row."""
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    con.execute("CREATE TABLE IF NOT EXISTS core.events (id BIGINT, day VARCHAR)")
    for n in range(commits):
        con.execute(f"INSERT INTO core.events SELECT range, 'd{n % 3}' FROM range({n * 20000}, {(n + 1) * 20000})")
    con.execute("BEGIN")
    con.execute("DELETE FROM core.events WHERE day = 'd1'")  # one partition replaced, as a re-run does
    con.execute("INSERT INTO core.events SELECT range, 'd1' FROM range(900000, 930000)")
    con.execute("COMMIT")
    con.execute("INSERT INTO core.events VALUES (-1, 'late')")  # small enough for DuckLake to inline it


def _parquet_count(data_path: str) -> int:
    return sum(1 for _ in Path(data_path).rglob("*.parquet"))


def test_maintenance_merges_small_files_and_the_data_reads_the_same(catalog: str):
    paths = paths_from_env()
    with connect_warehouse(paths) as con:
        _small_commits(con)
        before, files_before = fingerprint(con), _parquet_count(paths.data_path)
        report = maintain_warehouse(con, MONTH, grace=timedelta(0))
        assert report.inlined_rows_flushed == 1 and report.files_merged >= 4
        assert report.files_written < report.files_merged and report.snapshots_expired == 0
        assert report.files_deleted == report.files_merged  # merged-away files go once no reader can need them
        assert fingerprint(con) == before
        assert _parquet_count(paths.data_path) < files_before
        assert orphans_and_missing(con, Path(paths.data_path)) == (set(), set())
        again = maintain_warehouse(con, MONTH, grace=timedelta(0))
        assert again.as_metadata() == dict.fromkeys(again.as_metadata(), 0)  # nothing left to do
    with connect_warehouse(paths, read_only=True) as reader:  # another process's view: committed, not pending
        assert fingerprint(reader) == before


def test_only_snapshots_older_than_the_retention_expire(catalog: str):
    paths = paths_from_env()
    with connect_warehouse(paths) as con:
        _small_commits(con, commits=3)
        old_snapshot = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('warehouse')").fetchone()[0]
        old_count = con.execute(f"SELECT count(*) FROM core.events AT (VERSION => {old_snapshot})").fetchone()[0]
        time.sleep(0.05)
        cut = datetime.now(timezone.utc)
        time.sleep(0.05)
        con.execute("INSERT INTO core.events SELECT range, 'd9' FROM range(2000000, 2050000)")
        recent = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('warehouse')").fetchone()[0]
        con.execute("INSERT INTO core.events SELECT range, 'd9' FROM range(3000000, 3050000)")
        current = fingerprint(con)
        # a week from now, with a week's retention less the time since `cut`: everything before `cut` is older
        later = datetime.now(timezone.utc) + timedelta(days=7)
        report = maintain_warehouse(con, later - cut, grace=timedelta(0), now=later)
        left = [s for (s,) in con.execute("SELECT snapshot_id FROM ducklake_snapshots('warehouse')").fetchall()]
        assert report.snapshots_expired == old_snapshot + 1  # snapshots 0..old_snapshot
        assert min(left) == recent
        with pytest.raises(duckdb.Error, match="(?i)snapshot"):
            con.execute(f"SELECT count(*) FROM core.events AT (VERSION => {old_snapshot})").fetchall()
        assert con.execute(f"SELECT count(*) FROM core.events AT (VERSION => {recent})").fetchone()[0] == old_count + 50000
        assert fingerprint(con) == current
        assert report.files_deleted > 0  # the replaced partition's files went with the last snapshot using them
        assert orphans_and_missing(con, Path(paths.data_path)) == (set(), set())


def test_a_crashed_writers_files_are_deleted_once_past_the_grace(catalog: str):
    paths = paths_from_env()
    with connect_warehouse(paths) as con:
        _small_commits(con, commits=2)
        before = fingerprint(con)
    crashed = subprocess.run([sys.executable, "-c", CRASHED_WRITER], capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    with connect_warehouse(paths) as con:
        orphans, missing = orphans_and_missing(con, Path(paths.data_path))
        assert orphans and not missing and fingerprint(con) == before
        kept = maintain_warehouse(con, MONTH)  # default grace: a file written a moment ago may be a live writer's
        assert kept.orphans_deleted == 0 and orphans_and_missing(con, Path(paths.data_path))[0] == orphans
        tomorrow = datetime.now(timezone.utc) + timedelta(days=1, minutes=1)
        report = maintain_warehouse(con, MONTH, now=tomorrow)
        assert report.orphans_deleted == len(orphans)
        assert orphans_and_missing(con, Path(paths.data_path)) == (set(), set())
        assert fingerprint(con) == before


def test_files_ducklake_did_not_write_stop_the_orphan_cleanup(tw_home: Path):
    paths = paths_from_env()
    with connect_warehouse(paths) as con:
        _small_commits(con, commits=2)
        # an analyst's export saved into the lake's folder: DuckLake's orphan cleanup would take it
        foreign = Path(paths.data_path) / "core" / "events_export.parquet"
        con.execute(f"COPY (SELECT 1 AS x) TO '{foreign}' (FORMAT parquet)")
        with pytest.raises(MaintenanceError, match=r"1 file\(s\) DuckLake did not write.*events_export\.parquet"):
            maintain_warehouse(con, MONTH, grace=timedelta(0))
        assert duckdb.sql(f"SELECT x FROM '{foreign}'").fetchall() == [(1,)]
        assert all(path.exists() for path in catalog_files(con))
        with pytest.raises(MaintenanceError, match="retention must be positive"):
            maintain_warehouse(con, timedelta(0))


def test_retention_setting_is_whole_days(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("THREATWATCH_SNAPSHOT_RETENTION_DAYS", raising=False)
    assert snapshot_retention_from_env() == timedelta(days=30)
    monkeypatch.setenv("THREATWATCH_SNAPSHOT_RETENTION_DAYS", "7")
    assert snapshot_retention_from_env() == timedelta(days=7)
    for bad in ("0", "-3", "1.5", "a week"):
        monkeypatch.setenv("THREATWATCH_SNAPSHOT_RETENTION_DAYS", bad)
        with pytest.raises(ValueError, match="THREATWATCH_SNAPSHOT_RETENTION_DAYS"):
            snapshot_retention_from_env()


def test_the_dagster_asset_reports_what_it_did(tw_home: Path):
    first = materialize([warehouse_maintenance], resources={"warehouse": WarehouseResource()})
    metadata = first.asset_materializations_for_node("warehouse_maintenance")[0].metadata
    assert metadata["published"].value is False and not (tw_home / "catalog.sqlite").exists()
    with connect_warehouse(paths_from_env()) as con:
        _small_commits(con)
        before = fingerprint(con)
    result = materialize([warehouse_maintenance], resources={"warehouse": WarehouseResource()},
                         run_config={"ops": {"warehouse_maintenance": {"config": {"file_grace_hours": 0}}}})
    assert result.success
    metadata = {k: v.value for k, v in result.asset_materializations_for_node("warehouse_maintenance")[0].metadata.items()}
    assert metadata["files_merged"] >= 4 and metadata["files_deleted"] == metadata["files_merged"]
    assert metadata["snapshots_expired"] == 0 and metadata["retention_days"] == 30
    assert metadata["snapshots_kept"] > 0 and "catalog.sqlite" in metadata["catalog"]
    with connect_warehouse(paths_from_env(), read_only=True) as con:
        assert fingerprint(con) == before
