"""The warehouse's tables as sql/ declares them: every column and type, without building a warehouse.

sql/ddl, core and marts run once per process on an empty in-memory DuckDB (about 0.1 s); what they create
is what a publish creates, so asset definitions, column documentation and suite descriptions read the
schema from the one place it is written.
"""

from __future__ import annotations

from functools import lru_cache

import duckdb
import polars as pl

from pipelines.lib.config import SQL_DIR

LAYERS = ("ddl", "core", "marts")
SCHEMAS = ("staging", "core", "marts", "meta")  # what analysts query


@lru_cache(maxsize=1)
def _empty_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for layer in LAYERS:
        for path in sorted((SQL_DIR / layer).glob("*.sql")):
            con.execute(path.read_text(encoding="utf-8"))
    return con


@lru_cache(maxsize=1)
def warehouse_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """`schema.table` -> ((column, DuckDB type), ...) in column order, for every table and view analysts query."""
    rows = _empty_warehouse().cursor().execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND schema_name IN (SELECT unnest($1)) ORDER BY schema_name, table_name, column_index",
        [list(SCHEMAS)],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return {table: tuple(columns) for table, columns in out.items()}


def empty_frame(table: str) -> pl.DataFrame:
    """A frame with the table's columns and types and no rows (what a suite is built on at definition time)."""
    return _empty_warehouse().cursor().sql(f"SELECT * FROM {table} LIMIT 0").pl()
