"""Warehouse upkeep: merge small files, expire snapshots past the retention, delete files nothing references.

Every publish adds Parquet files (a 15-minute GDELT file adds a few small ones) and a snapshot; replaced
partitions stay on disk for time travel. Maintenance runs DuckLake's own functions, each in its own
transaction, in the order DuckLake's CHECKPOINT uses. Files are deleted only once they are older than a
grace period, so a reader still scanning a merged-away file, or a writer still writing one, is never cut off.
It must not run beside a publish: the Dagster asset shares the `warehouse` pool with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import PurePosixPath

import duckdb

from pipelines.lib.ducklake import ALIAS

# No read transaction or write lasts a day; a crashed writer's files are deleted by the next weekly run.
DEFAULT_FILE_GRACE = timedelta(days=1)
# DuckLake names every file it writes so; another Parquet file under DATA_PATH was put there by someone else.
DUCKLAKE_FILE_PREFIX = "ducklake-"


class MaintenanceError(RuntimeError):
    """Maintenance refused a setting, or stopped before deleting files DuckLake did not write."""


@dataclass(frozen=True)
class MaintenanceReport:
    """What one maintenance pass did, in counts (Dagster metadata)."""

    inlined_rows_flushed: int  # rows DuckLake kept in the catalog, written out to Parquet
    files_merged: int  # small adjacent files folded into larger ones
    files_rewritten: int  # files rewritten without their deleted rows
    files_written: int  # the larger files those two steps wrote
    snapshots_expired: int  # snapshots older than the retention, no longer reachable by time travel
    files_deleted: int  # files of expired snapshots and merged-away files, removed from DATA_PATH
    orphans_deleted: int  # files no snapshot ever committed: left by a writer that crashed

    def as_metadata(self) -> dict[str, int]:
        return asdict(self)


def _call(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    # CALL, never a query around the function: DuckLake 1.5.5 runs `SELECT sum(..) FROM (FROM ducklake_..())`
    # and returns its rows without committing what it did (a flush reported, then flushed again next time).
    result = con.execute(f"CALL {sql}", params)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row)) for row in result.fetchall()]


def _deletion_filter(grace: timedelta, now: datetime, day_grained: bool) -> tuple[str, list]:
    """The argument that limits which unused files are deleted: all (no grace), or those older than `grace`.

    On a SQLite catalog DuckLake 1.5.5 compares cleanup's `older_than` with the scheduled times as text, so
    every time of the same UTC day counts as older (measured: `now() - INTERVAL 1 hour` matched files scheduled
    a minute ago). There (`day_grained`) the cut moves back to just before midnight of its day: on every catalog
    the same files go, each at least `grace` old (at most a day more). Orphans are judged by file time, exactly.
    """
    if grace <= timedelta(0):
        return "cleanup_all => true", []  # an older_than of `now` would spare a file written this microsecond
    cut = (now - grace).astimezone(timezone.utc)
    if day_grained:
        cut = datetime.combine(cut.date(), time.min, timezone.utc) - timedelta(microseconds=1)
    return "older_than => $2", [cut]


def expire_snapshots(con: duckdb.DuckDBPyConnection, older_than: datetime, alias: str = ALIAS) -> list[int]:
    """Expire every snapshot taken before `older_than` but the latest; returns their ids.

    The ids are chosen here, by DuckDB, and passed as `versions`: DuckLake's own `older_than` is day-grained
    on a SQLite catalog (see _deletion_filter) and would expire snapshots of the last hours too.
    """
    ids = [snapshot_id for (snapshot_id,) in con.execute(
        "SELECT snapshot_id FROM ducklake_snapshots($1) WHERE snapshot_time < $2 "
        "AND snapshot_id < (SELECT max(snapshot_id) FROM ducklake_snapshots($1)) ORDER BY 1",
        [alias, older_than]).fetchall()]
    if ids:
        _call(con, "ducklake_expire_snapshots($1, versions => $2)", [alias, ids])
    return ids


def foreign_files(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> list[str]:
    """Parquet files under DATA_PATH that the catalog does not know and DuckLake did not write (never deleted)."""
    unknown = _call(con, "ducklake_delete_orphaned_files($1, dry_run => true, cleanup_all => true)", [alias])
    return sorted(row["path"] for row in unknown if not PurePosixPath(row["path"]).name.startswith(DUCKLAKE_FILE_PREFIX))


def maintain_warehouse(con: duckdb.DuckDBPyConnection, retention: timedelta, grace: timedelta = DEFAULT_FILE_GRACE,
                       now: datetime | None = None, alias: str = ALIAS) -> MaintenanceReport:
    """Flush inlined rows, merge and rewrite files, expire snapshots older than `retention`, then delete the
    files of expired snapshots and of crashed writers older than `grace` (0: all of them, now).

    Raises MaintenanceError, before deleting any orphan, when DATA_PATH holds Parquet files DuckLake did not
    write: ducklake_delete_orphaned_files would delete every one of them.
    """
    if retention <= timedelta(0):
        raise MaintenanceError(f"snapshot retention must be positive, not {retention}")
    now = now or datetime.now(timezone.utc)
    if con.execute("SELECT current_setting('TimeZone')").fetchone()[0] != "UTC":
        con.execute("SET TimeZone = 'UTC'")  # older_than compares instants; UTC keeps the logs readable too
    flushed = sum(r["rows_flushed"] for r in _call(con, "ducklake_flush_inlined_data($1)", [alias]))
    expired = len(expire_snapshots(con, now - retention, alias))
    merged = _call(con, "ducklake_merge_adjacent_files($1)", [alias])
    rewritten = _call(con, "ducklake_rewrite_data_files($1)", [alias])
    option, extra = _deletion_filter(grace, now, day_grained=True)
    deleted = len(_call(con, f"ducklake_cleanup_old_files($1, {option})", [alias, *extra]))
    strangers = foreign_files(con, alias)
    if strangers:
        shown = ", ".join(strangers[:5]) + (f" and {len(strangers) - 5} more" if len(strangers) > 5 else "")
        raise MaintenanceError(f"DATA_PATH holds {len(strangers)} file(s) DuckLake did not write ({shown}); "
                               "orphan cleanup deletes every unknown Parquet file there, so it was not run: "
                               "move them away")
    option, extra = _deletion_filter(grace, now, day_grained=False)
    orphans = len(_call(con, f"ducklake_delete_orphaned_files($1, {option})", [alias, *extra]))
    return MaintenanceReport(
        inlined_rows_flushed=flushed, files_merged=sum(r["files_processed"] for r in merged),
        files_rewritten=sum(r["files_processed"] for r in rewritten),
        files_written=sum(r["files_created"] for r in merged + rewritten), snapshots_expired=expired,
        files_deleted=deleted, orphans_deleted=orphans)
