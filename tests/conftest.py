"""Shared fixtures: every test gets its own THREATWATCH_HOME and never sees a real endpoint."""

from __future__ import annotations

import atexit
import csv
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from tests.postgres_server import PostgresServer, PostgresUnavailable, start_postgres

pytest_plugins = ["tests.fetch_fixtures"]

# The event partitions are computed from the held data when the definitions load (docs/adr/0009), which is
# at collection: load them from an empty home, live, with no first dates configured, so the pinned graph
# (tests/test_definitions.py) is the same on every machine whatever its data/ holds.
os.environ["THREATWATCH_HOME"] = tempfile.mkdtemp(prefix="threatwatch-import-home-")
atexit.register(shutil.rmtree, os.environ["THREATWATCH_HOME"], ignore_errors=True)
for _name in [n for n in os.environ if n == "THREATWATCH_OFFLINE" or n.endswith("_FIRST_PARTITION")]:
    del os.environ[_name]

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
# Where the warehouse lives besides THREATWATCH_HOME: unset, each test gets the embedded default under its home.
CATALOG_ENV = ("THREATWATCH_CATALOG", "THREATWATCH_CATALOG_PASSWORD", "THREATWATCH_DATA_PATH")


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every run of the suite is recorded in a throwaway Dagster instance with the repo's dagster.yaml,
    never in the repo's dagster_home/ (a developer's UI history)."""
    import shutil

    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copyfile(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def crosswalk() -> pl.DataFrame:
    """The committed country crosswalk (a frame: tests cannot change it for each other)."""
    return load_country_crosswalk()


@pytest.fixture(scope="session")
def aliases() -> pl.DataFrame:
    """The committed country alias table."""
    return load_country_aliases()


@pytest.fixture
def tw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data root for one test, with the warehouse inside it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("THREATWATCH_HOME", str(home))
    for name in CATALOG_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("THREATWATCH_") and name.endswith("_URL"):
            monkeypatch.delenv(name)
    return home


def dict_rows(path: Path) -> list[dict[str, str]]:
    """A CSV's rows read independently of the code under test, with the stdlib csv module."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data; the test is skipped when the shared folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@contextmanager
def shared_home(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A fresh home for a module- or session-scoped fixture, THREATWATCH_HOME pointing at it while open."""
    home = tmp_path_factory.mktemp(name) / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THREATWATCH_HOME", str(home))
        for name in CATALOG_ENV:
            mp.delenv(name, raising=False)
        yield home


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home where the offline pipeline has run once on the bundled samples (shared, do not modify)."""
    from pipelines.run import run_pipeline

    with shared_home(tmp_path_factory, "published") as home:
        summary = run_pipeline(offline=True)
    assert summary.success, summary.render()
    return home


@pytest.fixture
def copied_home(published_home: Path, tw_home: Path) -> Path:
    """A private copy of the published home, pointed to by THREATWATCH_HOME."""
    import shutil

    shutil.rmtree(tw_home)
    shutil.copytree(published_home, tw_home)
    return tw_home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the session; tests skip (with why) only when it cannot start."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        # .ci/run installs PostgreSQL and sets this: there a cluster that will not start is a bug, not a skip
        if os.environ.get("THREATWATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (THREATWATCH_REQUIRE_POSTGRES=1) but cannot be started: {exc}")
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")
    yield server
    server.stop()


@pytest.fixture
def postgres_catalog(postgres_server: PostgresServer, tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """tw_home with its DuckLake catalog in a fresh PostgreSQL database (returned); data files stay under home."""
    database = postgres_server.create_database()
    for name, value in postgres_server.catalog_env(database).items():
        monkeypatch.setenv(name, value)
    return database
