"""Materialization metadata that makes a staged table legible in the Dagster UI."""

from __future__ import annotations

import polars as pl
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema


def frame_preview(frame: pl.DataFrame, rows: int = 10) -> MetadataValue:
    """The first rows of a frame as a Dagster table."""
    head = frame.head(rows)
    schema = TableSchema(columns=[TableColumn(name, str(dtype)) for name, dtype in head.schema.items()])
    records = [
        TableRecord({k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in r.items()})
        for r in head.to_dicts()
    ]
    return MetadataValue.table(records=records, schema=schema)


def frame_schema(frame: pl.DataFrame) -> MetadataValue:
    """The column names and types of a frame."""
    return MetadataValue.table_schema(
        TableSchema(columns=[TableColumn(name, str(dtype)) for name, dtype in frame.schema.items()])
    )
