"""Loading the staged tables into the DuckLake: each publish replaces only what changed in the lake.

A staged table is cut into units: one per partition (a GDELT day, an ACLED or UCDP month) of a partitioned
table, one for the whole of an unpartitioned table's rows from its source. A unit's fingerprint names its
publishable files (snapshot id, size, modification time); each publish commit stores every unit's
fingerprint in its DuckLake commit extra info, and the next publish deletes and inserts exactly the units
whose fingerprint changed. A new 15-minute GDELT file changes one day; re-staging a month changes that
month; nothing else is rewritten. The row bookkeeping (meta.loads, meta.quarantine, verdicts) is rebuilt
from the lake's small files every time, in bulk, so ten thousands of GDELT files cost their count, not a
statement each.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.lib.ducklake import ALIAS
from pipelines.lib.lake import UNDATED, Lake, PartitionedLake, partition_table
from pipelines.lib.snapshots import SnapshotStore, prefer_real
from pipelines.lib.staged_tables import StagedTable

WHOLE = ""  # the one unit of an unpartitioned table
MANIFEST_KEY = "staged_units"  # in a publish commit's extra info: staged table -> unit -> fingerprint
COMMIT_AUTHOR = "threatwatch"


class StagedLoadError(RuntimeError):
    """A staged table could not be loaded into the warehouse."""


@dataclass
class StagedLoad:
    """What loading one staged table did, and the bookkeeping rows for meta.*."""

    loaded: list[str]  # snapshot ids whose rows the table holds
    units: dict[str, str]  # unit -> fingerprint, for the commit's extra info
    replaced: list[str]  # units deleted and inserted by this publish
    inserted: list[str] = field(default_factory=list)  # snapshot ids whose rows this publish inserted
    loads: list[dict] = field(default_factory=list)
    validations: list[dict] = field(default_factory=list)
    quarantine_files: list[Path] = field(default_factory=list)
    quarantine_frames: list = field(default_factory=list)


def publishable_files(lake: Lake, store: SnapshotStore, table: StagedTable) -> dict[str, list[str]]:
    """Unit -> the snapshot ids published in it: every validated file of every partition, or every validated
    snapshot (the latest only, unless the table keeps releases); samples only while no real snapshot exists."""
    origins = {m.snapshot_id: m.origin for m in store.list(table.source)}
    if not table.partitioned:
        chosen = prefer_real(lake.validated(table.name), origins.get)
        chosen = chosen if table.keep_releases else chosen[-1:]
        return {WHOLE: chosen} if chosen else {}
    plake = PartitionedLake(lake, table.name)
    files = [(p, s) for p in plake.partitions() for s in lake.validated(partition_table(table.name, p))]
    units: dict[str, list[str]] = defaultdict(list)
    for partition, snapshot_id in prefer_real(files, lambda file: origins.get(file[1])):
        units[partition].append(snapshot_id)
    return dict(units)


def _file(lake: Lake, table: StagedTable, unit: str, snapshot_id: str, kind: str = "parquet") -> Path:
    return lake.path(table.name if unit == WHOLE else partition_table(table.name, unit), snapshot_id, kind)


def fingerprint(lake: Lake, table: StagedTable, unit: str, snapshot_ids: list[str]) -> str:
    """Changes when a file of the unit is added, dropped or re-staged (a re-staged file is a new file)."""
    digest = hashlib.sha256()
    for snapshot_id in sorted(snapshot_ids):
        stat = _file(lake, table, unit, snapshot_id).stat()
        digest.update(f"{snapshot_id}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def published_units(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Staged table -> the unit fingerprints committed by the last publish that loaded it."""
    found: dict[str, dict[str, str]] = {}
    cursor = con.execute(f"SELECT commit_extra_info FROM {ALIAS}.snapshots() WHERE author = $1 "
                         "AND commit_extra_info IS NOT NULL ORDER BY snapshot_id DESC", [COMMIT_AUTHOR])
    for (info,) in cursor.fetchall():
        for table, units in json.loads(info).get(MANIFEST_KEY, {}).items():
            found.setdefault(table, units)
    return found


def _next_partition(table: StagedTable, unit: str) -> date:
    first = date.fromisoformat(unit)
    if not table.monthly:
        return first + timedelta(days=1)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _delete_unit(con: duckdb.DuckDBPyConnection, table: StagedTable, unit: str, source_ids: list[str]) -> None:
    target = table.warehouse_table
    if unit == WHOLE:  # the source's own rows: several sources may load into one conformed table
        con.execute(f"DELETE FROM {target} WHERE snapshot_id IN (SELECT unnest($1))", [source_ids])
    else:
        con.execute(f"DELETE FROM {target} WHERE {table.partition_filter()}", [unit, _next_partition(table, unit)])


