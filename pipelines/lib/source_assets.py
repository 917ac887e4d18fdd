"""One pattern for every source: snapshot asset → staging multi-asset → blocking GX checks.

A source module describes itself with a `SourceAssets` (how to fetch, where its samples are, how to
stage a snapshot's files, which suite guards each staged table) and gets its Dagster definitions here.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Optional

import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetChecksDefinition,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset,
)

from pipelines.lib.acquire import AcquiredSnapshot, acquire_snapshot
from pipelines.lib.alerts import FIRST_FAILURE_KEY
from pipelines.lib.asset_metadata import frame_preview, frame_schema
from pipelines.lib.config import SAMPLES_DIR
from pipelines.lib.http import FetchError
from pipelines.lib.lake import Lake
from pipelines.lib.resources import HttpClientResource, LakeResource, SnapshotStoreResource
from pipelines.lib.snapshots import Manifest, SnapshotDraft, SnapshotStore
from pipelines.lib.credentials import MissingCredentialsError
from pipelines.lib.source_registry import source_info
from pipelines.lib.staged_tables import StagedTable
from pipelines.lib.validation import Expect, ValidationReport, run_suite
from transforms.errors import SourceFormatError
from transforms.quarantine import to_quarantine_records

# A suite builder: (staged frame, previous validated row count) -> (expectations, frame to validate, note).
SuiteBuilder = Callable[[pl.DataFrame, Optional[int]], "tuple[list[Expect], pl.DataFrame, str]"]
# A stager: (snapshot files, snapshot id) -> {table name: (staged frame, rejected rows with `reason`)}.
Stager = Callable[[list[Path], str], "dict[str, tuple[pl.DataFrame, pl.DataFrame]]"]


@dataclass(frozen=True)
class StagedOutput:
    """One staged table of a source, with its description and its validation suite."""

    table: StagedTable
    description: str
    suite: SuiteBuilder

    @property
    def key(self) -> AssetKey:
        return AssetKey(["staging", self.table.name])


@dataclass(frozen=True)
class SourceAssets:
    """Everything the factory needs to know about a source."""

    source: str
    group: str
    description: str
    fetch: Callable[[object, SnapshotDraft, str, "SourceSnapshotConfig"], object]  # (client, draft, base_url, config)
    sample_files: Callable[["SourceSnapshotConfig"], list[Path]]
    stage: Stager
    outputs: tuple[StagedOutput, ...]
    fresh_days: int  # a scheduled look older than this is late

    @property
    def snapshot_key(self) -> AssetKey:
        return AssetKey(["snapshot", self.source])


class SourceSnapshotConfig(Config):
    """Per-run options of a snapshot asset; `format` means what the source says (World Bank: api | bulk)."""

    format: str = "default"
    per_page: int = 20000
    version: str = ""  # a publisher's release where it numbers them (UCDP/PRIO ACD "25.1"); empty: our default


def sample_dir_files(source: str, subdir: str = "") -> list[Path]:
    """The bundled sample files of a source (data/samples/<source>/[subdir]), sorted."""
    folder = SAMPLES_DIR / source / subdir
    return sorted(p for p in folder.iterdir() if p.is_file())


def _snapshot_metadata(m: Manifest, how: str, created: bool) -> dict:
    return {
        "snapshot_id": m.snapshot_id,
        "how": how,
        "new_snapshot": created,
        "origin": m.origin,
        "retrieved_at": m.retrieved_at,
        "files": len(m.files),
        "bytes": sum(f.bytes for f in m.files),
        "licence": m.licence,
        "file_list": MetadataValue.md(
            "\n".join(f"- `{f.name}` {f.bytes} B sha256 `{(f.sha256 or '')[:16]}…` <{f.url}>" for f in m.files)
        ),
    }


def _snapshots_to_stage(store: SnapshotStore, lake: Lake, spec: SourceAssets) -> list[Manifest]:
    """Snapshots never staged (every release is kept), plus the latest so a code change re-stages it."""
    manifests = store.list(spec.source)
    if not manifests:
        return []  # the snapshot asset has already said why, loudly; nothing to stage is not an error
    first = spec.outputs[0].table.name
    failed = lake.failed(first)
    staged = set(lake.snapshots(first))
    todo = [m for m in manifests[:-1] if m.snapshot_id not in staged and m.snapshot_id not in failed]
    return todo + [manifests[-1]]


def build_source_assets(spec: SourceAssets) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The snapshot asset, the staging multi-asset and one blocking GX check per staged table."""

    @asset(
        key=spec.snapshot_key,
        group_name=spec.group,
        kinds={"http"},
        freshness_policy=FreshnessPolicy.time_window(
            fail_window=timedelta(days=spec.fresh_days + 1), warn_window=timedelta(days=spec.fresh_days)
        ),
        check_specs=[AssetCheckSpec("fetch_succeeded", asset=spec.snapshot_key,
                                    description="The publisher answered; a failure means the last snapshot was kept.")],
        description=spec.description,
    )
    def snapshot_asset(
        context: AssetExecutionContext,
        config: SourceSnapshotConfig,
        http: HttpClientResource,
        snapshots: SnapshotStoreResource,
    ):
        store = snapshots.store()
        try:
            acquired = acquire_snapshot(
                store,
                spec.source,
                offline=http.offline,
                fetch=lambda draft: spec.fetch(http.client(), draft, source_info(spec.source).base_url(), config),
                sample_files=lambda: spec.sample_files(config),
            )
            problem = None
        except (FetchError, MissingCredentialsError) as exc:
            # One publisher's outage (or missing credentials) must not freeze the warehouse: carry on
            # with its last snapshot, or with none, loudly — a failed check and a warning, never silence.
            latest = store.latest(spec.source)
            acquired = AcquiredSnapshot(latest, "kept (fetch failed)") if latest else None
            problem = str(exc)
            context.log.warning(f"{spec.source}: {problem}; " + (
                f"keeping snapshot {latest.snapshot_id}" if latest else "no snapshot yet, the source is skipped"))
        if acquired is None:
            yield MaterializeResult(metadata={"how": "skipped", "problem": problem})
        else:
            m = acquired.manifest
            context.log.info(f"{spec.source} snapshot {m.snapshot_id} ({acquired.how}, {len(m.files)} files)")
            yield MaterializeResult(metadata=_snapshot_metadata(m, acquired.how, acquired.created))
        yield AssetCheckResult(
            check_name="fetch_succeeded", passed=problem is None, severity=AssetCheckSeverity.WARN,
            description=problem or f"{acquired.how}: snapshot {acquired.manifest.snapshot_id}",
        )

    @multi_asset(
        name=f"{spec.source}_staging",
        specs=[
            AssetSpec(o.key, deps=[spec.snapshot_key], group_name=spec.group, kinds={"polars", "parquet"},
                      description=o.description)
            for o in spec.outputs
        ],
    )
    def staging_asset(context: AssetExecutionContext, snapshots: SnapshotStoreResource, lake: LakeResource):
        store, lake_ = snapshots.store(), lake.lake()
        staged: dict[str, list[tuple[str, pl.DataFrame, int]]] = {o.table.name: [] for o in spec.outputs}
        for manifest in _snapshots_to_stage(store, lake_, spec):
            files = [store.file_path(manifest, f.name) for f in manifest.files]
            try:
                tables = spec.stage(files, manifest.snapshot_id)
            except SourceFormatError as exc:
                named = exc.with_snapshot(manifest.snapshot_id)
                lake_.record_staging_failure(spec.outputs[0].table.name, manifest.snapshot_id, str(named))
                raise named from exc
            for o in spec.outputs:
                frame, rejected = tables[o.table.name]
                lake_.write(o.table.name, manifest.snapshot_id, frame)
                lake_.write_quarantine(o.table.name, manifest.snapshot_id,
                                       to_quarantine_records(rejected, source=spec.source, table=o.table.name))
                staged[o.table.name].append((manifest.snapshot_id, frame, rejected.height))
        for o in spec.outputs:
            if not staged[o.table.name]:
                yield MaterializeResult(asset_key=o.key, metadata={"snapshot_id": "none", "dagster/row_count": 0})
                continue
            snapshot_id, frame, quarantined = staged[o.table.name][-1]
            yield MaterializeResult(
                asset_key=o.key,
                metadata={
                    "snapshot_id": snapshot_id,
                    "snapshots_staged": MetadataValue.json([s for s, _, _ in staged[o.table.name]]),
                    "dagster/row_count": frame.height,
                    "quarantined_rows": quarantined,
                    "preview": frame_preview(frame),
                    "dagster/column_schema": frame_schema(frame).value,
                },
            )

    checks = [_build_check(spec, o) for o in spec.outputs]
    return [snapshot_asset, staging_asset], checks


