"""Where ThreatWatch keeps its state, read from the environment once per call."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

# The repository's data/ folder: reference tables and bundled samples ship here.
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
REFERENCE_DIR = REPO_DATA_DIR / "reference"
SAMPLES_DIR = REPO_DATA_DIR / "samples"
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@dataclass(frozen=True)
class Paths:
    """The data root (THREATWATCH_HOME) and everything derived from it.

    `catalog`: the DuckLake catalog, ``sqlite:<path>`` or ``postgres:<libpq conninfo>`` (no password);
    `data_path`: where DuckLake writes the warehouse's Parquet files (a folder, or any URL DuckLake accepts).
    """

    home: Path
    catalog: str
    data_path: str

    @property
    def snapshots(self) -> Path:
        return self.home / "snapshots"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def validation_docs(self) -> Path:
        return self.home / "validation_docs"


def paths_from_env(home: str | os.PathLike | None = None, catalog: str | None = None,
                   data_path: str | None = None) -> Paths:
    """Resolve THREATWATCH_HOME (default ./data), THREATWATCH_CATALOG (default sqlite:<home>/catalog.sqlite)
    and THREATWATCH_DATA_PATH (default <home>/warehouse/)."""
    home_path = Path(home or os.environ.get("THREATWATCH_HOME") or "data").resolve()
    catalog = catalog or os.environ.get("THREATWATCH_CATALOG") or f"sqlite:{home_path / 'catalog.sqlite'}"
    kind, _, target = catalog.partition(":")
    if kind == "sqlite" and target:  # a relative SQLite path means relative to where we run, resolved once
        catalog = f"sqlite:{Path(target).expanduser().resolve()}"
    data = data_path or os.environ.get("THREATWATCH_DATA_PATH") or f"{home_path / 'warehouse'}/"
    if "://" not in data:  # a local folder: absolute, with the trailing slash DuckLake expects
        data = f"{Path(data).expanduser().resolve()}/"
    return Paths(home=home_path, catalog=catalog, data_path=data)


SNAPSHOT_RETENTION_ENV = "THREATWATCH_SNAPSHOT_RETENTION_DAYS"
# A month of time travel: long enough to answer "what did the warehouse say last week", short enough that the
# catalog and the files of replaced GDELT partitions do not grow without end (96 publishes a day).
DEFAULT_SNAPSHOT_RETENTION_DAYS = 30


def snapshot_retention_from_env() -> timedelta:
    """THREATWATCH_SNAPSHOT_RETENTION_DAYS (whole days, at least 1): how long DuckLake snapshots stay queryable."""
    raw = os.environ.get(SNAPSHOT_RETENTION_ENV, "").strip()
    if not raw:
        return timedelta(days=DEFAULT_SNAPSHOT_RETENTION_DAYS)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{SNAPSHOT_RETENTION_ENV}={raw!r} is not a whole number of days (1 or more)")
    return timedelta(days=int(raw))


def offline_from_env() -> bool:
    """THREATWATCH_OFFLINE=1: the UI's runs, like `--offline`, use snapshots and samples only."""
    return os.environ.get("THREATWATCH_OFFLINE", "").lower() in ("1", "true", "yes")


def first_partition_env(source: str) -> str:
    """The variable that sets an event source's first partition (docs/adr/0009)."""
    return f"THREATWATCH_{source.upper()}_FIRST_PARTITION"


def first_partition_from_env(source: str) -> date | None:
    """THREATWATCH_<SOURCE>_FIRST_PARTITION as a date (YYYY-MM-DD; a monthly source uses its month), if set."""
    name = first_partition_env(source)
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a date (YYYY-MM-DD)") from None