def load_staged(con: duckdb.DuckDBPyConnection, lake: Lake, store: SnapshotStore, table: StagedTable,
                before: dict[str, str] | None) -> StagedLoad:
    """Replace the units of one staged table that changed since `before` (the last published fingerprints;
    None: load it whole), inside the caller's transaction."""
    chosen = publishable_files(lake, store, table)
    units = {unit: fingerprint(lake, table, unit, ids) for unit, ids in chosen.items()}
    target = table.warehouse_table
    try:
        if before is None:  # never published with fingerprints: every row of this table is taken anew
            changed = sorted(units)
            replaced = [WHOLE] if not table.partitioned else changed
        else:
            changed = sorted(u for u in units if before.get(u) != units[u])
            replaced = sorted(set(before) - set(units) | set(changed))
        if before is None and table.partitioned:
            con.execute(f"DELETE FROM {target}")  # the table is this source's alone
        else:
            source_ids = [m.snapshot_id for m in store.list(table.source)]
            for unit in replaced:
                _delete_unit(con, table, unit, source_ids)
        paths = [str(_file(lake, table, u, s)) for u in changed for s in chosen[u]]
        if paths:
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM read_parquet($1, union_by_name = true)", [paths])
    except duckdb.Error as exc:
        raise StagedLoadError(f"loading {target} failed: {exc}") from exc
    load = StagedLoad(loaded=sorted({s for ids in chosen.values() for s in ids}), units=units, replaced=replaced,
                      inserted=sorted({s for u in changed for s in chosen[u]}))
    _bookkeeping(con, lake, table, chosen, load)
    return load


def _bookkeeping(con: duckdb.DuckDBPyConnection, lake: Lake, table: StagedTable, chosen: dict[str, list[str]],
                 load: StagedLoad) -> None:
    """meta.loads rows, verdicts and quarantined rows of every published file of the table."""
    if not load.loaded:
        return
    rows = dict(con.execute(f"SELECT snapshot_id, count(*) FROM {table.warehouse_table} "
                            "WHERE snapshot_id IN (SELECT unnest($1)) GROUP BY 1", [load.loaded]).fetchall())
    quarantined: dict[str, int] = defaultdict(int)
    seen_reports = set()
    by_snapshot: dict[str, list[str]] = defaultdict(list)
    for unit, ids in chosen.items():
        for snapshot_id in ids:
            by_snapshot[snapshot_id].append(unit)
    for snapshot_id, parts in by_snapshot.items():
        for unit in parts:
            verdict = lake.validation(table.name if unit == WHOLE else partition_table(table.name, unit), snapshot_id)
            if verdict.snapshot_id not in seen_reports:  # one suite run may judge every file of its batch
                seen_reports.add(verdict.snapshot_id)
                load.validations.extend(verdict.to_rows())
        if not table.partitioned:
            rejected = lake.read_quarantine(table.name, snapshot_id)
            load.quarantine_frames.append(rejected)
            quarantined[snapshot_id] = rejected.height
        else:
            for unit in [*parts, UNDATED]:
                path = _file(lake, table, unit, snapshot_id, "quarantine")
                if path.exists():
                    load.quarantine_files.append(path)
    if load.quarantine_files:
        counts = con.execute("SELECT snapshot_id, count(*) FROM read_parquet($1) GROUP BY 1",
                             [[str(p) for p in load.quarantine_files]]).fetchall()
        quarantined.update(dict(counts))
    for snapshot_id in sorted(by_snapshot):
        load.loads.append({"table_name": table.name, "source": table.source, "snapshot_id": snapshot_id,
                           "row_count": rows.get(snapshot_id, 0), "quarantined_rows": quarantined.get(snapshot_id, 0)})


def set_partitioning(con: duckdb.DuckDBPyConnection, table: StagedTable) -> None:
    """DuckLake partitioning on the lake's partition key, so a day's or month's rows sit in their own files
    and deleting one partition touches no other file; set once (a change would be a new catalog version)."""
    if not table.partitioned:
        return
    schema, name = table.warehouse_table.split(".")
    meta = f"__ducklake_metadata_{ALIAS}"
    done = con.execute(f"""
        SELECT count(*) FROM {meta}.ducklake_partition_info p
        JOIN {meta}.ducklake_table t USING (table_id) JOIN {meta}.ducklake_schema s USING (schema_id)
        WHERE t.table_name = $1 AND s.schema_name = $2
          AND t.end_snapshot IS NULL AND p.end_snapshot IS NULL AND s.end_snapshot IS NULL""", [name, schema]).fetchone()[0]
    if not done:
        con.execute(f"ALTER TABLE {table.warehouse_table} SET PARTITIONED BY ({table.partition_transform})")
