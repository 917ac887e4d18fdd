"""Run the pipeline (what `threatwatch run` does) on the persistent Dagster instance, and summarise it.

Every run is recorded in the instance in DAGSTER_HOME, so the UI shows CLI runs, their materializations,
checks and logs like its own (docs/adr/0008). An observer sees each event as it is stored.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
from typing import Callable

from dagster import AssetCheckSeverity, AssetKey, AssetSelection, BetaWarning, DagsterError, DagsterEventType, EventLogEntry, RunConfig

from pipelines.definitions import build_definitions
from pipelines.defs.domains import EVENT_SOURCES
from pipelines.lib.config import first_partition_env, paths_from_env
from pipelines.lib.ducklake import CatalogConfig
from pipelines.lib.partition_staging import covered_partitions
from pipelines.lib.source_spec import RANGE_END, RANGE_START, SnapshotConfig, run_rows
from pipelines.lib.instance import cli_run_tags, persistent_instance
from pipelines.lib.lake import Lake
from pipelines.lib.reference import load_country_crosswalk
from pipelines.lib.snapshots import SnapshotStore

EventObserver = Callable[[EventLogEntry], None]
# The summary (and an observer) is the report; Dagster's own console log would bury it in stack traces.
QUIET_LOGGERS = {"console": {"config": {"log_level": "CRITICAL"}}}


class SelectionError(ValueError):
    """An asset selection that does not parse, or matches no asset."""


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
    runs: list[tuple[str, str]] = field(default_factory=list)  # (job, Dagster run id), in order
    not_published_because: str = ""

    @property
    def blocked(self) -> bool:
        """A blocking (error-severity) check failed."""
        return any(not passed and is_error for _, _, passed, _, is_error in self.checks)

    def finish(self) -> "RunSummary":
        """Settle what the runs added up to: published if a warehouse asset materialized, failed if a check blocked."""
        self.published = any(key.startswith("warehouse/") for key, _ in self.materialized)
        self.success = self.success and not self.blocked
        if not self.published and not self.not_published_because:
            self.not_published_because = ("a blocking check failed" if self.blocked
                                          else "a step failed" if not self.success else "")
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
        lines.append(self.outcome())
        return "\n".join(lines)

    def outcome(self) -> str:
        """One line: where the warehouse was published, or why it was not."""
        if self.published:
            return f"Published {self.warehouse}"
        because = f" ({self.not_published_because})" if self.not_published_because else ""
        return f"Nothing published{because}; the warehouse at {self.warehouse} is unchanged."


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


def resolve_selection(graph, select: str | None, publish: bool = True) -> set[AssetKey] | None:
    """The asset keys a run covers (None: every asset).

    A multi-asset that cannot be subset comes whole (`staging/stg_nato` brings `staging/stg_nato_aggregate`,
    one warehouse table brings the publish). A selection that stages something also publishes, unless
    `publish` is off; then no warehouse asset runs at all.
    """
    warehouse = {k for k in graph.get_all_asset_keys() if k.path[0] == "warehouse"}
    if not select:
        return None if publish else set(graph.get_all_asset_keys()) - warehouse
    try:
        with warnings.catch_warnings():
            # Dagster's own parser passes its beta `include_sources` to AssetSelection.groups for `group:`; not ours.
            warnings.simplefilter("ignore", BetaWarning)
            chosen = set(AssetSelection.from_string(select).required_multi_asset_neighbors().resolve(graph))
    except DagsterError as exc:  # DagsterInvalidAssetSelectionError
        raise SelectionError(f"--select {select!r} is not an asset selection: {str(exc).splitlines()[0]}") from exc
    if not chosen:
        groups = sorted({graph.get(k).group_name for k in graph.get_all_asset_keys()})
        raise SelectionError(f"--select {select!r} matches no asset (groups: {', '.join(groups)}; keys look like "
                             "'key:snapshot/nato', 'key:staging/stg_nato+')")
    if not publish:
        return chosen - warehouse
    if any(k.path[0] == "staging" for k in chosen):
        chosen |= warehouse
    return chosen


def run_pipeline(offline: bool = False, select: str | None = None, worldbank_format: str = "api", *,
                 publish: bool = True, observer: EventObserver | None = None) -> RunSummary:
    """Materialize every asset (or a selection) with its checks in process; never raises on asset failure.

    Event sources are partitioned, so each runs first as its own single run over its range; then one run
    of every unpartitioned asset, publish last, takes what they staged. Raises SelectionError for a bad
    `select` before anything runs.
    """
    defs = build_definitions(offline=offline)
    selection = resolve_selection(defs.resolve_asset_graph(), select, publish)
    paths = paths_from_env()
    summary = RunSummary(success=True, offline=offline, warehouse=CatalogConfig.from_env(paths).describe())
    if not publish:
        summary.not_published_because = "--no-publish: what was staged waits in the lake for the next publish"
    elif selection is not None and not any(k.path[0] in ("staging", "warehouse") for k in selection):
        summary.not_published_because = "the selection stages nothing"
    with persistent_instance() as instance:
        for module in EVENT_SOURCES:
            keys = {a.key for a in module.ASSETS}
            chosen = keys if selection is None else keys & selection
            if not chosen:
                continue
            window = _event_range(module, offline, paths)
            if window is None:
                continue  # nothing held and no samples: nothing to stage
            _execute(instance, defs.resolve_job_def(f"{module.SPEC.source}_job"), summary, observer,
                     asset_selection=list(chosen), tags={RANGE_START: window[0], RANGE_END: window[1]})
        event_keys = {a.key for m in EVENT_SOURCES for a in m.ASSETS}
        rest = None if selection is None else [k for k in selection if k not in event_keys]
        if rest is None or rest:
            ops = {"snapshot__worldbank": SnapshotConfig(format=worldbank_format)}
            if rest is not None and AssetKey(["snapshot", "worldbank"]) not in rest:
                ops = {}
            _execute(instance, defs.resolve_job_def("threatwatch_job"), summary, observer,
                     run_config=RunConfig(ops=ops, loggers=QUIET_LOGGERS), asset_selection=rest)
    return summary.finish()


def _execute(instance, job, summary: RunSummary, observer: EventObserver | None, **kwargs) -> None:
    """One in-process run of `job` recorded in `instance`, its events shown to `observer` as they are stored."""
    run_id = str(uuid.uuid4())  # chosen here so the observer listens before the first event
    if observer is not None:
        instance.add_event_listener(run_id, observer)
    kwargs.setdefault("run_config", RunConfig(loggers=QUIET_LOGGERS))
    tags = {**cli_run_tags(), **kwargs.pop("tags", {})}
    summary.runs.append((job.name, run_id))
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_id=run_id, tags=tags, **kwargs)
    _collect(summary, result)
    if any("DagsterExecutionInterruptedError" in f for f in summary.failures):
        raise KeyboardInterrupt  # Dagster recorded the run as failed and freed its slots; run nothing more


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
        summary.materialized.append((key, run_rows({k: getattr(v, "value", v) for k, v in mat.metadata.items()})))
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


def partition_range_problem(source: str, start: str, end: str) -> str | None:
    """Why [start, end] is not a partition range of an event source, or None when it is."""
    spec = next(m.SPEC for m in EVENT_SOURCES if m.SPEC.source == source)
    keys = spec.partitions_def.get_partition_keys()
    unit = "month (YYYY-MM-01)" if spec.monthly else "day (YYYY-MM-DD)"
    for name, value in (("--start", start), ("--end", end)):
        if value not in keys:
            # They span the held data (docs/adr/0009): say how to reach further back.
            earlier = f"; set {first_partition_env(source)} to start earlier" if value < keys[0] else ""
            return (f"{source}: {name} {value} is not a partition; partitions are each {unit} from {keys[0]} "
                    f"to {keys[-1]}{earlier}")
    if start > end:
        return f"{source}: --start {start} is after --end {end}"
    return None


def run_backfill(source: str, start: str, end: str, *, offline: bool = False, fetch_format: str = "default",
                 version: str = "", observer: EventObserver | None = None) -> RunSummary:
    """One run of an event source over partitions [start, end] (each replaced whole), then a publish."""
    problem = partition_range_problem(source, start, end)
    if problem:
        raise ValueError(problem)
    defs = build_definitions(offline=offline)
    paths = paths_from_env()
    summary = RunSummary(success=True, offline=offline, warehouse=CatalogConfig.from_env(paths).describe())
    ops = {f"snapshot__{source}": {"config": {"format": fetch_format, "version": version}}}
    with persistent_instance() as instance:
        _execute(instance, defs.resolve_job_def(f"{source}_job"), summary, observer,
                 run_config=RunConfig(ops=ops, loggers=QUIET_LOGGERS), tags={RANGE_START: start, RANGE_END: end})
        if summary.success and not summary.blocked:
            _execute(instance, defs.resolve_job_def("publish_job"), summary, observer)
    return summary.finish()
