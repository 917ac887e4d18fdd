"""The shape of rejected rows: every source's row-level rejects land in meta.quarantine alike."""

from __future__ import annotations

import json

import polars as pl

QUARANTINE_SCHEMA = {
    "source": pl.Utf8,
    "table_name": pl.Utf8,
    "snapshot_id": pl.Utf8,
    "source_file": pl.Utf8,
    "reason": pl.Utf8,
    "record": pl.Utf8,
}


def to_quarantine_records(rows: pl.DataFrame, *, source: str, table: str) -> pl.DataFrame:
    """Turn rejected rows (any columns plus `reason`) into the meta.quarantine shape, the row kept as JSON."""
    if rows.is_empty():
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    payload = rows.drop("reason")
    records = [json.dumps(r, default=str, sort_keys=True, ensure_ascii=False) for r in payload.to_dicts()]

    def text_column(name: str) -> pl.Series:
        if name in rows.columns:
            return rows[name].cast(pl.Utf8)
        return pl.Series(name, [None] * rows.height, dtype=pl.Utf8)

    return pl.DataFrame(
        {
            "source": [source] * rows.height,
            "table_name": [table] * rows.height,
            "snapshot_id": text_column("snapshot_id"),
            "source_file": text_column("source_file"),
            "reason": rows["reason"].cast(pl.Utf8),
            "record": records,
        },
        schema=QUARANTINE_SCHEMA,
    )
