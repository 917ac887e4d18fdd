"""Run the pipeline in process (what `threatwatch run` does) and summarise it for a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster import AssetCheckSeverity, AssetKey, AssetSelection, DagsterEventType, DagsterInstance, RunConfig

from pipelines.assets.factory import SourceSnapshotConfig
from pipelines.config import paths_from_env
from pipelines.definitions import build_definitions


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


def run_pipeline(offline: bool = False, select: str | None = None, worldbank_format: str = "api") -> RunSummary:
    """Materialize every asset (or a selection) with its checks in process; never raises on asset failure."""
    defs = build_definitions(offline=offline)
    job = defs.resolve_job_def("threatwatch_job")
    selection = None
    if select:
        selection = list(AssetSelection.from_string(select).resolve(defs.resolve_asset_graph()))
    ops = {"snapshot__worldbank": SourceSnapshotConfig(format=worldbank_format)}
    if selection is not None and AssetKey(["snapshot", "worldbank"]) not in selection:
        ops = {}
    # The summary below is the report; Dagster's own console log would bury it in stack traces.
    run_config = RunConfig(ops=ops, loggers={"console": {"config": {"log_level": "CRITICAL"}}})
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, asset_selection=selection
        )
    summary = RunSummary(success=result.success, offline=offline, warehouse=str(paths_from_env().warehouse))
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        summary.materialized.append((mat.asset_key.to_user_string(), meta))
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
    summary.published = any(key.startswith("warehouse/") for key, _ in summary.materialized)
    if any(not passed and is_error for _, _, passed, _, is_error in summary.checks):
        summary.success = False
    return summary
