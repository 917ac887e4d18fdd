"""Every query example in README.md runs as written against the offline warehouse and returns rows.

Covered: each statement of each ```sql block, each `threatwatch sql "…"` in a ```bash block (through the
CLI), each `duckdb …` command line (DuckDB's own CLI, from the test extra), and each ```python block; the
shell and Python examples run in a folder whose `data/` is the published offline home, as on a fresh
checkout after the Quickstart's `threatwatch run --offline`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from tests.conftest import REPO
from tests.warehouse_compare import open_warehouse

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, re.S | re.M)


def _sql_statements() -> list[str]:
    return [s.query.strip() for lang, body in BLOCKS if lang == "sql" for s in duckdb.extract_statements(body)]


def _bash_lines() -> list[str]:
    return [line for lang, body in BLOCKS if lang == "bash" for line in body.splitlines()]


def _threatwatch_sql_queries() -> list[str]:
    queries = []
    for line in _bash_lines():
        words = shlex.split(line, comments=True)
        queries += [words[i + 2] for i in range(len(words) - 2)
                    if words[i].endswith("threatwatch") and words[i + 1] == "sql"]
    return queries


def _duckdb_cli_lines() -> list[str]:
    return [line for line in _bash_lines() if re.match(r"^(\.venv/bin/)?duckdb\s", line)]


def _python_blocks() -> list[str]:
    return [body for lang, body in BLOCKS if lang == "python"]


def test_the_readme_has_the_examples_this_test_runs():
    assert len(_sql_statements()) >= 7 and len(_threatwatch_sql_queries()) >= 2
    assert len(_duckdb_cli_lines()) >= 1 and len(_python_blocks()) >= 1


@pytest.fixture(scope="module")
def readme_cwd(published_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose data/ is the published offline home and whose .venv is the one running the tests, like
    the repo root after the Quickstart (the README loads the DuckDB extensions from .venv's wheels)."""
    cwd = tmp_path_factory.mktemp("readme")
    shutil.copytree(published_home, cwd / "data")
    (cwd / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return cwd


@pytest.mark.parametrize("statement", _sql_statements(), ids=lambda s: s.split("\n")[0][:60])
def test_each_sql_example_returns_rows(readme_cwd: Path, statement: str):
    with open_warehouse(readme_cwd / "data") as con:
        rows = con.execute(statement).fetchall()
    assert rows, statement


@pytest.mark.parametrize("query", _threatwatch_sql_queries(), ids=lambda s: s[:60])
def test_each_threatwatch_sql_example_prints_rows(readme_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture, query: str):
    monkeypatch.setenv("THREATWATCH_HOME", str(readme_cwd / "data"))
    for name in ("THREATWATCH_CATALOG", "THREATWATCH_DATA_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert main(["sql", query]) == 0, capsys.readouterr().err
    last = capsys.readouterr().out.splitlines()[-1]
    assert re.fullmatch(r"\((\d+) rows?\)", last) and last != "(0 rows)", last


def test_the_2pct_example_counts_each_ally_once_per_source(readme_cwd: Path):
    """It once counted rows across three sources: 37 'Allies' at 2% in 2024 (NATO has 32)."""
    [line] = [line for line in _duckdb_cli_lines() if "meets_2pct" in line]
    query = shlex.split(line)[-1]
    with open_warehouse(readme_cwd / "data") as con:
        columns = [d[0] for d in con.execute(query).description]
        rows = con.execute(query).fetchall()
        allies = con.execute("SELECT count(*) FROM core.dim_country WHERE nato_member_since IS NOT NULL").fetchone()[0]
    assert "source" in columns
    at_2pct = columns.index("allies_at_2pct")
    assert rows and all(r[at_2pct] <= allies for r in rows)


def _run_shell(line: str, cwd: Path) -> subprocess.CompletedProcess:
    # `.venv/bin/duckdb` is the test extra's DuckDB CLI, in the environment running the tests
    venv_bin = str(Path(sys.executable).parent)
    command = re.sub(r"(^|\s)\.venv/bin/", r"\1", line)
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("line", _duckdb_cli_lines(), ids=lambda s: s[:60])
def test_each_duckdb_cli_example_runs_as_written(readme_cwd: Path, line: str):
    venv_bin = str(Path(sys.executable).parent)
    assert shutil.which("duckdb", path=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"), (
        "DuckDB's CLI is not installed: it comes with the test extra (pip install -e '.[test]')")
    done = _run_shell(line, readme_cwd)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) > 4, done.stdout  # a box with a header and rows


@pytest.mark.parametrize("code", _python_blocks(), ids=lambda s: s.split("\n")[1][:60] if "\n" in s else s[:60])
def test_each_python_example_runs_and_returns_rows(readme_cwd: Path, code: str):
    # The last expression is the example's result; print its size so the test can see rows came back.
    script = code.rstrip() + "\n"
    *body, last = script.rstrip().splitlines()
    script = "\n".join(body) + f"\n_result = {last}\nprint(len(_result))\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=readme_cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) > 0, done.stdout
