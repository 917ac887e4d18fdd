"""The staged tables publish loads: each is a lake folder and a staging.<name> table in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StagedTable:
    """A staged table: its name (lake folder, staging table, Dagster asset) and its source id.

    `keep_releases`: publish every validated snapshot (vintages stay queryable), not only the latest.
    `loads_into`: the warehouse staging table, when several sources share one conformed shape.
    `partition_column`: set for a partitioned table, whose lake holds one folder per day of that column (per
    month when `monthly`); publish replaces a partition's rows whole, and core SQL resolves overlaps between
    snapshots.
    """

    name: str
    source: str
    keep_releases: bool = True
    loads_into: str | None = None
    partition_column: str = ""
    monthly: bool = False

    @property
    def warehouse_table(self) -> str:
        return f"staging.{self.loads_into or self.name}"

    @property
    def partitioned(self) -> bool:
        return bool(self.partition_column)

    def partition_filter(self) -> str:
        """SQL selecting one partition's rows, given its first day ($1) and the next partition's ($2).

        A range on the column itself, so DuckLake skips every file whose min/max lies outside it.
        """
        return f"{self.partition_column} >= CAST($1 AS DATE) AND {self.partition_column} < CAST($2 AS DATE)"

    @property
    def partition_transform(self) -> str:
        """The DuckLake partition key of the same grain as the lake's folders."""
        column = self.partition_column
        return f"year({column}), month({column})" + ("" if self.monthly else f", day({column})")


STG_WORLDBANK = StagedTable("stg_worldbank", "worldbank")
STG_WORLDBANK_AGGREGATE = StagedTable("stg_worldbank_aggregate", "worldbank")

STG_NATO = StagedTable("stg_nato", "nato")
STG_NATO_AGGREGATE = StagedTable("stg_nato_aggregate", "nato")

STG_SIPRI = StagedTable("stg_sipri", "sipri")
STG_SIPRI_REGIONAL = StagedTable("stg_sipri_regional", "sipri")
STG_SIPRI_FOOTNOTE = StagedTable("stg_sipri_footnote", "sipri")



def incident_tables(source: str) -> tuple[StagedTable, StagedTable, StagedTable]:
    """An incident source's incident, initiator and target tables, loading into the shared cyber shape."""
    # Incident catalogues are republished whole, so only the latest snapshot is the source's current view.
    return tuple(
        StagedTable(f"stg_{source}_{kind}", source, keep_releases=False, loads_into=f"stg_cyber_{kind}")
        for kind in ("incident", "initiator", "target")
    )


STG_EUREPOC = incident_tables("eurepoc")
STG_CFR = incident_tables("cfr")
STG_DCID = incident_tables("dcid")
STG_CISA_KEV = StagedTable("stg_cisa_kev", "cisa_kev", keep_releases=False)
STG_MITRE_ATTACK_GROUP = StagedTable("stg_mitre_attack_group", "mitre_attack", keep_releases=False)

# Conflict events: partitioned by month (UCDP GED, ACLED) or by day (GDELT); conflict-years are small, whole files.
# The partition columns and grains are those of each source's SourceSpec (defs/<source>/assets.py).
STG_UCDP_GED_EVENT = StagedTable("stg_ucdp_ged_event", "ucdp_ged", partition_column="event_date", monthly=True)
STG_ACLED_EVENT = StagedTable("stg_acled_event", "acled", partition_column="event_date", monthly=True)
STG_GDELT_EVENT = StagedTable("stg_gdelt_event", "gdelt", partition_column="date_added")
STG_UCDP_ACD_CONFLICT_YEAR = StagedTable("stg_ucdp_acd_conflict_year", "ucdp_acd", keep_releases=False)
STG_UCDP_ACD_LOCATION = StagedTable("stg_ucdp_acd_location", "ucdp_acd", keep_releases=False)

STAGED_TABLES: tuple[StagedTable, ...] = (
    STG_WORLDBANK, STG_WORLDBANK_AGGREGATE, STG_SIPRI, STG_SIPRI_REGIONAL, STG_SIPRI_FOOTNOTE, STG_NATO, STG_NATO_AGGREGATE,
    *STG_EUREPOC, *STG_CFR, *STG_DCID, STG_CISA_KEV, STG_MITRE_ATTACK_GROUP,
    STG_UCDP_GED_EVENT, STG_ACLED_EVENT, STG_GDELT_EVENT, STG_UCDP_ACD_CONFLICT_YEAR, STG_UCDP_ACD_LOCATION,
)
