"""What every column of every staged and warehouse table means, and its unit: sql/columns.csv, written once.

A row names `schema.table` and a column, or `*` for a column that means the same wherever it appears
(snapshot_id, iso3, year, ...); a table's own row wins over `*`. The text reaches the Dagster UI as each
staged and warehouse asset's `dagster/column_schema` and the warehouse as DuckDB column comments.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
from dagster import TableColumn, TableSchema

from pipelines.lib.config import SQL_DIR
from pipelines.lib.sql_schema import SCHEMAS, warehouse_columns

COLUMNS_CSV = SQL_DIR / "columns.csv"
ANY_TABLE = "*"


@dataclass(frozen=True)
class ColumnDoc:
    """A column's description and unit ('' where a unit makes no sense)."""

    description: str
    unit: str

    def text(self) -> str:
        """The description with its unit, as a column comment."""
        return f"{self.description} (unit: {self.unit})" if self.unit else self.description


@lru_cache(maxsize=1)
def load_column_docs(path: Path = COLUMNS_CSV) -> dict[tuple[str, str], ColumnDoc]:
    """(table or '*', column) -> ColumnDoc, read from sql/columns.csv."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    docs: dict[tuple[str, str], ColumnDoc] = {}
    for number, row in enumerate(rows, 2):
        key = (row["table"].strip(), row["column"].strip())
        if key in docs:
            raise ValueError(f"{path.name} line {number}: {key[0]}.{key[1]} is documented twice")
        if not row["description"].strip():
            raise ValueError(f"{path.name} line {number}: {key[0]}.{key[1]} has no description")
        docs[key] = ColumnDoc(row["description"].strip(), row["unit"].strip())
    return docs


def column_doc(table: str, column: str) -> ColumnDoc | None:
    """The documentation of `schema.table`'s column: its own row, else the column's '*' row, else None."""
    docs = load_column_docs()
    return docs.get((table, column)) or docs.get((ANY_TABLE, column))


def table_column(table: str, column: str, dtype: str) -> TableColumn:
    """One column for a Dagster table schema, with its description and its unit as a tag."""
    doc = column_doc(table, column)
    if doc is None:
        return TableColumn(column, dtype)
    return TableColumn(column, dtype, description=doc.description, tags={"unit": doc.unit} if doc.unit else None)


def column_schema(table: str) -> TableSchema:
    """The documented columns of a warehouse table (`staging.stg_nato`, `core.dim_country`, ...)."""
    return TableSchema(columns=[table_column(table, c, t) for c, t in warehouse_columns()[table]])


def column_schema_metadata(table: str) -> dict[str, TableSchema]:
    """Definition metadata for the asset of `table`: its `dagster/column_schema`."""
    return {"dagster/column_schema": column_schema(table)}


def comment_columns(con: duckdb.DuckDBPyConnection) -> int:
    """COMMENT ON COLUMN for every documented column of the connection's current database; the number set.

    DuckLake (1.5.5) keeps comments on table columns only and refuses them on a view's columns, so on a
    DuckLake catalog views are left to the Dagster column schema. Call it inside a transaction: each
    comment is a catalog change (800 cost 1.7 s committed one by one, 0.5 s together).
    """
    on_ducklake = con.execute(
        "SELECT type = 'ducklake' FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    kinds = ("BASE TABLE",) if on_ducklake else ("BASE TABLE", "VIEW")
    rows = con.execute(
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
        "WHERE c.table_catalog = current_database() AND c.table_schema IN (SELECT unnest($1)) "
        "AND t.table_type IN (SELECT unnest($2))",
        [list(SCHEMAS), list(kinds)],
    ).fetchall()
    done = 0
    for schema, table, column in rows:
        doc = column_doc(f"{schema}.{table}", column)
        if doc is not None:
            con.execute(f'COMMENT ON COLUMN {schema}.{table}."{column}" IS {_literal(doc.text())}')
            done += 1
    return done


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
