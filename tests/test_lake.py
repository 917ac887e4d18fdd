"""The lake: staged Parquet per snapshot, verdicts beside it, and what publish may take."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.lake import Lake, PartitionedLake, partition_table
from pipelines.lib.validation import ValidationReport


def report(snapshot_id: str, success: bool) -> ValidationReport:
    return ValidationReport(suite="s", table="t", snapshot_id=snapshot_id, success=success, row_count=1,
                            outcomes=[], validated_at="2026-01-01T00:00:00Z")


def test_only_passing_verdicts_make_a_snapshot_publishable(tmp_path: Path):
    lake = Lake(tmp_path)
    for snapshot_id, verdict in (("20260101T000000Z-a", True), ("20260102T000000Z-b", False), ("20260103T000000Z-c", None)):
        lake.write("t", snapshot_id, pl.DataFrame({"x": [1]}))
        if verdict is not None:
            lake.record_validation("t", snapshot_id, report(snapshot_id, verdict))
    assert lake.snapshots("t") == ["20260101T000000Z-a", "20260102T000000Z-b", "20260103T000000Z-c"]
    assert lake.validated("t") == ["20260101T000000Z-a"]


def test_restaging_a_snapshot_drops_its_old_verdict(tmp_path: Path):
    lake = Lake(tmp_path)
    lake.write("t", "s1", pl.DataFrame({"x": [1]}))
    lake.record_validation("t", "s1", report("s1", True))
    lake.write("t", "s1", pl.DataFrame({"x": [2]}))
    assert lake.validation("t", "s1") is None and lake.validated("t") == []


def test_a_restage_without_rejects_drops_the_old_rejects_and_writes_no_file(tmp_path: Path):
    from transforms.quarantine import QUARANTINE_SCHEMA

    lake = Lake(tmp_path)
    rejects = pl.DataFrame({c: [None] for c in QUARANTINE_SCHEMA}, schema=QUARANTINE_SCHEMA)
    lake.write_quarantine("t", "s1", rejects)
    assert lake.read_quarantine("t", "s1").height == 1
    lake.write_quarantine("t", "s1", rejects.clear())
    assert lake.read_quarantine("t", "s1").is_empty()
    assert not lake.path("t", "s1", "quarantine").exists()


def test_staging_failures_are_remembered_and_not_taken_for_staged_tables(tmp_path: Path):
    lake = Lake(tmp_path)
    lake.record_staging_failure("t", "s2", "[x] snapshot s2, file 'f': broken")
    assert lake.failed("t") == {"s2"} and lake.snapshots("t") == []
    assert "broken" in lake.path("t", "s2", "failed").read_text()


def replace_partition(plake: PartitionedLake, partition: str, frames: dict) -> None:
    """Replace a partition with `{snapshot_id: (staged, quarantined)}` the way partition staging does."""
    building = plake.start_replacement(partition)
    try:
        for snapshot_id, (frame, quarantined) in frames.items():
            plake.write_replacement(building, snapshot_id, frame, quarantined)
    except BaseException:
        plake.discard_replacement(building)
        raise
    plake.finish_replacement(partition, building)


def test_replacing_a_partition_changes_exactly_that_partition(tmp_path: Path):
    lake = Lake(tmp_path)
    plake = PartitionedLake(lake, "events")
    empty = pl.DataFrame(schema={"reason": pl.Utf8})
    replace_partition(plake, "2024-01-01", {"s1": (pl.DataFrame({"x": [1, 2]}), empty)})
    replace_partition(plake, "2024-02-01", {"s1": (pl.DataFrame({"x": [3]}), empty)})
    lake.record_validation(partition_table("events", "2024-02-01"), "s1", report("s1", True))
    before = (tmp_path / "events" / "2024-02-01" / "s1.parquet").read_bytes()

    replace_partition(plake, "2024-01-01", {"s2": (pl.DataFrame({"x": [9]}), empty)})

    assert plake.partitions() == ["2024-01-01", "2024-02-01"]
    assert plake.files("2024-01-01") == ["s2"]  # s1's rows of January are gone with the old folder
    assert lake.read(partition_table("events", "2024-01-01"), "s2")["x"].to_list() == [9]
    assert (tmp_path / "events" / "2024-02-01" / "s1.parquet").read_bytes() == before
    assert lake.validated(partition_table("events", "2024-02-01")) == ["s1"]
    assert plake.pending() == {"2024-01-01": ["s2"]}
    assert not [p for p in (tmp_path / "events").iterdir() if p.name.startswith(".")]  # no scratch left behind


def test_a_failed_partition_replacement_leaves_the_old_partition(tmp_path: Path):
    lake = Lake(tmp_path)
    plake = PartitionedLake(lake, "events")
    empty = pl.DataFrame(schema={"reason": pl.Utf8})
    replace_partition(plake, "2024-01-01", {"s1": (pl.DataFrame({"x": [1]}), empty)})

    class Unwritable:
        height = 1

        def write_parquet(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_partition(plake, "2024-01-01", {"s2": (Unwritable(), empty)})
    assert plake.files("2024-01-01") == ["s1"]
    assert not [p for p in (tmp_path / "events").iterdir() if p.name.startswith(".")]


def test_coverage_is_remembered_per_snapshot(tmp_path: Path):
    plake = PartitionedLake(Lake(tmp_path), "events")
    assert plake.coverage("s1") is None
    plake.record_coverage("s1", ["2024-02-01", "2024-01-01"])
    assert plake.coverage("s1") == ["2024-01-01", "2024-02-01"]
    assert plake.partitions() == []  # bookkeeping folders are not partitions
