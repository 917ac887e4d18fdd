"""Where ThreatWatch keeps its state, read from the environment once per call."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The repository's data/ folder: reference tables and bundled samples ship here.
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
REFERENCE_DIR = REPO_DATA_DIR / "reference"
SAMPLES_DIR = REPO_DATA_DIR / "samples"
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@dataclass(frozen=True)
class Paths:
    """The data root (THREATWATCH_HOME) and everything derived from it."""

    home: Path
    warehouse: Path

    @property
    def snapshots(self) -> Path:
        return self.home / "snapshots"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def validation_docs(self) -> Path:
        return self.home / "validation_docs"


def paths_from_env(home: str | os.PathLike | None = None, warehouse: str | os.PathLike | None = None) -> Paths:
    """Resolve THREATWATCH_HOME (default ./data) and THREATWATCH_WAREHOUSE (default <home>/warehouse.duckdb)."""
    home_path = Path(home or os.environ.get("THREATWATCH_HOME") or "data").resolve()
    wh = warehouse or os.environ.get("THREATWATCH_WAREHOUSE") or home_path / "warehouse.duckdb"
    return Paths(home=home_path, warehouse=Path(wh).resolve())
