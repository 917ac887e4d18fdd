"""Cross-source reconciliation: non-blocking checks on the published warehouse.

Disagreement is information, not a defect of our pipeline, so these checks warn and never block.
The tolerance (0.5 percentage points of GDP) is documented in sql/marts/40_milex_source_disagreements.sql.
"""

from itertools import combinations

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from pipelines.defs.warehouse.assets import warehouse_key
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.resources import WarehouseResource

DISAGREEMENTS = warehouse_key("marts.milex_source_disagreements")
SHARE_OF_GDP_SOURCES = ("nato", "sipri", "worldbank")


def _build_pair_check(source_a: str, source_b: str):
    @asset_check(asset=DISAGREEMENTS, name=f"share_of_gdp_{source_a}_vs_{source_b}", blocking=False,
                 description=f"Allies' share of GDP by {source_a} and {source_b} agree within 0.5 percentage points.")
    def pair_check(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        with connect_warehouse(warehouse.paths(), read_only=True) as con:
            compared = con.execute(
                """SELECT count(*) FROM core.fct_military_expenditure_latest a
                   JOIN core.fct_military_expenditure_latest b USING (iso3, year, measure)
                   JOIN core.dim_country c USING (iso3)
                   WHERE measure = 'share_of_gdp' AND a.source = ? AND b.source = ?
                     AND c.nato_member_since IS NOT NULL AND year >= c.nato_member_since""",
                [source_a, source_b],
            ).fetchone()[0]
            rows = con.execute(
                """SELECT iso3, year, share_of_gdp_a, share_of_gdp_b, difference_pp
                   FROM marts.milex_source_disagreements WHERE source_a = ? AND source_b = ?
                   ORDER BY abs(difference_pp) DESC""",
                [source_a, source_b],
            ).fetchall()
        worst = "\n".join(f"- {i} {y}: {a:.2f}% vs {b:.2f}% ({d:+.2f} pp)" for i, y, a, b, d in rows[:10])
        return AssetCheckResult(
            passed=not rows,
            severity=AssetCheckSeverity.WARN,
            description=(f"{len(rows)} of {compared} Ally-years differ by more than 0.5 pp" if rows
                         else f"{compared} Ally-years compared, all within 0.5 pp"),
            metadata={"compared": compared, "disagreements": len(rows), "largest": MetadataValue.md(worst or "none")},
        )

    return pair_check


CHECKS = [_build_pair_check(a, b) for a, b in combinations(SHARE_OF_GDP_SOURCES, 2)]


CONFLICT_DEATHS = warehouse_key("marts.conflict_deaths_ucdp_vs_acled")


@asset_check(asset=CONFLICT_DEATHS, name="deaths_ucdp_vs_acled", blocking=False,
             description="UCDP and ACLED deaths per country-year agree within the tolerance stated in "
                         "sql/marts/90_conflict_deaths_ucdp_vs_acled.sql (they count different things).")
def deaths_ucdp_vs_acled(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    with connect_warehouse(warehouse.paths(), read_only=True) as con:
        rows = con.execute(
            """SELECT iso3, year, ucdp_deaths_best, acled_fatalities, within_tolerance
               FROM marts.conflict_deaths_ucdp_vs_acled ORDER BY abs(difference) DESC""").fetchall()
    outside = [r for r in rows if not r[4]]
    worst = "\n".join(f"- {i} {y}: UCDP {u} vs ACLED {a}" for i, y, u, a, _ in outside[:10])
    return AssetCheckResult(
        passed=not outside,
        severity=AssetCheckSeverity.WARN,
        description=(f"{len(outside)} of {len(rows)} country-years outside the tolerance" if outside
                     else f"{len(rows)} country-years compared, all within the tolerance"),
        metadata={"compared": len(rows), "outside_tolerance": len(outside), "largest": MetadataValue.md(worst or "none")},
    )


CHECKS.append(deaths_ucdp_vs_acled)
