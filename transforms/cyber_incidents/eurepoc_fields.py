"""EuRepoC field values: Python list literals in CSV cells, ISO days, how precise a 1st-of-month date is.

Shared by the bulk CSV reader (eurepoc.py) and the API reader (eurepoc_api.py).
"""

from __future__ import annotations

import ast
import re
from datetime import date

import polars as pl

from transforms.errors import SourceFormatError

SOURCE = "eurepoc"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTHS = ("January February March April May June July August September October November December").split()


def list_literal(value: str, column: str, incident: str, file: str, nested: bool = False) -> list:
    """A Python list literal of strings (of lists of strings when nested); empty text is []."""
    if not value.strip():
        return []
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, RecursionError) as e:
        raise SourceFormatError(SOURCE, file, f"incident {incident}: {column} is not a Python list literal ({e.__class__.__name__}: "
                          f"{value[:60]!r})") from None
    items = parsed if isinstance(parsed, list) else None
    inner_ok = (lambda x: isinstance(x, list) and all(isinstance(s, str) for s in x)) if nested else (
        lambda x: isinstance(x, str))
    if items is None or not all(inner_ok(x) for x in items):
        shape = "list of lists of strings" if nested else "list of strings"
        raise SourceFormatError(SOURCE, file, f"incident {incident}: {column} is not a {shape}: {value[:60]!r}")
    return items


def iso_day(value: str) -> date | None:
    """YYYY-MM-DD or empty; raises ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(value) from None


def date_precision(day: date | None, text: str) -> str | None:
    """day | month | year for a EuRepoC date, reading a 1st-of-month as coarser unless `text` names the day."""
    if day is None:
        return None
    if day.day != 1:
        return "day"
    month = _MONTHS[day.month - 1]
    names_day = rf"\b(1(st)?\s+{month}|{month}\s+1(st)?\b,?)\s+{day.year}\b"
    if re.search(names_day, text, re.IGNORECASE):
        return "day"
    if day.month != 1 or re.search(rf"\bJan(uary|\.)?\s+{day.year}\b", text, re.IGNORECASE):
        return "month"
    return "year"


def aligned(values: list[str], n: int) -> list[str | None]:
    """Pair a Global list with n countries: position by position, a lone value for all, else nothing."""
    if len(values) == n:
        return list(values)
    if len(set(values)) == 1:
        return [values[0]] * n
    return [None] * n


def lower_or_none(value: str | None) -> str | None:
    """Lower-cased text, None for none or empty."""
    return value.lower() if value else None


def rows_frame(rows: list[dict], schema: pl.Schema) -> pl.DataFrame:
    """Row dicts as a frame of exactly `schema` (an empty one when there are none)."""
    return pl.DataFrame(rows, schema=schema, orient="row")
