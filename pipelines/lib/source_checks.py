"""The blocking GX check of each staged table: every staged file without a verdict is judged by its suite.

Unpartitioned tables are judged snapshot by snapshot (a suite may compare with the previous validated row
count); partitioned tables in batches of partition files (GX costs about a second per run whatever the size).
A failure blocks publication of the table.
"""

from pathlib import Path
from typing import Callable

import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    MetadataValue,
    asset_check,
)

from pipelines.lib.alerts import FIRST_FAILURE_KEY
from pipelines.lib.lake import Lake, PartitionedLake, partition_table
from pipelines.lib.progress import ProgressLog
from pipelines.lib.resources import LakeResource
from pipelines.lib.source_spec import SourceSpec, StagedOutput
from pipelines.lib.staged_tables import StagedTable
from pipelines.lib.sql_schema import empty_frame
from pipelines.lib.validation import Expect, ValidationReport, run_suite

# Rows validated in one suite run of a partitioned table. A warm GX run costs ~0.2 s whatever the size, so
# pending partitions are judged in batches (a month-by-month backfill is not hundreds of runs); the cap bounds
# the copies GX makes, of only the columns the suite reads: a GDELT validation peaks at ~1.1 GB with 250,000
# rows (about a day), ~1.8 GB with 500,000 (benchmarks/gdelt_scale.py, phase validate).
VALIDATION_BATCH_ROWS = 250_000


def check_result(reports: list[ValidationReport], notes: list[str]) -> AssetCheckResult:
    """GX reports as one Dagster check result: failed expectations and sample values in the UI."""
    failed = [r for r in reports if not r.success]
    lines = [n for n in notes if n] + [line for r in failed for line in r.summary().splitlines()]
    first_failure = next((line for r in failed for line in r.summary().splitlines()), None)
    latest = reports[-1]
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        description="\n".join(lines) if failed else f"{len(latest.outcomes)} expectations passed",
        metadata={
            "snapshot_id": latest.snapshot_id,
            "snapshots_validated": MetadataValue.json([r.snapshot_id for r in reports]),
            "row_count": latest.row_count,
            "expectations": len(latest.outcomes),
            "failed_expectations": sum(len(r.failures()) for r in reports),
            "failures": MetadataValue.md("\n".join(f"- {line}" for line in lines) or "none"),
            # what an alert quotes (pipelines/defs/alerts.py)
            **({FIRST_FAILURE_KEY: first_failure} if first_failure else {}),
        },
    )


def _previous_rows(lake: Lake, table: StagedTable, snapshot_id: str) -> int | None:
    earlier = [s for s in lake.validated(table.name) if s < snapshot_id]
    return lake.validation(table.name, earlier[-1]).row_count if earlier else None


def validate_snapshots(spec: SourceSpec, output: StagedOutput, lake: Lake, docs_dir: Path | None,
                       log) -> AssetCheckResult:
    """Unpartitioned: every staged snapshot without a verdict (normally the one just staged, after an import
    several), else the latest again."""
    table = output.table.name
    if not lake.snapshots(table):
        return AssetCheckResult(passed=True, description="nothing staged yet: the source has no snapshot")
    pending = [s for s in lake.snapshots(table) if lake.validation(table, s) is None]
    reports, notes = [], []
    for snapshot_id in pending or lake.snapshots(table)[-1:]:
        expectations, frame, note = output.suite(lake.read(table, snapshot_id),
                                                 _previous_rows(lake, output.table, snapshot_id))
        report = run_suite(frame, suite=f"{table}_suite", table=table, snapshot_id=snapshot_id,
                           expectations=expectations, docs_dir=docs_dir)
        lake.record_validation(table, snapshot_id, report)
        reports.append(report)
        if not report.success:
            notes.append(f"[{spec.source}] snapshot {snapshot_id}: {note}" if note else "")
            log.error(f"[{spec.source}] snapshot {snapshot_id}, {table}: {note or report.summary()}")
    return check_result(reports, notes)


