"""The staged tables publish loads: each is a lake folder and a staging.<name> table in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StagedTable:
    """A staged table: its name (lake folder, staging table, Dagster asset) and its source id.

    `keep_releases`: publish every validated snapshot (vintages stay queryable), not only the latest.
    `loads_into`: the warehouse staging table, when several sources share one conformed shape.
    """

    name: str
    source: str
    keep_releases: bool = True
    loads_into: str | None = None

    @property
    def warehouse_table(self) -> str:
        return f"staging.{self.loads_into or self.name}"


STG_WORLDBANK = StagedTable("stg_worldbank", "worldbank")
STG_WORLDBANK_AGGREGATE = StagedTable("stg_worldbank_aggregate", "worldbank")

STG_NATO = StagedTable("stg_nato", "nato")
STG_NATO_AGGREGATE = StagedTable("stg_nato_aggregate", "nato")

STG_SIPRI = StagedTable("stg_sipri", "sipri")
STG_SIPRI_REGIONAL = StagedTable("stg_sipri_regional", "sipri")
STG_SIPRI_FOOTNOTE = StagedTable("stg_sipri_footnote", "sipri")

STAGED_TABLES: tuple[StagedTable, ...] = (
    STG_WORLDBANK, STG_WORLDBANK_AGGREGATE, STG_SIPRI, STG_SIPRI_REGIONAL, STG_SIPRI_FOOTNOTE, STG_NATO, STG_NATO_AGGREGATE,
)
