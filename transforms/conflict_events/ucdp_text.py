"""UCDP's files read as text, then typed: casts that leave null where a value does not parse, and errors naming the file.

Every UCDP layout (CSV, GeoJSON, API JSON) is first read as text, so one set of casts and checks serves
GED events and ACD conflict-years alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from transforms.errors import SourceFormatError

_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?)?$"


def json_text(value: Any) -> str | None:
    """A JSON value as the text a CSV would hold: integral floats without '.0', booleans as 1/0, '' as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, str)):
        return str(value) if str(value).strip() else None
    return json.dumps(value, ensure_ascii=False)


def read_csv_as_text(path: Path, source: str) -> pl.DataFrame:
    """Every field of a UTF-8 CSV as text (empty -> null), header names trimmed; SourceFormatError if unreadable."""
    with path.open("rb") as f:
        head = f.read(512)
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        raise SourceFormatError(source, path.name, "got HTML/XML instead of a CSV file")
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=True)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as e:
        raise SourceFormatError(source, path.name, f"unreadable CSV ({type(e).__name__}: {e})") from e
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    # A quoted empty field reads as "" and an unquoted one as null: both mean missing.
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    )


def require_columns(columns: Iterable[str], required: Iterable[str], source: str, file: str) -> None:
    """SourceFormatError naming every required column the file lacks."""
    present = set(columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise SourceFormatError(source, file, f"missing column(s) {missing} (found {sorted(present)[:12]}...)")


def integer_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """A text column cast to an integer type, null where it is not an integer ('4.0' from spreadsheets is 4)."""
    return pl.col(column).str.strip_chars().str.replace(r"\.0+$", "").cast(dtype, strict=False)


def date_text(column: str) -> pl.Expr:
    """The day of an ISO date or timestamp text, null where it is not one."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text.str.contains(_DATE_TEXT)).then(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))


def check_parsed(raw: pl.DataFrame, parsed: dict[str, pl.Expr], kind: str, source: str) -> None:
    """SourceFormatError for the first column with a non-empty value that did not parse, naming one such value."""
    if not parsed or raw.is_empty():
        return
    failed = raw.select((pl.col(c).is_not_null() & e.is_null()).any().alias(c) for c, e in parsed.items()).row(0)
    for column, bad in zip(parsed, failed):
        if bad:
            example = raw.filter(pl.col(column).is_not_null() & parsed[column].is_null()).row(0, named=True)
            file = example.get("_source_file") or "?"
            raise SourceFormatError(source, file, f"column {column!r} holds {example[column]!r}, not {kind}")


def check_codes(frame: pl.DataFrame, column: str, codes: Iterable[int], source: str) -> None:
    """SourceFormatError if a parsed code column holds a value outside the codebook's codes."""
    outside = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(list(codes)))
    if not outside.is_empty():
        row = outside.row(0, named=True)
        raise SourceFormatError(
            source, row.get("_source_file") or "?",
            f"column {column!r} holds code {row[column]} outside the codebook's {sorted(codes)}",
        )


def reason_column(reasons: list[pl.Expr]) -> pl.Expr:
    """Every non-null reason joined by '; ', null when there is none."""
    found = pl.concat_list(reasons).list.drop_nulls()
    return pl.when(found.list.len() > 0).then(found.list.join("; ")).alias("reason")
