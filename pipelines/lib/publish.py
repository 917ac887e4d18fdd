"""Publish: load the lake's validated snapshots and sql/ into the DuckLake warehouse as ONE transaction.

Everything a publish writes (staged tables, provenance in meta.*, core tables, marts) is one DuckLake
transaction on `connect_warehouse`, checked by the queries in sql/checks/ before COMMIT: a failing check, an
error or a crash rolls it back, so readers only ever see the previous or the new committed snapshot. Each
commit carries a message naming the run and the snapshots it loaded (`warehouse.snapshots()` lists them).
"""

from __future__ import annotations

import json
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from pipelines.lib.column_docs import comment_columns
from pipelines.lib.config import SQL_DIR, Paths
from pipelines.lib.ducklake import ALIAS, CatalogConfig, connect_warehouse
from pipelines.lib.ducklake_commit import commit_with_retry
from pipelines.lib.files import LockHeldError, file_lock
from pipelines.lib.lake import Lake
from pipelines.lib.publish_staging import (
    COMMIT_AUTHOR,
    MANIFEST_KEY,
    StagedLoadError,
    load_staged,
    published_units,
    set_partitioning,
)
from pipelines.lib.reference import (
    load_cameo_countries,
    load_cameo_event_codes,
    load_conflict_type_map,
    load_country_crosswalk,
    load_cyber_type_map,
    load_source_precedence,
    load_value_exceptions,
)
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_registry import load_sources_table
from pipelines.lib.staged_tables import STAGED_TABLES, StagedTable

_IDS_PER_TABLE_IN_MESSAGE = 20  # a GDELT backfill loads thousands; meta.loads lists every one


class PublishError(RuntimeError):
    """The candidate warehouse could not be built or failed a check; the published one is untouched."""


class PublishLockedError(PublishError):
    """Another publish holds the lock."""


@dataclass
class PublishReport:
    """What a publish put in the warehouse."""

    warehouse: str  # the catalog and data path, as CatalogConfig.describe() says
    loaded: dict[str, list[str]] = field(default_factory=dict)  # staged table -> snapshot ids
    row_counts: dict[str, int] = field(default_factory=dict)  # warehouse table -> rows
    checks: dict[str, int] = field(default_factory=dict)  # check name -> violating rows (0 = pass)
    snapshot_id: int | None = None  # the DuckLake snapshot this publish committed
    replaced: dict[str, list[str]] = field(default_factory=dict)  # staged table -> units deleted and inserted
    newly_loaded: dict[str, list[str]] = field(default_factory=dict)  # staged table -> snapshots (re)inserted
    units: dict[str, dict[str, str]] = field(default_factory=dict)  # staged table -> unit -> fingerprint


@contextmanager
def publish_lock(paths: Paths) -> Iterator[None]:
    """One publish at a time per home, across processes; the OS drops the lock if we die.

    Two whole publishes racing would only load the same snapshots twice, and the loser's retry would too;
    the second is refused up front. (Other DuckLake writers conflict at COMMIT and retry.)
    """
    lock_path = paths.home / "publish.lock"
    with ExitStack() as held:
        try:
            held.enter_context(file_lock(lock_path, blocking=False))
        except LockHeldError as exc:
            raise PublishLockedError(f"another publish into {paths.catalog} is running (lock {lock_path})") from exc
        yield


def sql_files(layer: str) -> list[Path]:
    """The SQL files of one layer (ddl, core, marts, checks), in name order."""
    return sorted((SQL_DIR / layer).glob("*.sql"))


def _run_sql_files(con: duckdb.DuckDBPyConnection, layer: str) -> None:
    for path in sql_files(layer):
        try:
            con.execute(path.read_text(encoding="utf-8"))
        except duckdb.Error as exc:
            raise PublishError(f"sql/{layer}/{path.name} failed: {exc}") from exc


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    # BY NAME: a staged column that is missing, extra or retyped fails here, naming the table.
    # DuckDB finds the Arrow table through its variable name (a replacement scan).
    incoming_frame = frame.to_arrow()  # noqa: F841
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_frame")
    except duckdb.Error as exc:
        raise PublishError(f"loading {table} failed: {exc}") from exc


