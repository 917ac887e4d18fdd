"""Readers are never blocked by a publish and never see a half-loaded table: a reader process loops counts
while a publish commits, and every count it sees is the one before the publish or the one after."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.publish import publish_warehouse

TABLES = ("core.fct_conflict_event", "meta.loads", "marts.conflict_monthly", "core.dim_country")
# Reads the counts in one transaction per round on one read-only connection, until told to stop; any error
# ends it with a non-zero exit and the error on stderr.
READER = """
import json, sys, time
from pathlib import Path
from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse
tables, stop = json.loads(sys.argv[1]), Path(sys.argv[2])
with connect_warehouse(paths_from_env(), read_only=True) as con:
    while not stop.exists():
        con.execute("BEGIN TRANSACTION")
        counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]
        con.execute("COMMIT")
        print(json.dumps(counts), flush=True)
"""


def _counts(tables=TABLES) -> list[int]:
    with connect_warehouse(paths_from_env(), read_only=True) as con:
        return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]


def _hide_one_partition_file(home: Path) -> tuple[Path, Path]:
    """Take one GDELT partition file's verdict away (unvalidated files are not published); (verdict, hidden)."""
    verdict = sorted((home / "lake" / "stg_gdelt_event").glob("2*/*.validation.json"))[-1]
    hidden = verdict.with_name(verdict.name + ".hidden")
    verdict.rename(hidden)
    return verdict, hidden


def _fresh_warehouse(home: Path) -> None:
    paths = paths_from_env()
    for leftover in home.glob("catalog.sqlite*"):
        leftover.unlink()
    shutil.rmtree(paths.data_path, ignore_errors=True)


def test_a_reader_looping_during_a_publish_sees_only_before_or_after(copied_home: Path, tmp_path: Path):
    verdict, hidden = _hide_one_partition_file(copied_home)
    _fresh_warehouse(copied_home)
    publish_warehouse(paths_from_env())  # the warehouse without that file: "before"
    before = _counts()
    hidden.rename(verdict)  # the file is validated again: the next publish adds its events

    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, json.dumps(TABLES), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert reader.stdout.readline(), "the reader did not start"  # it reads before the publish begins
        publish_warehouse(paths_from_env())
        time.sleep(1.0)  # long enough for a few more rounds after the commit
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, f"the reader failed during the publish: {err[-3000:]}"
    after = _counts()
    assert before[0] < after[0] and before[1] < after[1]  # the publish did change what readers see
    seen = [json.loads(line) for line in out.splitlines()]
    assert len(seen) >= 2
    for round_ in seen:
        for table, count, old, new in zip(TABLES, round_, before, after):
            assert count in (old, new), f"{table}: the reader saw {count} rows, neither {old} before nor {new} after"
    assert seen[-1] == after  # a long-lived reader sees the new commit without reconnecting
