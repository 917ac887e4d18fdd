"""What `threatwatch run` and `backfill` print, driven by Dagster's event stream as each event is stored.

live: one line per step outcome as it happens (fetched, staged, checked, published), a progress bar on a
terminal (steps of the run, and snapshots or batches inside a long step), then a summary table.
quiet: nothing but problems, on stderr. json: one JSON document on stdout at the end.
"""

from __future__ import annotations

import ast
import json
import sys
from typing import Any

from dagster import DagsterEventType, EventLogEntry
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.lib.instance import dagster_home
from pipelines.lib.progress import parse_progress
from pipelines.lib.source_spec import run_rows
from pipelines.lib.staged_tables import STAGED_TABLES
from pipelines.run import RunSummary

_SOURCE_OF_TABLE = {t.name: t.source for t in STAGED_TABLES}
_STEP_ENDS = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED}


def _metadata(entry: Any) -> dict:
    return {k: getattr(v, "value", v) for k, v in entry.metadata.items()}


class RunDisplay:
    """An observer for `run_pipeline`/`run_backfill` (`on_event`) and the printer of their summary."""

    def __init__(self, mode: str = "live", offline: bool = False, console: Console | None = None):
        self.mode, self.offline = mode, offline
        self.out = console or Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        self.progress: Progress | None = None
        self._run_task = self._inner_task = None
        self._said: set[tuple[str, str]] = set()  # (run id, asset key): one line per asset, not per partition
        self._published = self._begun = False

    def __enter__(self) -> "RunDisplay":
        return self

    def _begin(self) -> None:
        """At the first event (a selection that cannot run has printed its error instead)."""
        self._begun = True
        self._print(f"ThreatWatch run ({'offline' if self.offline else 'live'}); "
                    f"recorded in the Dagster instance at {dagster_home()}")
        if self.out.is_terminal:
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(), console=self.out, transient=True)
            self.progress.start()

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _print(self, text: str, style: str | None = None) -> None:
        self.out.print(text, style=style, markup=False, highlight=False)

    # ------------------------------------------------------------------ events, as they are stored

    def on_event(self, entry: EventLogEntry) -> None:
        """Print what one stored event means for a person (live mode only)."""
        if self.mode != "live":
            return
        if not self._begun:
            self._begin()
        event = entry.dagster_event
        if event is None:
            self._on_log(entry)
            return
        kind = event.event_type
        if kind == DagsterEventType.RUN_START:
            self._print(f"▶ {entry.job_name}  (Dagster run {entry.run_id[:8]})", style="bold")
        elif kind == DagsterEventType.ENGINE_EVENT:
            self._on_engine(event)
        elif kind == DagsterEventType.STEP_START and self._run_task is not None:
            self.progress.update(self._run_task, description=f"{entry.job_name}: {event.step_key[:40]}")
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            self._on_materialization(entry.run_id, event.event_specific_data.materialization)
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            self._on_check(event.event_specific_data)
        elif kind == DagsterEventType.STEP_FAILURE:
            self._on_failure(event)
        elif kind == DagsterEventType.STEP_SKIPPED:
            self._print(f"  skipped   {event.step_key} (an upstream step failed or a blocking check failed)",
                        style="yellow")
        if kind in _STEP_ENDS and self.progress is not None:
            self.progress.advance(self._run_task)
            if self._inner_task is not None:
                self.progress.remove_task(self._inner_task)
                self._inner_task = None

    def _on_log(self, entry: EventLogEntry) -> None:
        found = parse_progress(entry.user_message)
        if found is None or self.progress is None:
            return
        if self._inner_task is None:
            self._inner_task = self.progress.add_task("", total=found.total)
        self.progress.update(self._inner_task, completed=found.done, total=found.total,
                             description=f"  {entry.step_key}: {found.unit}")

    def _on_engine(self, event) -> None:
        metadata = _metadata(event.event_specific_data) if event.event_specific_data else {}
        if "step_keys" in metadata and self.progress is not None:  # the run's plan: how many steps
            steps = ast.literal_eval(metadata["step_keys"])
            if self._run_task is not None:
                self.progress.remove_task(self._run_task)
            self._run_task = self.progress.add_task("steps", total=len(steps))
        elif "pool" in metadata and event.step_key and "still" not in (event.message or ""):
            self._print(f"  waiting   {event.step_key}: another run holds the '{metadata['pool']}' pool "
                        "(one publish at a time)", style="yellow")

    def _on_materialization(self, run_id: str, mat) -> None:
        key = mat.asset_key.to_user_string()
        if (run_id, key) in self._said:
            return
        self._said.add((run_id, key))
        meta = run_rows(_metadata(mat))
        layer = mat.asset_key.path[0]
        if layer == "snapshot" and meta.get("how") == "skipped":
            self._print(f"  skipped   {key:<44} {meta.get('problem')}", style="yellow")
        elif layer == "snapshot":
            self._print(f"  fetched   {key:<44} snapshot {meta.get('snapshot_id')} "
                        f"({meta.get('how')}, {meta.get('files')} files)")
        elif layer == "staging":
            rows, quarantined = meta.get("dagster/row_count", 0), meta.get("quarantined_rows", 0)
            self._print(f"  staged    {key:<44} {rows:,} rows, {quarantined:,} quarantined")
        elif layer == "warehouse" and not self._published:  # one publish writes every warehouse table
            self._published = True
            self._print(f"  published {meta.get('warehouse', 'the warehouse')}", style="green")

    def _on_check(self, evaluation) -> None:
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        blocking = evaluation.severity.value == "ERROR"
        if evaluation.passed:
            self._print(f"  checked   {name:<44} passed")
            return
        verdict, style = ("FAILED (blocks publication)", "bold red") if blocking else ("WARNING", "yellow")
        self._print(f"  checked   {name:<44} {verdict}", style=style)
        lines = (evaluation.description or "").splitlines()
        for line in lines[: 8 if blocking else 1]:
            self._print(f"              {line}", style=style)

    def _on_failure(self, event) -> None:
        error = event.event_specific_data.error
        cause = error.cause or error  # Dagster wraps the user's exception once
        if "DagsterAssetCheckFailedError" not in (cause.cls_name or ""):
            self._print(f"  ERROR     {event.step_key}: {cause.message.strip().splitlines()[0]}", style="bold red")

    # ------------------------------------------------------------------ the end

    def finish(self, summary: RunSummary) -> None:
        """Print the summary the mode asks for."""
        if self.mode == "json":
            print(json.dumps(summary_json(summary), indent=2))
        elif self.mode == "quiet":
            if not summary.success:
                for asset, name, passed, description, is_error in summary.checks:
                    if not passed and is_error:
                        self.err.print(f"FAILED {asset}:{name}: {description.splitlines()[0] if description else ''}",
                                       markup=False)
                for failure in summary.failures:
                    self.err.print(f"ERROR {failure}", markup=False)
                self.err.print(summary.outcome(), markup=False)
        else:
            if summary.materialized:
                self.out.print(summary_table(summary))
            self._print(summary.outcome(), style="bold green" if summary.published else "bold yellow")
            if summary.runs:
                self._print(f"Dagster runs {', '.join(r[:8] for _, r in summary.runs)} are in {dagster_home()} "
                            "(`dagster dev` shows them with their logs)")


