"""Reading a publisher's CSV into rows, failing clearly on HTML, bad encodings and broken quoting."""

from __future__ import annotations

import csv
import io
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
