"""Reading a whole warehouse file into comparable Python values (for idempotency and safety tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

# Columns that record when something ran, not what the data is.
CLOCK_COLUMNS = {("meta", "publish"): None, ("meta", "validation_results"): {"validated_at"}}


def warehouse_content(path: Path, *, ignore_clock: bool = True) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, keyed by schema.table; clock columns dropped when asked."""
    content = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        for schema, table in tables:
            skip = CLOCK_COLUMNS.get((schema, table), set()) if ignore_clock else set()
            if skip is None:
                continue
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name=? AND table_name=? ORDER BY column_index",
                [schema, table]).fetchall() if c not in skip]
            quoted = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f"SELECT {quoted} FROM {schema}.{table}").fetchall()
            content[f"{schema}.{table}"] = sorted(rows, key=repr)
    return content


def file_sha256(path: Path) -> str:
    """The hash of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
