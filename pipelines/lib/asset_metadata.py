"""Metadata that makes an asset legible in the Dagster UI: who owns it, what it is, what its columns mean."""

from __future__ import annotations

import polars as pl
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from pipelines.lib.column_docs import table_column

# Each domain has one owning team; the warehouse, which joins them, its own.
OWNERS = {"defense_spending": "team:defense_spending", "cyber_incidents": "team:cyber_incidents",
          "conflict_events": "team:conflict_events", "warehouse": "team:warehouse"}


def asset_owners(domain: str) -> list[str]:
    """The owners of an asset of a domain (a source's group, or 'warehouse')."""
    return [OWNERS[domain]]


def asset_tags(layer: str, domain: str, source: str | None = None) -> dict[str, str]:
    """Tags to filter the catalog by: layer (snapshot | staging | warehouse), domain and source id."""
    return {"layer": layer, "domain": domain, **({"source": source} if source else {})}


def frame_preview(frame: pl.DataFrame, rows: int = 10) -> MetadataValue:
    """The first rows of a frame as a Dagster table."""
    head = frame.head(rows)
    schema = TableSchema(columns=[TableColumn(name, str(dtype)) for name, dtype in head.schema.items()])
    records = [
        TableRecord({k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in r.items()})
        for r in head.to_dicts()
    ]
    return MetadataValue.table(records=records, schema=schema)


def frame_schema(frame: pl.DataFrame, table: str) -> MetadataValue:
    """The column names and types of a frame staged for warehouse table `table`, with their documentation."""
    return MetadataValue.table_schema(
        TableSchema(columns=[table_column(table, name, str(dtype)) for name, dtype in frame.schema.items()])
    )