def _snapshot_frames(store: SnapshotStore, published: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    snapshots, files = [], []
    for m in store.list():
        snapshots.append(
            {
                "snapshot_id": m.snapshot_id,
                "source": m.source,
                "origin": m.origin,
                "retrieved_at": datetime.fromisoformat(m.retrieved_at.replace("Z", "+00:00")),
                "publisher": m.publisher,
                "licence": m.licence,
                "licence_url": m.licence_url,
                "citation": m.citation,
                "file_count": len(m.files),
                "total_bytes": sum(f.bytes for f in m.files),
                "is_published": m.snapshot_id in published,
            }
        )
        for f in m.files:
            files.append(
                {
                    "snapshot_id": m.snapshot_id,
                    "file_name": f.name,
                    "url": f.url,
                    "params_json": json.dumps(f.params or {}, sort_keys=True),
                    "http_status": f.http_status,
                    "etag": f.etag,
                    "last_modified": f.last_modified,
                    "bytes": f.bytes,
                    "sha256": f.sha256,
                    "content_type": f.content_type,
                }
            )
    snap_schema = {"snapshot_id": pl.Utf8, "source": pl.Utf8, "origin": pl.Utf8,
                   "retrieved_at": pl.Datetime("us", "UTC"), "publisher": pl.Utf8, "licence": pl.Utf8,
                   "licence_url": pl.Utf8, "citation": pl.Utf8, "file_count": pl.Int32,
                   "total_bytes": pl.Int64, "is_published": pl.Boolean}
    file_schema = {"snapshot_id": pl.Utf8, "file_name": pl.Utf8, "url": pl.Utf8, "params_json": pl.Utf8,
                   "http_status": pl.Int32, "etag": pl.Utf8, "last_modified": pl.Utf8, "bytes": pl.Int64,
                   "sha256": pl.Utf8, "content_type": pl.Utf8}
    return pl.DataFrame(snapshots, schema=snap_schema), pl.DataFrame(files, schema=file_schema)


def _run_checks(con: duckdb.DuckDBPyConnection, report: PublishReport) -> None:
    failures = []
    for path in sql_files("checks"):
        rows = con.execute(path.read_text(encoding="utf-8")).fetchall()
        report.checks[path.stem] = len(rows)
        if rows:
            failures.append(f"{path.stem}: {len(rows)} violating rows, e.g. {rows[:3]}")
    if failures:
        raise PublishError("the warehouse failed its checks; nothing published (rolled back):\n  " + "\n  ".join(failures))


def _empty_derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    # Reference, provenance and core tables are rewritten whole (they are small); staged tables replace what
    # changed (publish_staging.py). Inside the transaction, so readers keep the old rows until COMMIT.
    for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $1 "
                                     "AND schema_name <> 'staging' ORDER BY ALL", [ALIAS]).fetchall():
        con.execute(f'DELETE FROM {schema}."{table}"')


