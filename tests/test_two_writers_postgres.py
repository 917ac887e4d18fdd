"""Two machines publishing into one PostgreSQL catalog at the same moment: both commit (DuckLake's own retry,
or commit_with_retry running a conflicting publish again), and the warehouse reads whole afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
from tests.lake_state import fingerprint, orphans_and_missing
from tests.postgres_server import PostgresServer

WRITER = """
import sys
from pipelines.lib.config import paths_from_env
from pipelines.lib.publish import publish_warehouse
print(publish_warehouse(paths_from_env(), run_id=sys.argv[1]).snapshot_id)
"""
CLOCK = {"meta.publish"}


def _machine(published_home: Path, root: Path) -> Path:
    """A second machine's home: the same lake and snapshots, no warehouse of its own (the catalog is shared)."""
    shutil.copytree(published_home, root, ignore=shutil.ignore_patterns("catalog.sqlite*", "warehouse"))
    return root


def _publish(home: Path, env: dict[str, str], run_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, run_id], env={**env, "THREATWATCH_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_publishes_at_once_on_one_postgres_catalog_both_commit(
        published_home: Path, postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shared_data = tmp_path / "shared-data"  # the DATA_PATH both machines write to (object storage, deployed)
    env = {**os.environ, **postgres_server.catalog_env(postgres_server.create_database()),
           "THREATWATCH_DATA_PATH": str(shared_data)}
    first, second = _machine(published_home, tmp_path / "a"), _machine(published_home, tmp_path / "b")
    initial = _publish(first, env, "initial")
    _, err = initial.communicate(timeout=600)
    assert initial.returncode == 0, err[-3000:]
    for name in ("THREATWATCH_CATALOG", "THREATWATCH_CATALOG_PASSWORD", "THREATWATCH_DATA_PATH"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("THREATWATCH_HOME", str(first))
    with connect_warehouse(paths_from_env(), read_only=True) as con:
        before = {k: v for k, v in fingerprint(con).items() if k not in CLOCK}

    writers = [_publish(first, env, "writer-a"), _publish(second, env, "writer-b")]
    outcomes = [w.communicate(timeout=600) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err[-3000:] for _, err in outcomes]

    with connect_warehouse(paths_from_env(), read_only=True) as con:
        messages = [m for (m,) in con.execute("SELECT commit_message FROM ducklake_snapshots('warehouse') "
                                              "WHERE commit_message IS NOT NULL").fetchall()]
        for run in ("initial", "writer-a", "writer-b"):
            assert sum(f"run {run};" in m for m in messages) == 1, messages  # each publish committed once
        committed = sorted(int(out.strip()) for out, _ in outcomes)
        assert committed[0] != committed[1]  # two snapshots, one after the other
        assert {k: v for k, v in fingerprint(con).items() if k not in CLOCK} == before  # whole, same lake
        assert con.execute("SELECT count(*) FROM meta.publish").fetchone()[0] == 1
        assert orphans_and_missing(con, shared_data)[1] == set()  # no file the catalog lists is missing
