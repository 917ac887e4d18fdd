"""A DuckLake transaction that loses a commit race to another writer is run again, boundedly, with backoff;
nothing else is retried, and a transaction that keeps losing commits nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.ducklake_commit import CommitConflictError, commit_with_retry


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tw_home: Path) -> str:
    """The embedded SQLite catalog, then a PostgreSQL one (skipped only if it cannot start)."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_catalog")
    return request.param


@pytest.fixture
def two_writers(catalog: str):
    """Two independent DuckDB instances on one warehouse (as two processes would be), a table to fight over."""
    paths = paths_from_env()
    first, second = connect_warehouse(paths), connect_warehouse(paths)
    first.execute("CREATE SCHEMA core; CREATE TABLE core.events (id BIGINT, day INTEGER)")
    first.execute("INSERT INTO core.events SELECT range, range % 3 FROM range(30000)")
    yield first, second
    first.close()
    second.close()


def _replace_day(con: duckdb.DuckDBPyConnection, day: int, rows: int) -> None:
    con.execute("DELETE FROM core.events WHERE day = $1", [day])
    con.execute("INSERT INTO core.events SELECT range, $1 FROM range($2)", [day, rows])


def _days(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    return dict(con.execute("SELECT day, count(*) FROM core.events GROUP BY day").fetchall())


def test_a_transaction_that_lost_the_race_runs_again_on_the_winners_result(two_writers):
    mine, other = two_writers
    waits, calls = [], []

    def replace_day_one(con):
        calls.append(1)
        _replace_day(con, 1, 100)
        if len(calls) == 1:  # another writer commits a change of the same table first
            other.execute("BEGIN; DELETE FROM core.events WHERE day = 2; COMMIT")
        return "replaced"

    assert commit_with_retry(mine, replace_day_one, what="day 1", sleep=waits.append) == "replaced"
    assert len(calls) == 2 and len(waits) == 1 and 0.25 <= waits[0] <= 0.75
    assert _days(mine) == {0: 10000, 1: 100} == _days(other)  # both writers' changes, neither lost


def test_a_transaction_that_keeps_losing_gives_up_and_commits_nothing(two_writers):
    mine, other = two_writers
    waits = []

    def always_beaten(con):
        _replace_day(con, 1, 100)
        other.execute("INSERT INTO core.events SELECT range, 2 FROM range(10)")

    with pytest.raises(CommitConflictError, match="day 1 conflicted with other writers 3 times; nothing"):
        commit_with_retry(mine, always_beaten, what="day 1", attempts=3, first_wait=1.0, sleep=waits.append)
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.5 and 1.0 <= waits[1] <= 3.0  # doubling, jittered
    assert _days(other) == {0: 10000, 1: 10000, 2: 10030}  # day 1 untouched: none of the attempts committed


def test_other_errors_are_not_retried_and_roll_back(two_writers):
    mine, _ = two_writers
    calls = []

    def broken(con):
        calls.append(1)
        _replace_day(con, 1, 100)
        con.execute("INSERT INTO core.events VALUES ('not a number', 1)")

    with pytest.raises(duckdb.ConversionException):
        commit_with_retry(mine, broken, sleep=lambda s: pytest.fail("an ordinary error was retried"))
    assert len(calls) == 1 and _days(mine) == {0: 10000, 1: 10000, 2: 10000}
    assert commit_with_retry(mine, lambda con: _replace_day(con, 1, 5)) is None  # the connection still works
    assert _days(mine)[1] == 5


# Each process replaces its own table's days, appends to a shared log and replaces its row of a shared state
# table, as per-table publishes share meta.*: the shared delete + insert is a real conflict DuckLake cannot merge.
WRITER = """
import sys
from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.ducklake_commit import commit_with_retry
table, rounds, ATTEMPTS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
retries = []
with connect_warehouse(paths_from_env()) as con:
    for n in range(rounds):
        def publish(con):
            con.execute(f"DELETE FROM core.{table} WHERE day = {n % 4}")
            con.execute(f"INSERT INTO core.{table} SELECT range, {n % 4} FROM range(20000)")
            con.execute("INSERT INTO meta.loads VALUES ($1, $2)", [table, n])
            con.execute("DELETE FROM meta.latest WHERE table_name = $1", [table])
            con.execute("INSERT INTO meta.latest VALUES ($1, $2)", [table, n])
        commit_with_retry(con, publish, what=f"{table} round {n}", attempts=ATTEMPTS, first_wait=0.05,
                          on_retry=lambda attempt, exc, wait: retries.append(attempt))
print(len(retries))
"""


def test_two_processes_publishing_different_tables_both_commit(postgres_catalog: str):
    with connect_warehouse(paths_from_env()) as con:
        con.execute("CREATE SCHEMA core; CREATE SCHEMA meta; CREATE TABLE meta.loads (table_name VARCHAR, round INTEGER)")
        con.execute("CREATE TABLE meta.latest (table_name VARCHAR, round INTEGER)")
        for table in ("events_a", "events_b"):
            con.execute(f"CREATE TABLE core.{table} (id BIGINT, day INTEGER)")
    rounds = 12
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, table, str(rounds), "10"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=os.environ.copy())
               for table in ("events_a", "events_b")]
    outcomes = [writer.communicate(timeout=300) for writer in writers]
    assert [w.returncode for w in writers] == [0, 0], [err[-2000:] for _, err in outcomes]
    with connect_warehouse(paths_from_env(), read_only=True) as con:
        loads = con.execute("SELECT table_name, count(*), count(DISTINCT round) FROM meta.loads GROUP BY 1 ORDER BY 1").fetchall()
        assert loads == [("events_a", rounds, rounds), ("events_b", rounds, rounds)]  # every commit, exactly once
        latest = con.execute("SELECT table_name, round FROM meta.latest ORDER BY 1").fetchall()
        assert latest == [("events_a", rounds - 1), ("events_b", rounds - 1)]
        for table in ("events_a", "events_b"):
            assert con.execute(f"SELECT count(*), count(DISTINCT day) FROM core.{table}").fetchone() == (80000, 4)
