"""Run the pipeline in process (what `threatwatch run` does) and summarise it for a person."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from dagster import (AssetCheckSeverity, AssetKey, AssetSelection, BetaWarning, DagsterEventType, DagsterInstance,
                     RunConfig)

from pipelines.lib.event_source_assets import covered_partitions
from pipelines.lib.source_assets import SourceSnapshotConfig
from pipelines.lib.event_source_assets import RANGE_END, RANGE_START
from pipelines.lib.config import paths_from_env
from pipelines.definitions import build_definitions
from pipelines.defs.domains import EVENT_SOURCES
from pipelines.lib.lake import Lake
from pipelines.lib.reference import load_country_crosswalk
from pipelines.lib.snapshots import SnapshotStore


@dataclass
class RunSummary:
    """What a run fetched, staged, checked and published, in a form to print."""

    success: bool
    offline: bool
    materialized: list[tuple[str, dict]] = field(default_factory=list)
    checks: list[tuple[str, str, bool, str, bool]] = field(default_factory=list)  # …, blocking-severity
    failures: list[str] = field(default_factory=list)
    warehouse: str = ""
    published: bool = False

    @property
    def blocked(self) -> bool:
        """A blocking (error-severity) check failed."""
        return any(not passed and is_error for _, _, passed, _, is_error in self.checks)

    def finish(self) -> "RunSummary":
        """Settle what the runs added up to: published if a warehouse asset materialized, failed if a check blocked."""
        self.published = any(key.startswith("warehouse/") for key, _ in self.materialized)
        self.success = self.success and not self.blocked
        return self

    def render(self) -> str:
        lines = [f"ThreatWatch run ({'offline' if self.offline else 'live'})"]
        by_layer = {layer: [(k, m) for k, m in self.materialized if k.split("/")[0] == layer]
                    for layer in ("snapshot", "staging", "warehouse")}
        for key, meta in by_layer["snapshot"]:
            if meta.get("how") == "skipped":
                lines.append(f"  skipped   {key:<48} {meta.get('problem')}")
            else:
                lines.append(f"  fetched   {key:<48} snapshot {meta.get('snapshot_id')} ({meta.get('how')}, {meta.get('files')} files)")
        for key, meta in by_layer["staging"]:
            lines.append(f"  staged    {key:<48} {meta.get('dagster/row_count')} rows, {meta.get('quarantined_rows', 0)} quarantined")
        for asset, name, passed, description, is_error in sorted(self.checks):
            verdict = "passed" if passed else ("FAILED" if is_error else "WARNING")
            lines.append(f"  check     {asset + ':' + name:<48} {verdict}")
            if not passed:  # a warning says its first line; a failure says everything
                lines += [f"              {d}" for d in description.splitlines()[: None if is_error else 1]]
        for key, meta in by_layer["warehouse"]:
            lines.append(f"  published {key:<48} {meta.get('dagster/row_count')} rows")
        for failure in self.failures:
            lines.append(f"  ERROR     {failure}")
        if self.published:
            lines.append(f"Published {self.warehouse}")
        else:
            lines.append(f"Nothing published; the warehouse at {self.warehouse} is unchanged.")
        return "\n".join(lines)


def _event_range(module, offline: bool, paths) -> tuple[str, str] | None:
    """The partitions a run of an event source covers: offline, what its snapshots or samples fill; live,
    the publisher's recent window (the last and current month, or today)."""
    spec = module.SPEC
    keys = spec.partitions_def.get_partition_keys()
    if offline:
        covered = covered_partitions(spec, SnapshotStore(paths.snapshots), Lake(paths.lake), load_country_crosswalk())
        return (covered[0], covered[-1]) if covered else None
    recent = keys[-2:] if spec.monthly else keys[-1:]
    if module.SPEC.source == "ucdp_ged":  # a yearly release revises every month it covers
        recent = keys
    return recent[0], recent[-1]


def _resolve_selection(select: str, graph) -> set[AssetKey]:
    """The asset keys a selection string (`group:warehouse`, `key:"snapshot/acled"+`) names."""
    with warnings.catch_warnings():
        # Dagster's own parser passes its beta `include_sources` to AssetSelection.groups for `group:`; not ours.
        warnings.simplefilter("ignore", BetaWarning)
        return set(AssetSelection.from_string(select).resolve(graph))


