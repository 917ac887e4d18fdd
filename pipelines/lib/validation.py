"""Run Great Expectations 1.x suites on Polars frames and report the outcome."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import difflib
import functools
import hashlib
import json
import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import polars as pl

if TYPE_CHECKING:  # GX costs ~4 s to import: only ever imported inside functions
    from great_expectations.data_context import EphemeralDataContext

log = logging.getLogger(__name__)

SAMPLE_SIZE = 10
_DATASOURCE = "threatwatch"
_BATCH_DEFINITION = "whole_frame"
# SUMMARY with GX's cap (MAX_RESULT_RECORDS = 200) of unexpected values gives
# enough to pick distinct samples; COMPLETE would also list every unexpected row
# index, which GX then deep-copies and serialises (seconds on 100k bad rows).
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 200}
_OBSERVED_KEYS = ("observed_value", "unexpected_count", "unexpected_percent")
# GX's ephemeral context and its stores are not thread-safe.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Expect:
    """One GX expectation by snake_case type name and kwargs, without importing GX."""

    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectationOutcome:
    """The JSON-safe result of one expectation."""

    expectation: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    observed: dict[str, Any]
    unexpected_sample: list[Any]


@dataclass(frozen=True)
class ValidationReport:
    """The JSON-safe result of one suite run on one table snapshot."""

    suite: str
    table: str
    snapshot_id: str
    success: bool
    row_count: int
    outcomes: list[ExpectationOutcome]
    validated_at: str
    docs_path: str | None = None

    def failures(self) -> list[ExpectationOutcome]:
        """Outcomes that did not succeed."""
        return [o for o in self.outcomes if not o.success]

    def summary(self) -> str:
        """One line per failed expectation; empty when everything passed."""
        return "\n".join(_summary_line(self.table, o) for o in self.failures())

    def to_json(self) -> str:
        """Serialise to a JSON string."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, s: str) -> ValidationReport:
        """Inverse of to_json."""
        data = json.loads(s)
        data["outcomes"] = [ExpectationOutcome(**o) for o in data["outcomes"]]
        return cls(**data)

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per expectation, shaped for meta.validation_results."""
        return [
            {
                "suite": self.suite,
                "table_name": self.table,
                "snapshot_id": self.snapshot_id,
                "expectation": o.expectation,
                "column_name": o.column,
                "kwargs_json": json.dumps(o.kwargs, sort_keys=True),
                "success": o.success,
                "observed_json": json.dumps(o.observed, sort_keys=True),
                "unexpected_sample_json": json.dumps(o.unexpected_sample),
                "validated_at": self.validated_at,
            }
            for o in self.outcomes
        ]


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


def run_suite(
    frame: pl.DataFrame,
    *,
    suite: str,
    table: str,
    snapshot_id: str,
    expectations: list[Expect],
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Validate a frame against expectations with GX (via pandas); optionally write Data Docs."""
    from great_expectations.core.run_identifier import RunIdentifier

    _check_unique(expectations)
    gx_expectations = [_to_gx(e) for e in expectations]  # fail before any GX state changes
    run_time = dt.datetime.now(dt.timezone.utc)
    with _LOCK:
        ctx = _context()
        gx_suite = _replace_suite(ctx, suite, gx_expectations)
        vd = _replace_validation_definition(ctx, suite, table, gx_suite)
        store = ctx.validation_results_store
        try:
            result = vd.run(
                batch_parameters={"dataframe": _to_pandas(frame)},
                result_format=_RESULT_FORMAT,
                run_id=RunIdentifier(run_name=snapshot_id, run_time=run_time),
            )
            keys = store.list_keys()  # only this run's: the store is emptied after each
            docs_path = _build_docs(ctx, Path(docs_dir), keys) if docs_dir is not None else None
        finally:
            for key in store.list_keys():  # else the in-memory store grows all process long
                store.remove_key(key)

    by_id = {r.expectation_config.id: r for r in result.results}
    int_columns = {name for name, dtype in frame.schema.items() if dtype.is_integer()}
    outcomes = [
        _outcome(e, by_id[g.id], int_columns)
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
        key = json.dumps([e.type, _jsonable(e.kwargs)], sort_keys=True)
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


def _build_docs(ctx: EphemeralDataContext, docs_dir: Path, keys: list[Any]) -> str | None:
    """Render GX Data Docs pages for these results into docs_dir; return the page path."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    site = _docs_site(ctx, docs_dir.resolve())
    # The index builder deletes pages whose results are not in the (in-memory)
    # store, i.e. every earlier run's: build pages only, and a plain index ourselves.
    ctx.build_data_docs(site_names=[site], resource_identifiers=keys, build_index=False)
    _write_index(docs_dir)
    urls = [u for k in keys for u in ctx.get_docs_sites_urls(resource_identifier=k, site_name=site)]
    paths = [Path(unquote(urlparse(u["site_url"]).path)) for u in urls if u.get("site_url")]
    found = [str(p) for p in paths if p.is_file()]
    if not found:  # GX logs and swallows rendering errors
        log.warning("GX Data Docs page was not written for %s", keys)
        return None
    return found[0]


def _docs_site(ctx: EphemeralDataContext, docs_dir: Path) -> str:
    """Register a filesystem Data Docs site for docs_dir once; return its name."""
    name = "site_" + hashlib.sha1(str(docs_dir).encode()).hexdigest()[:10]
    if name not in (ctx.variables.data_docs_sites or {}):
        ctx.add_data_docs_site(
            site_name=name,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
    return name


def _write_index(docs_dir: Path) -> None:
    """A minimal index.html linking every validation page, newest first."""
    import html

    pages = sorted(
        (docs_dir / "validations").rglob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    items = "\n".join(
        f'<li><a href="{html.escape(p.relative_to(docs_dir).as_posix())}">'
        f"{html.escape(' / '.join(p.relative_to(docs_dir / 'validations').parts))}</a></li>"
        for p in pages
    )
    (docs_dir / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>ThreatWatch validations</title>"
        f"<h1>ThreatWatch validations</h1><p>suite / snapshot / run time / batch</p>"
        f"<ul>\n{items}\n</ul>\n",
        encoding="utf-8",
    )


def _outcome(e: Expect, r: Any, int_columns: set[str]) -> ExpectationOutcome:
    """Turn one GX ExpectationValidationResult into an ExpectationOutcome."""
    result = r.result or {}
    column = _column_of(e.kwargs)
    fix = _int_fixer(column, int_columns)
    observed = {k: _jsonable(result[k]) for k in _OBSERVED_KEYS if k in result}
    if "observed_value" in observed:
        observed["observed_value"] = _jsonable(fix(result["observed_value"]))
    error = _exception_message(r.exception_info)
    if error:
        observed["exception"] = error
    return ExpectationOutcome(
        expectation=e.type,
        column=column,
        kwargs=_jsonable(e.kwargs),
        success=bool(r.success),
        observed=observed,
        unexpected_sample=_sample(result.get("partial_unexpected_list") or [], fix),
    )


def _column_of(kwargs: dict[str, Any]) -> str | None:
    """The column an expectation is about; multi-column ones are joined with commas."""
    if isinstance(kwargs.get("column"), str):
        return kwargs["column"]
    if kwargs.get("column_list"):
        return ",".join(map(str, kwargs["column_list"]))
    if "column_A" in kwargs and "column_B" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _sample(values: list[Any], fix: Any) -> list[Any]:
    """Up to SAMPLE_SIZE distinct JSON-safe values, in order of first appearance."""
    seen: dict[str, Any] = {}
    for v in values:
        safe = _jsonable(fix(v))
        seen.setdefault(json.dumps(safe, sort_keys=True), safe)
        if len(seen) == SAMPLE_SIZE:
            break
    return list(seen.values())


def _exception_message(info: Any) -> str | None:
    """GX's exception message, whether given flat or keyed by metric."""
    if not isinstance(info, dict):
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = [
        str(x.get("exception_message"))
        for x in entries
        if isinstance(x, dict) and x.get("raised_exception")
    ]
    return "; ".join(messages) or None


def _int_fixer(column: str | None, int_columns: set[str]) -> Any:
    """Undo pandas' int->float64 for integer columns with nulls: report 2002, not 2002.0."""

    def fix(v: Any) -> Any:
        if isinstance(v, dict):  # compound-column samples: {column: value}
            return {k: _int_if_integral(x) if k in int_columns else x for k, x in v.items()}
        return _int_if_integral(v) if column in int_columns else v

    return fix


def _int_if_integral(v: Any) -> Any:
    """2002.0 -> 2002; anything else unchanged."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f":  # numpy float scalars
        return _int_if_integral(float(v))
    return v


def _jsonable(v: Any) -> Any:
    """Convert numpy/pandas scalars, NaN, dates and containers into JSON-safe values."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_jsonable(x) for x in v]
    if _is_missing(v):  # pd.NA, pd.NaT, numpy NaT (NaT is a datetime subclass)
        return None
    if isinstance(v, (dt.date, dt.time)):  # includes datetime and pd.Timestamp
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "item") and callable(v.item):  # numpy scalars
        return _jsonable(v.item())
    if hasattr(v, "tolist"):  # numpy arrays
        return _jsonable(v.tolist())
    return str(v)


def _is_missing(v: Any) -> bool:
    """True for scalar missing markers other than None and float NaN."""
    import pandas as pd

    try:
        return bool(pd.isna(v)) if pd.api.types.is_scalar(v) else False
    except (TypeError, ValueError):
        return False


def _summary_line(table: str, o: ExpectationOutcome) -> str:
    """`table.column: expectation failed — detail`."""
    where = f"{table}.{o.column}" if o.column else table
    if "exception" in o.observed:
        detail = f"error: {o.observed['exception']}"
    elif o.observed.get("unexpected_count") is not None:
        detail = f"{o.observed['unexpected_count']} unexpected (sample: {o.unexpected_sample!r})"
    else:
        detail = f"observed {o.observed.get('observed_value')!r}"
    return f"{where}: {o.expectation} failed — {detail}"
