"""Publish: build a candidate warehouse from the lake and sql/, check it, swap it in atomically.

DuckDB allows one writer or many readers per file, never both, so no run ever writes the
file analysts read. The candidate `<warehouse>.next.duckdb` is built beside the warehouse,
checked with the queries in sql/checks/, then renamed over it. A crash at any point leaves the
last good warehouse in place; readers holding the old file keep reading it (POSIX rename).
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
from pipelines.lib.files import LockHeldError, file_lock, replace_durably
from pipelines.lib.lake import Lake
from pipelines.lib.publish_partitioned import PartitionLoadError, load_partitioned
from pipelines.lib.reference import (
    load_cameo_countries,
    load_cameo_event_codes,
    load_conflict_type_map,
    load_country_crosswalk,
    load_cyber_type_map,
    load_source_precedence,
    load_value_exceptions,
)
from pipelines.lib.snapshots import SnapshotStore, prefer_real
from pipelines.lib.source_registry import load_sources_table
from pipelines.lib.staged_tables import STAGED_TABLES, StagedTable


class PublishError(RuntimeError):
    """The candidate warehouse could not be built or failed a check; the published one is untouched."""


class PublishLockedError(PublishError):
    """Another publish holds the lock."""


@dataclass
class PublishReport:
    """What a publish put in the warehouse."""

    warehouse: Path
    loaded: dict[str, list[str]] = field(default_factory=dict)  # staged table -> snapshot ids
    row_counts: dict[str, int] = field(default_factory=dict)  # warehouse table -> rows
    checks: dict[str, int] = field(default_factory=dict)  # check name -> violating rows (0 = pass)


def candidate_path(warehouse: Path) -> Path:
    """The candidate file, beside the warehouse so the final rename stays on one filesystem."""
    return warehouse.with_name(f"{warehouse.stem}.next{warehouse.suffix}")


@contextmanager
def publish_lock(warehouse: Path) -> Iterator[None]:
    """One publish at a time per warehouse, across processes; the OS drops the lock if we die."""
    lock_path = warehouse.with_name(f"{warehouse.name}.lock")
    with ExitStack() as held:
        try:
            held.enter_context(file_lock(lock_path, blocking=False))
        except LockHeldError as exc:
            raise PublishLockedError(f"another publish of {warehouse} is running (lock {lock_path})") from exc
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


def publishable_snapshots(lake: Lake, store: SnapshotStore, table: StagedTable) -> list[str]:
    """Every validated snapshot of a table (each release is kept), or only the latest when the table
    says so; bundled samples stand in only while a source has no real snapshot."""
    validated = lake.validated(table.name)
    origins = {m.snapshot_id: m.origin for m in store.list(table.source)}
    chosen = prefer_real(validated, origins.get)
    return chosen if table.keep_releases else chosen[-1:]


def _run_checks(con: duckdb.DuckDBPyConnection, report: PublishReport) -> None:
    failures = []
    for path in sql_files("checks"):
        rows = con.execute(path.read_text(encoding="utf-8")).fetchall()
        report.checks[path.stem] = len(rows)
        if rows:
            failures.append(f"{path.stem}: {len(rows)} violating rows, e.g. {rows[:3]}")
    if failures:
        raise PublishError("candidate warehouse failed its checks; nothing published:\n  " + "\n  ".join(failures))


def build_candidate(paths: Paths, target: Path, tables: tuple[StagedTable, ...] = STAGED_TABLES) -> PublishReport:
    """Build a complete warehouse file at `target` from the lake's validated snapshots and sql/."""
    lake, store = Lake(paths.lake), SnapshotStore(paths.snapshots)
    report = PublishReport(warehouse=paths.warehouse)
    con = duckdb.connect(str(target))
    try:
        _run_sql_files(con, "ddl")
        # The crosswalk is reference data, validated by its own tests; it is the dimension as is.
        _insert_frame(con, "core.dim_country", load_country_crosswalk().drop("regex").sort("iso3"))
        _insert_frame(con, "meta.value_exceptions", load_value_exceptions())
        _insert_frame(con, "meta.source_precedence", load_source_precedence())
        _insert_frame(con, "meta.cyber_type_map", load_cyber_type_map())
        _insert_frame(con, "meta.conflict_type_map", load_conflict_type_map())
        _insert_frame(con, "core.dim_cameo_event_code", load_cameo_event_codes())
        _insert_frame(con, "core.dim_cameo_actor_country", load_cameo_countries())
        _insert_frame(con, "meta.source_licences", load_sources_table().drop("default_base_url", "credentials_env"))

        loads, quarantine, validations = [], [], []
        for table in tables:
            if table.partitioned:
                try:
                    report.loaded[table.name] = load_partitioned(con, lake, store, table, loads, validations)
                except PartitionLoadError as exc:
                    raise PublishError(str(exc)) from exc
                continue
            report.loaded[table.name] = publishable_snapshots(lake, store, table)
            for snapshot_id in report.loaded[table.name]:
                target = table.warehouse_table
                before = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
                con.execute(
                    f"INSERT INTO {target} BY NAME SELECT * FROM read_parquet($1)",
                    [str(lake.path(table.name, snapshot_id))],
                )
                rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0] - before
                rejected = lake.read_quarantine(table.name, snapshot_id)
                quarantine.append(rejected)
                validations.extend(lake.validation(table.name, snapshot_id).to_rows())
                loads.append({"table_name": table.name, "source": table.source,
                              "snapshot_id": snapshot_id, "row_count": rows, "quarantined_rows": rejected.height})

        published = {s for ids in report.loaded.values() for s in ids}
        snapshots, files = _snapshot_frames(store, published)
        _insert_frame(con, "meta.snapshots", snapshots)
        _insert_frame(con, "meta.snapshot_files", files)
        if loads:
            _insert_frame(con, "meta.loads", pl.DataFrame(loads))
        if quarantine:
            _insert_frame(con, "meta.quarantine", pl.concat(quarantine))
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
        # sql/columns.csv, so that duckdb_columns() says what a column means; one commit, not one per column
        con.execute("BEGIN")
        comment_columns(con)
        con.execute("COMMIT")
        _run_checks(con, report)
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL"
        ).fetchall():
            report.row_counts[f"{schema}.{name}"] = con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchone()[0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return report


def publish_warehouse(paths: Paths, tables: tuple[StagedTable, ...] = STAGED_TABLES) -> PublishReport:
    """Build, check and atomically swap in a new warehouse; on any failure the old one stays."""
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with publish_lock(paths.warehouse):
        candidate = candidate_path(paths.warehouse)
        # A candidate left by a crashed publish is garbage: we hold the lock, so nobody is building it.
        for stale in (candidate, candidate.with_name(candidate.name + ".wal")):
            stale.unlink(missing_ok=True)
        try:
            report = build_candidate(paths, candidate, tables)
            replace_durably(candidate, paths.warehouse)
        except BaseException:
            candidate.unlink(missing_ok=True)
            candidate.with_name(candidate.name + ".wal").unlink(missing_ok=True)
            raise
    return report
