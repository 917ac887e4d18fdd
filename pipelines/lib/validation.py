"""Run Great Expectations 1.x suites on Polars frames: GX stays the engine, Polars hands it only what it reads.

A run converts the frame once to pandas, with only the columns its expectations name, integers and floats
widened to 64 bits (GX vectorises `between` on int64/float64 only; narrower types went row by row in
Python), and text as pandas' Arrow-backed strings. The GX context is made once per process; `warm_up`
makes it in the background while a run still stages, so a check of one new file does not wait for GX's
~2 s import. The report types live in validation_report, Data Docs in data_docs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.lib.validation_report import (  # noqa: F401  (re-exported: the lake and checks import them here)
    ExpectationOutcome,
    ValidationReport,
    column_of,
    jsonable,
    outcome_of,
)

if TYPE_CHECKING:  # GX costs ~2 s to import: only ever imported inside functions
    from great_expectations.data_context import EphemeralDataContext

_DATASOURCE = "threatwatch"
_BATCH_DEFINITION = "whole_frame"
# SUMMARY with GX's cap (MAX_RESULT_RECORDS = 200) of unexpected values gives
# enough to pick distinct samples; COMPLETE would also list every unexpected row
# index, which GX then deep-copies and serialises (seconds on 100k bad rows).
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 200}
# Expectations about the table that read no column.
_ROW_COUNT_ONLY = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}
_COLUMN_KEYS = ("column", "column_A", "column_B")
_NARROW = (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32, pl.Float32)
# GX's ephemeral context and its stores are not thread-safe.
_LOCK = threading.Lock()
_STARTING = threading.Lock()
_WARMING: list[threading.Thread] = []  # the one warm-up thread, once started


@dataclass(frozen=True)
class Expect:
    """One GX expectation by snake_case type name and kwargs, without importing GX."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def row_count_bounds(
    previous: int | None, *, max_drop: float = 0.5, max_growth: float = 2.0
) -> Expect | None:
    """Row count within bounds of the previous snapshot's; None without one."""
    if previous is None:
        return None
    if previous < 0 or not 0 <= max_drop <= 1 or max_growth < 0:
        raise ValueError(f"bad bounds: {previous=} {max_drop=} {max_growth=}")
    # round() first: 100 * (1 - 0.7) is 30.000000000000004, whose ceil is 31
    low = math.ceil(round(previous * (1 - max_drop), 6))
    high = math.floor(round(previous * (1 + max_growth), 6))
    return Expect("expect_table_row_count_to_be_between", {"min_value": low, "max_value": high})


def warm_up() -> threading.Thread:
    """Import GX and make its context in a background thread (once per process); a run_suite that follows
    finds it ready."""
    with _STARTING:
        if not _WARMING:
            _WARMING.append(threading.Thread(target=_warm, name="gx-warm-up", daemon=True))
            _WARMING[0].start()
    return _WARMING[0]


def _warm() -> None:
    """Import GX, make the context and run one expectation on one row: GX's first run costs ~0.3 s more."""
    import pandas as pd

    with _LOCK:
        ctx = _context()
        probe = _replace_suite(ctx, "_warm_up", [_to_gx(Expect("expect_column_values_to_not_be_null", {"column": "x"}))])
        _replace_validation_definition(ctx, "_warm_up", "_warm_up", probe).run(
            batch_parameters={"dataframe": pd.DataFrame({"x": [1]})}, result_format=_RESULT_FORMAT)
        for key in ctx.validation_results_store.list_keys():
            ctx.validation_results_store.remove_key(key)