def summary_table(summary: RunSummary) -> Table:
    """One row per source: its snapshot, rows staged and quarantined, and its checks; the warehouse last."""
    rows: dict[str, dict] = {}
    for key, meta in summary.materialized:
        layer, name = key.split("/", 1)
        source = name if layer == "snapshot" else _SOURCE_OF_TABLE.get(name, "warehouse")
        row = rows.setdefault("warehouse" if layer == "warehouse" else source,
                              {"snapshot": "", "rows": 0, "quarantined": 0, "tables": 0, "checks": []})
        if layer == "snapshot":
            row["snapshot"] = meta.get("problem", "") if meta.get("how") == "skipped" else str(meta.get("how", ""))
        row["rows"] += int(meta.get("dagster/row_count", 0) or 0)
        row["quarantined"] += int(meta.get("quarantined_rows", 0) or 0)
        row["tables"] += layer != "snapshot"
    for asset, _, passed, _, is_error in summary.checks:
        layer, name = asset.split("/", 1)
        source = "warehouse" if layer == "warehouse" else name if layer == "snapshot" else _SOURCE_OF_TABLE.get(name)
        if source in rows:
            rows[source]["checks"].append("passed" if passed else "FAILED" if is_error else "warning")
    table = Table(title="Summary", title_justify="left")
    for column, justify in (("source", "left"), ("snapshot", "left"), ("tables", "right"), ("rows", "right"),
                            ("quarantined", "right"), ("checks", "left")):
        table.add_column(column, justify=justify)
    order = sorted(rows, key=lambda s: (s == "warehouse", s))
    for source in order:
        row = rows[source]
        verdicts = row["checks"]
        checks = ", ".join(f"{verdicts.count(v)} {v}" for v in ("passed", "warning", "FAILED") if v in verdicts)
        table.add_row(source, row["snapshot"], str(row["tables"]), f"{row['rows']:,}", f"{row['quarantined']:,}",
                      checks or "-")
    return table


# Shown in the UI; in a script's summary they would be noise (a Markdown preview, the column schema).
_NOT_IN_JSON = {"preview", "dagster/column_schema"}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if type(value) in (list, tuple):  # not a NamedTuple-based Dagster record
        return [_jsonable(v) for v in value]
    return str(value)


def summary_json(summary: RunSummary) -> dict:
    """The run as one JSON-able document for scripts."""
    return {
        "success": summary.success,
        "published": summary.published,
        "not_published_because": summary.not_published_because or None,
        "warehouse": summary.warehouse,
        "offline": summary.offline,
        "dagster_home": str(dagster_home()),
        "runs": [{"job": job, "run_id": run_id} for job, run_id in summary.runs],
        "assets": [{"key": key, "metadata": {k: _jsonable(v) for k, v in meta.items() if k not in _NOT_IN_JSON}}
                   for key, meta in summary.materialized],
        "checks": [{"asset": a, "check": n, "passed": p, "blocking": e, "description": d}
                   for a, n, p, d, e in summary.checks],
        "failures": summary.failures,
    }
