"""The JSON-safe outcome of a GX suite run: what the lake stores, the warehouse loads and a check shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
from dataclasses import dataclass
from typing import Any

SAMPLE_SIZE = 10
_OBSERVED_KEYS = ("observed_value", "unexpected_count", "unexpected_percent")


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


def outcome_of(expectation: str, kwargs: dict[str, Any], r: Any, int_columns: set[str]) -> ExpectationOutcome:
    """Turn one GX ExpectationValidationResult into an ExpectationOutcome."""
    result = r.result or {}
    column = column_of(kwargs)
    fix = _int_fixer(column, int_columns)
    observed = {k: jsonable(result[k]) for k in _OBSERVED_KEYS if k in result}
    if "observed_value" in observed:
        observed["observed_value"] = jsonable(fix(result["observed_value"]))
    error = _exception_message(r.exception_info)
    if error:
        observed["exception"] = error
    return ExpectationOutcome(
        expectation=expectation,
        column=column,
        kwargs=jsonable(kwargs),
        success=bool(r.success),
        observed=observed,
        unexpected_sample=_sample(result.get("partial_unexpected_list") or [], fix),
    )


def column_of(kwargs: dict[str, Any]) -> str | None:
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
        safe = jsonable(fix(v))
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


def jsonable(v: Any) -> Any:
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
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x) for x in v]
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
        return jsonable(v.item())
    if hasattr(v, "tolist"):  # numpy arrays
        return jsonable(v.tolist())
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