def run_pipeline(offline: bool = False, select: str | None = None, worldbank_format: str = "api") -> RunSummary:
    """Materialize every asset (or a selection) with its checks in process; never raises on asset failure.

    Event sources are partitioned, so each runs first as its own single run over its range; then one run
    of every unpartitioned asset, publish last, takes what they staged.
    """
    defs = build_definitions(offline=offline)
    graph = defs.resolve_asset_graph()
    selection = _resolve_selection(select, graph) if select else None
    paths = paths_from_env()
    summary = RunSummary(success=True, offline=offline, warehouse=str(paths.warehouse))
    # The summary below is the report; Dagster's own console log would bury it in stack traces.
    quiet = {"console": {"config": {"log_level": "CRITICAL"}}}
    with DagsterInstance.ephemeral() as instance:
        for module in EVENT_SOURCES:
            keys = {a.key for a in module.ASSETS}
            chosen = keys if selection is None else keys & selection
            if not chosen:
                continue
            window = _event_range(module, offline, paths)
            if window is None:
                continue  # nothing held and no samples: nothing to stage
            job = defs.resolve_job_def(f"{module.SPEC.source}_job")
            result = job.execute_in_process(
                run_config=RunConfig(loggers=quiet), instance=instance, raise_on_error=False,
                asset_selection=list(chosen), tags={RANGE_START: window[0], RANGE_END: window[1]})
            _collect(summary, result)
        rest = None if selection is None else [k for k in selection if not any(
            k in {a.key for a in m.ASSETS} for m in EVENT_SOURCES)]
        if rest is None or rest:
            ops = {"snapshot__worldbank": SourceSnapshotConfig(format=worldbank_format)}
            if rest is not None and AssetKey(["snapshot", "worldbank"]) not in rest:
                ops = {}
            result = defs.resolve_job_def("threatwatch_job").execute_in_process(
                run_config=RunConfig(ops=ops, loggers=quiet), instance=instance, raise_on_error=False,
                asset_selection=rest)
            _collect(summary, result)
    return summary.finish()


def _collect(summary: RunSummary, result) -> None:
    """Add one run's materializations (one line per asset, not per partition), checks and failures."""
    summary.success = summary.success and result.success
    seen = {key for key, _ in summary.materialized}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        key = mat.asset_key.to_user_string()
        if key in seen:
            continue  # a range run materializes every partition with the same metadata
        seen.add(key)
        summary.materialized.append((key, {k: getattr(v, "value", v) for k, v in mat.metadata.items()}))
    for evaluation in result.get_asset_check_evaluations():
        is_error = evaluation.severity == AssetCheckSeverity.ERROR
        summary.checks.append(
            (evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.passed,
             evaluation.description or "", is_error)
        )
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            # Dagster wraps the user's exception once; its message names source, snapshot and problem.
            cause = error.cause or error
            if "DagsterAssetCheckFailedError" in (cause.cls_name or ""):
                continue  # already reported with the check's own description
            summary.failures.append(f"{event.step_key}: {cause.message.strip()}")


def run_backfill(source: str, start: str, end: str, *, offline: bool = False, fetch_format: str = "default",
                 version: str = "") -> RunSummary:
    """One run of an event source over partitions [start, end] (each replaced whole), then a publish."""
    defs = build_definitions(offline=offline)
    paths = paths_from_env()
    summary = RunSummary(success=True, offline=offline, warehouse=str(paths.warehouse))
    quiet = {"console": {"config": {"log_level": "CRITICAL"}}}
    ops = {f"snapshot__{source}": {"config": {"format": fetch_format, "version": version}}}
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(f"{source}_job").execute_in_process(
            run_config=RunConfig(ops=ops, loggers=quiet), instance=instance, raise_on_error=False,
            tags={RANGE_START: start, RANGE_END: end})
        _collect(summary, result)
        if summary.success and not summary.blocked:
            _collect(summary, defs.resolve_job_def("publish_job").execute_in_process(
                run_config=RunConfig(loggers=quiet), instance=instance, raise_on_error=False))
    return summary.finish()
