"""Export a warehouse table to Parquet or CSV, always with the publishers' licence notice beside it."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.lib.config import Paths
from pipelines.lib.ducklake import CatalogConfig, connect_warehouse

_TABLE = re.compile(r"^[a-z_]+\.[a-z_][a-z0-9_]*$")


def licence_notice(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The notice for a table: each contributing source's licence, redistribution terms and citation."""
    columns = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name || '.' || table_name = ?", [table]).fetchall()}
    if "source" in columns:
        sources = [s for (s,) in con.execute(f"SELECT DISTINCT source FROM {table} ORDER BY 1").fetchall()]
    elif "snapshot_id" in columns:  # staged tables: the source is the snapshot's
        sources = [s for (s,) in con.execute(
            f"SELECT DISTINCT m.source FROM {table} t JOIN meta.snapshots m USING (snapshot_id) ORDER BY 1").fetchall()]
    else:
        sources = [s for (s,) in con.execute("SELECT source FROM meta.source_licences ORDER BY 1").fetchall()]
    published = con.execute("SELECT max(published_at) FROM meta.publish").fetchone()[0]
    lines = [f"ThreatWatch export of {table}, from the warehouse published at {published}.",
             "The data keeps its publishers' terms. Cite them as below; check the terms before redistributing.", ""]
    for source, name, licence, url, redistribution, citation in con.execute(
        """SELECT source, name, licence, licence_url, redistribution, citation FROM meta.source_licences
           WHERE list_contains(?, source) ORDER BY source""", [sources]).fetchall():
        lines += [f"[{source}] {name}", f"  licence: {licence} <{url}>", f"  redistribution: {redistribution}",
                  f"  cite: {citation}", ""]
    return "\n".join(lines)


def export_table(paths: Paths, table: str, out: Path) -> Path:
    """Write `table` to `out` (.parquet or .csv) and its notice to `<out>.NOTICE.txt`; returns the notice path."""
    if not _TABLE.match(table):
        raise ValueError(f"not a schema.table name: {table!r}")
    fmt = {".parquet": "parquet", ".csv": "csv"}.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"export to .parquet or .csv, not {out.suffix or 'no suffix'}")
    with connect_warehouse(paths, read_only=True) as con:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                             "AND schema_name || '.' || table_name = ?", [table]).fetchone()[0] + con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name || '.' || view_name = ?", [table]).fetchone()[0]
        if not exists:
            raise ValueError(f"no table or view {table} in {CatalogConfig.from_env(paths).describe()}")
        notice = licence_notice(con, table)
        out.parent.mkdir(parents=True, exist_ok=True)
        escaped = str(out).replace("'", "''")
        if fmt == "parquet":  # the notice also travels inside the file, as Parquet key-value metadata
            con.execute(f"COPY (SELECT * FROM {table}) TO '{escaped}' (FORMAT parquet, KV_METADATA {{threatwatch_notice: $1}})",
                        [notice])
        else:
            con.execute(f"COPY (SELECT * FROM {table}) TO '{escaped}' (FORMAT csv, HEADER)")
    notice_path = out.with_name(out.name + ".NOTICE.txt")
    notice_path.write_text(notice, encoding="utf-8")
    return notice_path
