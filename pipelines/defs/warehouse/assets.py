"""Publish: one DuckLake transaction loads every validated staged table, checks it and commits."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines.lib.asset_metadata import asset_owners, asset_tags
from pipelines.lib.column_docs import column_schema_metadata
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.publish import publish_warehouse
from pipelines.lib.resources import WarehouseResource
from pipelines.lib.staged_tables import STAGED_TABLES

GROUP = "warehouse"
STAGING_KEYS = [AssetKey(["staging", t.name]) for t in STAGED_TABLES]

# The warehouse tables analysts query, each a node in the UI; all are built by one publish.
WAREHOUSE_TABLES = {
    "core.dim_country": "Countries and territories: ISO, GW/COW codes, region, NATO and EU membership.",
    "core.fct_military_expenditure": "Military expenditure by country, year, measure and source (US$, percent, persons).",
    "core.fct_military_expenditure_aggregate": "Regional and income-group aggregates, kept apart from countries.",
    "core.fct_military_expenditure_gap": "Cells published as 'missing' or 'not a state' (SIPRI's xxx) instead of a number.",
    "core.fct_cyber_incident": "Cyber incidents of every source, one taxonomy, partial dates kept partial.",
    "core.brg_incident_initiator": "Who each source names as initiator: state (iso3) or actor, with the basis.",
    "core.brg_incident_target": "Targeted states and sectors per incident.",
    "core.incident_links": "The same incident reported by several sources: linked with a rule and confidence.",
    "core.fct_exploited_vulnerability": "CISA's Known Exploited Vulnerabilities, one row per CVE of the latest catalog.",
    "core.dim_threat_actor": "MITRE ATT&CK groups with a country only where the description states it.",
    "marts.cyber_incidents_by_country_year": "Incidents per state and year, as initiator and as target, by type and source.",
    "marts.kev_monthly": "KEV additions per month, share with known ransomware use, top vendors.",
    "marts.nato_burden_sharing": "Each Ally, each year, by source: share of GDP against 2%, 3.5% core and 5% total.",
    "marts.milex_revisions": "How each value moved across a source's releases.",
    "marts.military_expenditure_country_year": "One preferred value per country, year and measure, by stated source precedence.",
    "marts.milex_source_disagreements": "Ally-years where two sources' share of GDP differ beyond 0.5 percentage points.",
    "core.fct_conflict_event": "Conflict events of UCDP GED, ACLED and GDELT in one taxonomy; source_kind tells verified from media-coded.",
    "core.fct_armed_conflict_year": "UCDP/PRIO armed conflict-years: incompatibility, intensity, type of conflict, sides.",
    "core.brg_armed_conflict_location": "The states each conflict-year is located in (gwno_loc exploded, GW resolved).",
    "core.dim_cameo_event_code": "CAMEO event codes (root, base, event) with Goldstein scale and QuadClass.",
    "marts.conflict_monthly": "Events and fatalities by country, month and source; GDELT kept apart as media-coded.",
    "marts.country_year_indicators": "Defence, cyber and conflict per country-year; NULL outside a source's coverage, zero only inside.",
    "marts.conflict_deaths_ucdp_vs_acled": "UCDP and ACLED deaths per country-year where both cover it, with the stated tolerance.",
}


def warehouse_key(table: str) -> AssetKey:
    """The asset key of a warehouse table, e.g. warehouse/core/dim_country."""
    return AssetKey(["warehouse", *table.split(".")])


@multi_asset(
    specs=[
        AssetSpec(warehouse_key(t), deps=STAGING_KEYS, group_name=GROUP, kinds={"duckdb", "ducklake"}, description=d,
                  owners=asset_owners(GROUP), tags=asset_tags("warehouse", GROUP), metadata=column_schema_metadata(t))
        for t, d in WAREHOUSE_TABLES.items()
    ],
    pool="warehouse",
    description="Load the lake into the DuckLake warehouse in one transaction; sql/checks fail it before COMMIT.",
)
def publish(context: AssetExecutionContext, warehouse: WarehouseResource):
    paths = warehouse.paths()
    report = publish_warehouse(paths, run_id=context.run.run_id)
    context.log.info(f"published DuckLake snapshot {report.snapshot_id} of {report.warehouse} from {report.loaded}")
    with connect_warehouse(paths, read_only=True) as con:
        for table in WAREHOUSE_TABLES:
            preview = con.sql(f"SELECT * FROM {table} LIMIT 10").pl()
            yield MaterializeResult(
                asset_key=warehouse_key(table),
                metadata={
                    "dagster/row_count": report.row_counts.get(table, 0),
                    "warehouse": report.warehouse,
                    "ducklake_snapshot": report.snapshot_id,
                    "snapshots": MetadataValue.json({k: v for k, v in report.loaded.items()}),
                    "checks": MetadataValue.json(report.checks),
                    "preview": MetadataValue.md(_markdown(preview)),
                },
            )


def _markdown(frame) -> str:
    if frame.is_empty():
        return "_empty_"
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, *rows])


ASSETS = [publish]
