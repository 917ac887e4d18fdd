"""Reading a published warehouse into comparable Python values (for idempotency and safety tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import connect_warehouse

# Columns that record when something ran, not what the data is.
CLOCK_COLUMNS = {("meta", "publish"): None, ("meta", "validation_results"): {"validated_at"}}


def open_warehouse(home: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The committed warehouse of `home` (default THREATWATCH_HOME), read-only, as analysts open it."""
    return connect_warehouse(paths_from_env(home), read_only=True)


def warehouse_content(home: Path | None = None, *, ignore_clock: bool = True) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, keyed by schema.table; clock columns dropped when asked."""
    content = {}
    with open_warehouse(home) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE database_name = current_database() ORDER BY ALL").fetchall()
        for schema, table in tables:
            skip = CLOCK_COLUMNS.get((schema, table), set()) if ignore_clock else set()
            if skip is None:
                continue
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name=? AND table_name=? ORDER BY column_index", [schema, table]).fetchall()
                if c not in skip]
            quoted = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f"SELECT {quoted} FROM {schema}.{table}").fetchall()
            content[f"{schema}.{table}"] = sorted(rows, key=repr)
    return content


def committed_snapshot(home: Path | None = None) -> int:
    """The id of the warehouse's latest committed DuckLake snapshot."""
    with open_warehouse(home) as con:
        return con.execute("SELECT id FROM warehouse.current_snapshot()").fetchone()[0]


def file_sha256(path: Path) -> str:
    """The hash of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def warehouse_state(home: Path | None = None) -> tuple[int, dict[str, list[tuple]]]:
    """(latest committed DuckLake snapshot, every table's rows with clock columns): equal before and after
    means nothing was committed in between."""
    return committed_snapshot(home), warehouse_content(home, ignore_clock=False)
