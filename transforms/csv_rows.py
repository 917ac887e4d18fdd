"""Reading a publisher's CSV into rows, failing clearly on HTML, bad encodings and broken quoting."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from transforms.errors import SourceFormatError


def read_csv_rows(path: Path, source: str, expected: str) -> list[list[str]]:
    """Every non-empty row of a UTF-8 CSV (BOM allowed), header first; `expected` names the file in errors."""
    path = Path(path)
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if raw[:200].lstrip().startswith(b"<"):
        raise SourceFormatError(source, path.name, f"got HTML/XML instead of {expected}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SourceFormatError(source, path.name, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error as e:
        raise SourceFormatError(source, path.name, f"unreadable CSV: {e}") from e
    if not rows:
        raise SourceFormatError(source, path.name, "empty file")
    return rows


def blank_to_none(value: str | None) -> str | None:
    """A CSV cell stripped, or None when nothing is left."""
    value = (value or "").strip()
    return value or None


def row_record(header: list[str], row: list[str], number: int) -> str:
    """A row as JSON keyed by the header (extra fields under _extra, its number under _row), for quarantine."""
    record: dict[str, object] = dict(zip(header, row))
    if len(row) > len(header):
        record["_extra"] = row[len(header):]
    record["_row"] = number
    return json.dumps(record, ensure_ascii=False)