def run_suite(
    frame: pl.DataFrame,
    *,
    suite: str,
    table: str,
    snapshot_id: str,
    expectations: list[Expect],
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Validate every row of a frame against expectations with GX (via pandas); optionally write Data Docs."""
    from great_expectations.core.run_identifier import RunIdentifier

    from pipelines.lib.data_docs import build_docs

    _check_unique(expectations)
    run_time = dt.datetime.now(dt.timezone.utc)
    with _LOCK:
        gx_expectations = [_to_gx(e) for e in expectations]  # fail before any GX state changes
        ctx = _context()
        gx_suite = _replace_suite(ctx, suite, gx_expectations)
        vd = _replace_validation_definition(ctx, suite, table, gx_suite)
        store = ctx.validation_results_store
        try:
            result = vd.run(
                batch_parameters={"dataframe": _to_pandas(columns_for_gx(frame, expectations))},
                result_format=_RESULT_FORMAT,
                run_id=RunIdentifier(run_name=snapshot_id, run_time=run_time),
            )
            keys = store.list_keys()  # only this run's: the store is emptied after each
            docs_path = build_docs(ctx, Path(docs_dir), keys) if docs_dir is not None else None
        finally:
            for key in store.list_keys():  # else the in-memory store grows all process long
                store.remove_key(key)

    by_id = {r.expectation_config.id: r for r in result.results}
    int_columns = {name for name, dtype in frame.schema.items() if dtype.is_integer()}
    outcomes = [
        outcome_of(e.type, e.kwargs, by_id[g.id], int_columns)
        for e, g in zip(expectations, gx_suite.expectations, strict=True)
    ]
    return ValidationReport(
        suite=suite,
        table=table,
        snapshot_id=snapshot_id,
        success=all(o.success for o in outcomes),
        row_count=frame.height,
        outcomes=outcomes,
        validated_at=run_time.isoformat(),
        docs_path=docs_path,
    )


def columns_for_gx(frame: pl.DataFrame, expectations: list[Expect]) -> pl.DataFrame:
    """The columns the expectations read (all, if one may read any), narrow numbers widened to 64 bits."""
    named: set[str] = set()
    for e in expectations:
        if e.type in _ROW_COUNT_ONLY:
            continue
        found = [e.kwargs[k] for k in _COLUMN_KEYS if isinstance(e.kwargs.get(k), str)]
        found += list(e.kwargs.get("column_list") or [])
        if not found or "row_condition" in e.kwargs:  # a table-wide expectation, or a condition on any column
            named = set(frame.columns)
            break
        named.update(found)
    # A missing column stays missing (GX reports it); with none named the first keeps the row count.
    chosen = [c for c in frame.columns if c in named] or frame.columns[:1]
    slim = frame.select(chosen)
    return slim.with_columns(
        pl.col(c).cast(pl.Float64 if dtype == pl.Float32 else pl.Int64)
        for c, dtype in slim.schema.items() if dtype in _NARROW
    )


@functools.lru_cache(maxsize=1)
def _context() -> EphemeralDataContext:
    """The process-wide ephemeral GX context with one pandas datasource."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)  # tqdm spam in logs
    ctx.data_sources.add_pandas(_DATASOURCE)
    return ctx


@functools.lru_cache(maxsize=1)
def _expectation_classes() -> dict[str, type]:
    """GX expectation classes by their snake_case type name."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.expectation import Expectation

    return {
        cls.expectation_type: cls
        for cls in vars(gxe).values()
        if isinstance(cls, type)
        and issubclass(cls, Expectation)
        and getattr(cls, "expectation_type", "")
    }


def _to_gx(e: Expect) -> Any:
    """Build the GX expectation object for an Expect, with clear errors."""
    classes = _expectation_classes()
    cls = classes.get(e.type)
    if cls is None:
        hint = difflib.get_close_matches(e.type, classes, n=3)
        raise ValueError(
            f"unknown expectation type {e.type!r}: no such class in great_expectations.expectations"
            + (f" (did you mean {', '.join(hint)}?)" if hint else "")
        )
    try:
        return cls(**e.kwargs)
    except Exception as exc:  # pydantic errors name the field but not the expectation
        raise ValueError(f"invalid kwargs for {e.type} {e.kwargs!r}: {exc}") from exc


def _check_unique(expectations: list[Expect]) -> None:
    """Reject duplicates: GX suites silently drop equal expectations."""
    seen: set[str] = set()
    for e in expectations:
        key = json.dumps([e.type, jsonable(e.kwargs)], sort_keys=True)
        if key in seen:
            raise ValueError(f"duplicate expectation {e.type} {e.kwargs!r}")
        seen.add(key)


def _replace_suite(ctx: EphemeralDataContext, name: str, gx_expectations: list[Any]) -> Any:
    """Add the suite under its real name (Data Docs show it), dropping a previous run's."""
    import great_expectations as gx

    if name in {s.name for s in ctx.suites.all()}:
        ctx.suites.delete(name)
    return ctx.suites.add(gx.ExpectationSuite(name=name, expectations=gx_expectations))


def _replace_validation_definition(
    ctx: EphemeralDataContext, suite: str, table: str, gx_suite: Any
) -> Any:
    """A validation definition for (suite, table) on the table's dataframe asset."""
    import great_expectations as gx

    datasource = ctx.data_sources.get(_DATASOURCE)
    if table in datasource.get_asset_names():
        asset = datasource.get_asset(table)
    else:
        asset = datasource.add_dataframe_asset(table)
    if _BATCH_DEFINITION in {b.name for b in asset.batch_definitions}:
        batch = asset.get_batch_definition(_BATCH_DEFINITION)
    else:
        batch = asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
    name = f"{suite}@{table}"
    if name in {v.name for v in ctx.validation_definitions.all()}:
        ctx.validation_definitions.delete(name)
    return ctx.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=gx_suite)
    )


def _to_pandas(frame: pl.DataFrame) -> Any:
    """Convert for GX's pandas engine, keeping Date columns comparable with date kwargs."""
    import pandas as pd

    pdf = frame.to_pandas()
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            # to_pandas gives datetime64, which raises when compared with datetime.date
            pdf[name] = pd.Series(frame[name].to_list(), dtype="object", index=pdf.index)
    return pdf
