"""The lake: staged Parquet per table and snapshot, with the validation verdict beside it.

Layout: ``<home>/lake/<table>/<snapshot_id>.parquet``, ``<snapshot_id>.validation.json``
and ``<snapshot_id>.quarantine.parquet``. A partitioned table (conflict events) has one folder per
partition, ``<table>/<partition>/<snapshot_id>.parquet``, addressed as the table ``<table>/<partition>``. Files are written to a temp name and renamed, so a
reader never sees half a file. Publish only takes snapshots whose validation passed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from pipelines.lib.files import atomic_write, atomic_write_text
from pipelines.lib.validation import ValidationReport
from transforms.quarantine import QUARANTINE_SCHEMA


class Lake:
    """Staged tables as immutable Parquet files, one per table and snapshot."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, table: str, snapshot_id: str, kind: str = "parquet") -> Path:
        suffix = {"parquet": ".parquet", "validation": ".validation.json", "quarantine": ".quarantine.parquet",
                  "failed": ".failed.json"}[kind]
        return self.root / table / f"{snapshot_id}{suffix}"

    def write(self, table: str, snapshot_id: str, frame: pl.DataFrame) -> Path:
        """Write a staged table for one snapshot; a rewrite replaces it (idempotent re-staging)."""
        target = self.path(table, snapshot_id)
        atomic_write(target, lambda p: frame.write_parquet(p, statistics=True))
        # A re-stage invalidates any earlier verdict on this snapshot.
        self.path(table, snapshot_id, "validation").unlink(missing_ok=True)
        return target

    def write_quarantine(self, table: str, snapshot_id: str, rows: pl.DataFrame) -> Path:
        """Keep the rows a row-level rule rejected, with their reasons, beside the staged table. No rows, no
        file (a GDELT backfill stages thousands of snapshots, nearly all without rejects); an earlier file of
        the snapshot goes, so a re-stage never keeps stale rejects."""
        target = self.path(table, snapshot_id, "quarantine")
        if rows.is_empty():
            target.unlink(missing_ok=True)
        else:
            atomic_write(target, lambda p: rows.write_parquet(p))
        return target

    def read(self, table: str, snapshot_id: str) -> pl.DataFrame:
        """Read one staged table snapshot."""
        return pl.read_parquet(self.path(table, snapshot_id))

    def read_quarantine(self, table: str, snapshot_id: str) -> pl.DataFrame:
        """Read the rejected rows of one staged snapshot (empty when there were none)."""
        path = self.path(table, snapshot_id, "quarantine")
        return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=QUARANTINE_SCHEMA)

    def record_validation(self, table: str, snapshot_id: str, report: ValidationReport) -> Path:
        """Store the suite's verdict; only a passing verdict makes a snapshot publishable."""
        target = self.path(table, snapshot_id, "validation")
        atomic_write_text(target, report.to_json())
        return target

    def validation(self, table: str, snapshot_id: str) -> ValidationReport | None:
        """The stored verdict for one staged snapshot, if it was validated."""
        path = self.path(table, snapshot_id, "validation")
        return ValidationReport.from_json(path.read_text(encoding="utf-8")) if path.exists() else None

    def record_staging_failure(self, table: str, snapshot_id: str, error: str) -> Path:
        """Remember that a snapshot could not be staged, so later runs do not retry it behind the latest."""
        target = self.path(table, snapshot_id, "failed")
        atomic_write_text(target, json.dumps({"error": error}))
        return target

    def failed(self, table: str) -> set[str]:
        """Snapshots whose staging failed."""
        folder = self.root / table
        return {p.name[: -len(".failed.json")] for p in folder.glob("*.failed.json")} if folder.is_dir() else set()

    def snapshots(self, table: str) -> list[str]:
        """Snapshot ids staged for a table, oldest first (ids sort by time)."""
        folder = self.root / table
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(".parquet")] for p in folder.glob("*.parquet") if not p.name.endswith(".quarantine.parquet"))

    def validated(self, table: str) -> list[str]:
        """Every snapshot of a table whose validation passed, oldest first."""
        return [
            snapshot_id for snapshot_id in self.snapshots(table)
            if (report := self.validation(table, snapshot_id)) is not None and report.success
        ]


UNDATED = "_undated"  # rejected event rows without a usable date: kept per snapshot, outside any partition


def partition_table(table: str, partition: str) -> str:
    """The lake name of one partition of a partitioned table: every Lake method takes it as a table."""
    return f"{table}/{partition}"


class PartitionedLake:
    """A partitioned staged table: one folder per partition, each replaced whole when it is re-staged."""

    def __init__(self, lake: Lake, table: str):
        self.lake, self.table = lake, table
        self.root = lake.root / table

    def partitions(self) -> list[str]:
        """Partition keys with a folder, in key order ('_'-prefixed folders are bookkeeping, not partitions)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))

    def start_replacement(self, partition: str) -> Path:
        """A hidden folder to build a partition's new files in, beside the partition it will replace."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{partition}.", dir=self.root))

    def write_replacement(self, building: Path, snapshot_id: str, frame: "pl.DataFrame",
                          quarantined: "pl.DataFrame") -> None:
        """Write one snapshot's rows (and rejects) of a partition into its replacement folder."""
        scratch = Lake(building.parent)
        scratch.write(building.name, snapshot_id, frame)
        scratch.write_quarantine(building.name, snapshot_id, quarantined)

    def finish_replacement(self, partition: str, building: Path) -> None:
        """Swap the replacement in: two renames, the old folder removed after."""
        try:
            target = self.root / partition
            old = None
            if target.exists():
                old = target.rename(self.root / f".{partition}.old-{os.getpid()}-{building.name}")
            building.rename(target)
        except BaseException:
            self.discard_replacement(building)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def discard_replacement(building: Path) -> None:
        """Drop a replacement that will not be swapped in."""
        shutil.rmtree(building, ignore_errors=True)

    def files(self, partition: str) -> list[str]:
        """Snapshot ids staged in one partition."""
        return self.lake.snapshots(partition_table(self.table, partition))

    def pending(self) -> dict[str, list[str]]:
        """Partition -> snapshot ids staged but not yet validated."""
        out = {}
        for partition in self.partitions():
            name = partition_table(self.table, partition)
            todo = [s for s in self.lake.snapshots(name) if self.lake.validation(name, s) is None]
            if todo:
                out[partition] = todo
        return out

    def coverage(self, snapshot_id: str) -> list[str] | None:
        """The partitions a snapshot's rows fall in, once it has been read; None if never read."""
        path = self.root / "_coverage" / f"{snapshot_id}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def record_coverage(self, snapshot_id: str, partitions: list[str]) -> None:
        """Remember which partitions a snapshot covers, so a partition run reads only the snapshots it needs."""
        target = self.root / "_coverage" / f"{snapshot_id}.json"
        atomic_write_text(target, json.dumps(sorted(partitions)))
