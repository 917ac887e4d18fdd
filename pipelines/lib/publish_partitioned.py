"""Publishing a partitioned staged table (conflict events): every validated file of every partition.

The rows go in with one scan over all files, and the bookkeeping (rows per snapshot, quarantine,
verdicts) is done in bulk too, so ten thousands of GDELT files cost their rows, not a statement each.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

from pipelines.lib.lake import UNDATED, Lake, PartitionedLake, partition_table
from pipelines.lib.snapshots import SnapshotStore, prefer_real
from pipelines.lib.staged_tables import StagedTable


class PartitionLoadError(RuntimeError):
    """A partitioned table could not be loaded into the candidate warehouse."""


def publishable_partition_files(lake: Lake, store: SnapshotStore, table: StagedTable) -> list[tuple[str, str]]:
    """(partition, snapshot id) of every validated file of a partitioned table; samples only while no real
    snapshot is staged anywhere in the table."""
    plake = PartitionedLake(lake, table.name)
    files = [(p, s) for p in plake.partitions() for s in lake.validated(partition_table(table.name, p))]
    origins = {m.snapshot_id: m.origin for m in store.list(table.source)}
    return prefer_real(files, lambda file: origins.get(file[1]))


def load_partitioned(con: duckdb.DuckDBPyConnection, lake: Lake, store: SnapshotStore, table: StagedTable,
                     loads: list, validations: list) -> list[str]:
    """Insert the table's publishable files, their quarantined rows into meta.quarantine, and their load and
    verdict records into `loads` / `validations`; returns the snapshot ids loaded."""
    chosen = publishable_partition_files(lake, store, table)
    if not chosen:
        return []
    by_snapshot: dict[str, list[str]] = defaultdict(list)
    for partition, snapshot_id in chosen:
        by_snapshot[snapshot_id].append(partition)
    paths = [str(lake.path(partition_table(table.name, p), s)) for p, s in chosen]
    rejects = [lake.path(partition_table(table.name, p), s, "quarantine") for s, parts in by_snapshot.items()
               for p in [*parts, UNDATED]]
    try:
        con.execute(f"INSERT INTO {table.warehouse_table} BY NAME SELECT * FROM read_parquet($1, union_by_name = true)",
                    [paths])
        rows = dict(con.execute(f"SELECT snapshot_id, count(*) FROM {table.warehouse_table} "
                                "WHERE list_contains($1, snapshot_id) GROUP BY 1", [list(by_snapshot)]).fetchall())
        existing = [str(p) for p in rejects if p.exists()]
        if existing:
            con.execute("INSERT INTO meta.quarantine BY NAME SELECT * FROM read_parquet($1)", [existing])
        quarantined = dict(con.execute("SELECT snapshot_id, count(*) FROM meta.quarantine WHERE table_name = $1 "
                                       "GROUP BY 1", [table.name]).fetchall())
    except duckdb.Error as exc:
        raise PartitionLoadError(f"loading {table.warehouse_table} failed: {exc}") from exc
    seen_reports = set()
    for snapshot_id, parts in by_snapshot.items():
        for partition in parts:
            verdict = lake.validation(partition_table(table.name, partition), snapshot_id)
            if verdict.snapshot_id not in seen_reports:  # one suite run judged every file of its batch
                seen_reports.add(verdict.snapshot_id)
                validations.extend(verdict.to_rows())
        loads.append({"table_name": table.name, "source": table.source, "snapshot_id": snapshot_id,
                      "row_count": rows.get(snapshot_id, 0), "quarantined_rows": quarantined.get(snapshot_id, 0)})
    return sorted(by_snapshot)
