"""The DuckLake warehouse on a real PostgreSQL catalog: same code, configuration only; the password stays secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import WarehouseError, connect_warehouse
from tests.lake_state import orphans_and_missing
from tests.postgres_server import ROLE, PostgresServer

READ_BACK = """
from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
with connect_warehouse(paths_from_env(), read_only=True) as con:
    print(con.execute("SELECT sum(x) FROM core.t").fetchone()[0])
"""


def test_catalog_lives_in_postgres_and_another_process_reads_it(postgres_catalog: str,
                                                                 postgres_server: PostgresServer, tw_home: Path):
    paths = paths_from_env()
    with connect_warehouse(paths) as con:
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT range AS x FROM range(100000)")
        assert orphans_and_missing(con, Path(paths.data_path)) == (set(), set())
    assert not (tw_home / "catalog.sqlite").exists()
    login = {"dbname": postgres_catalog, "user": ROLE, "password": postgres_server.password}
    assert postgres_server.psql("SELECT count(*) FROM ducklake_table WHERE table_name = 't'", **login) == "1"
    assert list(Path(paths.data_path).rglob("*.parquet"))
    env = {**os.environ, "PGPASSWORD": ""}  # the reader gets the password the documented way only
    read = subprocess.run([sys.executable, "-c", READ_BACK], env=env, capture_output=True, text=True, timeout=120)
    assert (read.returncode, read.stdout.strip()) == (0, str(sum(range(100000)))), read.stderr


def test_a_wrong_password_is_refused_without_echoing_it(postgres_catalog: str, monkeypatch: pytest.MonkeyPatch):
    wrong = "not-the-password-" + os.urandom(6).hex()
    monkeypatch.setenv("THREATWATCH_CATALOG_PASSWORD", wrong)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(WarehouseError, match="password authentication failed") as refused:
        connect_warehouse(paths_from_env())
    assert wrong not in str(refused.value) and wrong not in repr(refused.value.__cause__)
