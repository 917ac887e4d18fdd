"""The lake: staged Parquet per snapshot, verdicts beside it, and what publish may take."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.lake import Lake
from pipelines.validation import ValidationReport


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
    assert lake.latest_validated("t") == "20260101T000000Z-a"


def test_restaging_a_snapshot_drops_its_old_verdict(tmp_path: Path):
    lake = Lake(tmp_path)
    lake.write("t", "s1", pl.DataFrame({"x": [1]}))
    lake.record_validation("t", "s1", report("s1", True))
    lake.write("t", "s1", pl.DataFrame({"x": [2]}))
    assert lake.validation("t", "s1") is None and lake.validated("t") == []


def test_staging_failures_are_remembered_and_not_taken_for_staged_tables(tmp_path: Path):
    lake = Lake(tmp_path)
    lake.record_staging_failure("t", "s2", "[x] snapshot s2, file 'f': broken")
    assert lake.failed("t") == {"s2"} and lake.snapshots("t") == []
    assert "broken" in lake.path("t", "s2", "failed").read_text()