def load_warehouse(con: duckdb.DuckDBPyConnection, paths: Paths,
                   tables: tuple[StagedTable, ...] = STAGED_TABLES) -> PublishReport:
    """Fill the warehouse from the lake's validated snapshots and sql/, inside the caller's transaction."""
    lake, store = Lake(paths.lake), SnapshotStore(paths.snapshots)
    report = PublishReport(warehouse=CatalogConfig.from_env(paths).describe())
    _run_sql_files(con, "ddl")
    _empty_derived_tables(con)
    # The crosswalk is reference data, validated by its own tests; it is the dimension as is.
    _insert_frame(con, "core.dim_country", load_country_crosswalk().drop("regex").sort("iso3"))
    _insert_frame(con, "meta.value_exceptions", load_value_exceptions())
    _insert_frame(con, "meta.source_precedence", load_source_precedence())
    _insert_frame(con, "meta.cyber_type_map", load_cyber_type_map())
    _insert_frame(con, "meta.conflict_type_map", load_conflict_type_map())
    _insert_frame(con, "core.dim_cameo_event_code", load_cameo_event_codes())
    _insert_frame(con, "core.dim_cameo_actor_country", load_cameo_countries())
    _insert_frame(con, "meta.source_licences", load_sources_table().drop("default_base_url", "credentials_env"))

    loads, quarantine, quarantine_files, validations = [], [], [], []
    before = published_units(con)
    for table in tables:
        set_partitioning(con, table)
        try:
            load = load_staged(con, lake, store, table, before.get(table.name))
        except StagedLoadError as exc:
            raise PublishError(str(exc)) from exc
        report.loaded[table.name], report.units[table.name], report.replaced[table.name] = (
            load.loaded, load.units, load.replaced)
        report.newly_loaded[table.name] = sorted(load.inserted)
        loads += load.loads
        validations += load.validations
        quarantine += load.quarantine_frames
        quarantine_files += [str(p) for p in load.quarantine_files]

    published = {s for ids in report.loaded.values() for s in ids}
    snapshots, files = _snapshot_frames(store, published)
    _insert_frame(con, "meta.snapshots", snapshots)
    _insert_frame(con, "meta.snapshot_files", files)
    if loads:
        _insert_frame(con, "meta.loads", pl.DataFrame(loads))
    if quarantine:
        _insert_frame(con, "meta.quarantine", pl.concat(quarantine))
    if quarantine_files:
        con.execute("INSERT INTO meta.quarantine BY NAME SELECT * FROM read_parquet($1)", [quarantine_files])
    if validations:
        frame = pl.DataFrame(validations).with_columns(
            pl.col("validated_at").str.to_datetime(time_zone="UTC")
        )
        _insert_frame(con, "meta.validation_results", frame)
    try:
        threatwatch_version = version("threatwatch")
    except PackageNotFoundError:
        threatwatch_version = "unknown"
    con.execute("INSERT INTO meta.publish VALUES (?, ?)", [datetime.now(timezone.utc), threatwatch_version])

    _run_sql_files(con, "core")
    _run_sql_files(con, "marts")
    comment_columns(con)  # sql/columns.csv, so that duckdb_columns() says what a column means (marts are new tables)
    _run_checks(con, report)
    for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $1 UNION ALL "
        "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = $1 AND NOT internal ORDER BY ALL",
        [ALIAS],
    ).fetchall():
        report.row_counts[f"{schema}.{name}"] = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchone()[0]
    return report


def commit_message(run_id: str | None, loaded: dict[str, list[str]]) -> str:
    """What a publish's DuckLake snapshot says: the run, and the snapshots whose rows it (re)inserted."""
    parts = []
    for table, ids in loaded.items():
        if not ids:
            continue
        shown = ", ".join(ids[:_IDS_PER_TABLE_IN_MESSAGE])
        more = len(ids) - _IDS_PER_TABLE_IN_MESSAGE
        parts.append(f"{table}: {shown}" + (f" and {more} more (meta.loads)" if more > 0 else ""))
    return f"publish by run {run_id or '(outside Dagster)'}; loaded " + ("; ".join(parts) or "no snapshot")


def publish_warehouse(paths: Paths, tables: tuple[StagedTable, ...] = STAGED_TABLES,
                      run_id: str | None = None) -> PublishReport:
    """Load, check and commit the warehouse in one DuckLake transaction; on any failure nothing changes."""
    def publish(con: duckdb.DuckDBPyConnection) -> PublishReport:
        report = load_warehouse(con, paths, tables)
        # The extra info holds what the next publish compares against: the fingerprint of every unit loaded.
        con.execute(f"CALL {ALIAS}.set_commit_message($1, $2, extra_info => $3)",
                    [COMMIT_AUTHOR, commit_message(run_id, report.newly_loaded),
                     json.dumps({MANIFEST_KEY: report.units}, sort_keys=True)])
        return report

    with publish_lock(paths), connect_warehouse(paths) as con:
        report = commit_with_retry(con, publish, what="publish")  # any other failure rolls back and raises
        report.snapshot_id = con.execute(f"SELECT id FROM {ALIAS}.current_snapshot()").fetchone()[0]
    return report
