"""What a DuckLake warehouse holds, in comparable form: table fingerprints and the data files it owns.

Used by the reliability tests and benchmarks/kill_publish.py: after a crash the warehouse must read the
same as before, and after maintenance the files under DATA_PATH must be exactly those the catalog lists.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

CATALOG = "warehouse"
METADATA = f"__ducklake_metadata_{CATALOG}"


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every table in the attached lake, sorted."""
    return con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $1 ORDER BY ALL",
                       [CATALOG]).fetchall()


def fingerprint(con: duckdb.DuckDBPyConnection, skip: set[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """Per table: (rows, order-free checksum of every column of every row); reading it reads every data file."""
    prints = {}
    for schema, table in warehouse_tables(con):
        name = f"{schema}.{table}"
        if name in skip:
            continue
        # sum, not xor: a duplicated row changes the sum; hugeint so it never overflows
        rows, checksum = con.execute(
            f'SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {CATALOG}."{schema}"."{table}" AS t').fetchone()
        prints[name] = (rows, int(checksum))
    return prints


def catalog_files(con: duckdb.DuckDBPyConnection) -> set[Path]:
    """Absolute paths of every data and delete file the catalog still references (any snapshot) or has
    scheduled for deletion: what DATA_PATH may legitimately hold."""
    # the DATA_PATH in use (OVERRIDE_DATA_PATH), not the one stored at creation: a copied or moved home reads here
    data_path = con.execute("SELECT data_path FROM ducklake_settings($1)", [CATALOG]).fetchone()[0]
    rows = con.execute(f"""
        WITH tables AS (
            SELECT t.table_id,
                   CASE WHEN t.path_is_relative
                        THEN (CASE WHEN s.path_is_relative THEN $1 || s.path ELSE s.path END) || t.path
                        ELSE t.path END AS table_path
            FROM {METADATA}.ducklake_table t JOIN {METADATA}.ducklake_schema s USING (schema_id)
            QUALIFY row_number() OVER (PARTITION BY t.table_id ORDER BY t.begin_snapshot DESC) = 1),
        files AS (
            SELECT table_id, path, path_is_relative FROM {METADATA}.ducklake_data_file
            UNION ALL SELECT table_id, path, path_is_relative FROM {METADATA}.ducklake_delete_file)
        SELECT CASE WHEN f.path_is_relative THEN tables.table_path || f.path ELSE f.path END
        FROM files f JOIN tables USING (table_id)
        UNION ALL
        SELECT CASE WHEN path_is_relative THEN $1 || path ELSE path END
        FROM {METADATA}.ducklake_files_scheduled_for_deletion""", [data_path]).fetchall()
    return {Path(os.path.normpath(path)) for (path,) in rows}


def files_on_disk(data_path: Path) -> set[Path]:
    """Every regular file under DATA_PATH."""
    return {Path(os.path.normpath(Path(root) / name)) for root, _, names in os.walk(data_path) for name in names}


def orphans_and_missing(con: duckdb.DuckDBPyConnection, data_path: Path) -> tuple[set[Path], set[Path]]:
    """(files on disk the catalog does not know, files the catalog lists that are not on disk)."""
    known, present = catalog_files(con), files_on_disk(data_path)
    return present - known, known - present
