"""What `threatwatch sql` prints: an aligned table for people, CSV or JSON for scripts."""

from __future__ import annotations

import csv
import io
import json

from pipelines.lib.table import render_table

FORMATS = ("table", "csv", "json")


def render_rows(columns: list[str], rows: list[tuple], fmt: str = "table") -> str:
    """The rows in `fmt`: table (aligned, with a row count), csv (a header line, RFC 4180 quoting, NULL as an
    empty field) or json (an array of objects; dates, timestamps and decimals as strings)."""
    if fmt == "table":
        return render_table(columns, rows)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    if fmt == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], default=str, ensure_ascii=False, indent=1)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