def _previous_rows(lake: Lake, table: StagedTable, snapshot_id: str) -> int | None:
    earlier = [s for s in lake.validated(table.name) if s < snapshot_id]
    return lake.validation(table.name, earlier[-1]).row_count if earlier else None


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


def _build_check(spec: SourceAssets, output: StagedOutput) -> AssetChecksDefinition:
    @asset_check(asset=output.key, name=f"gx_{output.table.name}", blocking=True,
                 description=f"Great Expectations suite on {output.table.name}; a failure blocks publication.")
    def gx_check(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
        lake_ = lake.lake()
        # Every staged snapshot without a verdict: normally the one just staged, after an import several.
        pending = [s for s in lake_.snapshots(output.table.name) if lake_.validation(output.table.name, s) is None]
        reports, notes = [], []
        if not lake_.snapshots(output.table.name):
            return AssetCheckResult(passed=True, description="nothing staged yet: the source has no snapshot")
        for snapshot_id in pending or lake_.snapshots(output.table.name)[-1:]:
            frame = lake_.read(output.table.name, snapshot_id)
            expectations, frame, note = output.suite(frame, _previous_rows(lake_, output.table, snapshot_id))
            report = run_suite(frame, suite=f"{output.table.name}_suite", table=output.table.name,
                               snapshot_id=snapshot_id, expectations=expectations, docs_dir=lake.paths().validation_docs)
            lake_.record_validation(output.table.name, snapshot_id, report)
            reports.append(report)
            if not report.success:
                notes.append(f"[{spec.source}] snapshot {snapshot_id}: {note}" if note else "")
                context.log.error(f"[{spec.source}] snapshot {snapshot_id}, {output.table.name}: {note or report.summary()}")
        return check_result(reports, notes)

    return gx_check