def validate_pending(spec: SourceSpec, lake: Lake, docs_dir: Path | None,
                     batch_rows: int = VALIDATION_BATCH_ROWS, on_progress: Callable[[int, int], None] | None = None):
    """Partitioned: validate every staged partition file without a verdict; each file gets its batch's verdict.

    Batches are planned from the files' row counts (Parquet metadata) and read one batch at a time.
    Returns (partition label, report) per batch.
    """
    output = spec.outputs[0]
    table = output.table.name
    plake = PartitionedLake(lake, table)
    batches: list[list[tuple[str, str]]] = [[]]
    rows_in_batch = 0
    for partition, snapshot_ids in plake.pending().items():
        for snapshot_id in snapshot_ids:
            rows = pl.scan_parquet(lake.path(partition_table(table, partition), snapshot_id)).select(pl.len()).collect().item()
            if batches[-1] and rows_in_batch + rows > batch_rows:
                batches.append([])
                rows_in_batch = 0
            batches[-1].append((partition, snapshot_id))
            rows_in_batch += rows
    reports = []
    batches = [b for b in batches if b]
    for done, batch in enumerate(batches, 1):
        partitions = sorted({p for p, _ in batch})
        label = partitions[0] if len(partitions) == 1 else f"{partitions[0]}..{partitions[-1]}"
        # one lazy query over the batch's files, read in parallel (relaxed: files staged by older code may differ)
        staged = pl.concat([pl.scan_parquet(lake.path(partition_table(table, p), s)) for p, s in batch],
                           how="vertical_relaxed").collect()
        expectations, frame, _ = output.suite(staged, None)
        del staged
        report = run_suite(frame, suite=f"{table}_suite", table=table, snapshot_id=f"{label} ({len(batch)} files)",
                           expectations=expectations, docs_dir=docs_dir)
        for partition, snapshot_id in batch:
            lake.record_validation(partition_table(table, partition), snapshot_id, report)
        reports.append((label, report))
        if on_progress:
            on_progress(done, len(batches))
    return reports


# How a check's description names each kind of expectation, in this order.
_EXPECTATION_WORDS = {
    "expect_column_values_to_not_be_null": "not null",
    "expect_column_values_to_be_null": "null",
    "expect_column_values_to_be_unique": "unique",
    "expect_compound_columns_to_be_unique": "unique together",
    "expect_column_values_to_be_in_set": "in a stated set",
    "expect_column_values_to_be_between": "within stated bounds",
    "expect_column_values_to_match_regex": "matching a pattern",
    "expect_table_row_count_to_equal": "row count as stated",
    "expect_table_row_count_to_be_between": "row count within bounds",
}


def describe_expectations(expectations: list[Expect]) -> str:
    """What a suite expects, by kind and column (no values: they may follow the data or the date)."""
    by_kind: dict[str, list[str]] = {}
    for e in expectations:
        columns = e.kwargs.get("column_list") or e.kwargs.get("column")
        named = "(" + ", ".join(columns) + ")" if isinstance(columns, list) else columns
        by_kind.setdefault(e.type, [])
        if named and named not in by_kind[e.type]:
            by_kind[e.type].append(named)
    order = [k for k in _EXPECTATION_WORDS if k in by_kind] + sorted(set(by_kind) - set(_EXPECTATION_WORDS))
    parts = [_EXPECTATION_WORDS.get(k, k.removeprefix("expect_").replace("_", " "))
             + (": " + ", ".join(by_kind[k]) if by_kind[k] else "") for k in order]
    return "; ".join(parts)


def suite_description(output: StagedOutput) -> str:
    """The expectations of a staged table's suite, built on an empty frame of the table's warehouse shape."""
    empty = empty_frame(output.table.warehouse_table)
    first, _, _ = output.suite(empty, None)
    later, _, _ = output.suite(empty, 1000)  # after the first snapshot a suite may bound the row count
    text = describe_expectations(first)
    if len(later) > len(first):
        text += "; after the first snapshot, the row count within bounds of the previous one's"
    return text


def build_checks(spec: SourceSpec) -> list[AssetChecksDefinition]:
    """One blocking GX check per staged table of the source."""
    return [_build_check(spec, output) for output in spec.outputs]


def _build_check(spec: SourceSpec, output: StagedOutput) -> AssetChecksDefinition:
    what = f"each new partition of {output.table.name}" if spec.partitioned else output.table.name

    @asset_check(asset=output.key, name=f"gx_{output.table.name}", blocking=True,
                 description=f"Great Expectations suite on {what}; a failure blocks publication. "
                             f"Expects {suite_description(output)}.")
    def gx_check(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        if not spec.partitioned:
            return validate_snapshots(spec, output, lake.lake(), lake.paths().validation_docs, context.log)
        reports = validate_pending(spec, lake.lake(), lake.paths().validation_docs,
                                   on_progress=ProgressLog(context.log, "batches validated"))
        if not reports:
            return AssetCheckResult(passed=True, description="no new partition files to validate")
        notes = [f"[{spec.source}] partitions {p} failed their suite" for p, r in reports if not r.success]
        for note in notes:
            context.log.error(note)
        return check_result([r for _, r in reports], notes)

    return gx_check
