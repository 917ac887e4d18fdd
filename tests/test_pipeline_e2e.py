"""End to end: every asset materialized in process into a temporary THREATWATCH_HOME."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.lib.config import SAMPLES_DIR, paths_from_env
from pipelines.lib.lake import Lake
from pipelines.run import run_pipeline
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.staged_tables import STAGED_TABLES
from tests.warehouse_compare import open_warehouse, warehouse_content


def query(home: Path | None, sql: str) -> list[tuple]:
    with open_warehouse(home) as con:
        return con.execute(sql).fetchall()


def test_offline_run_publishes_staged_rows_with_provenance(published_home: Path):
    warehouse = published_home
    lake = Lake(published_home / "lake")
    snapshot_id = lake.validated("stg_worldbank")[-1]
    staged = lake.read("stg_worldbank", snapshot_id)
    facts = pl.DataFrame(
        query(warehouse, "SELECT iso3, year, measure, value FROM core.fct_military_expenditure WHERE source='worldbank'"),
        schema=["iso3", "year", "measure", "value"], orient="row",
    )
    expected = staged.select("iso3", pl.col("year").cast(pl.Int64), "measure", "value")
    assert facts.sort(facts.columns).equals(expected.sort(expected.columns))
    # Every fact traces to a sample snapshot with hashes and a licence.
    assert query(warehouse, """
        SELECT DISTINCT s.origin, s.is_published, l.licence LIKE 'CC BY 4.0%'
        FROM core.fct_military_expenditure f JOIN meta.snapshots s USING (snapshot_id)
        JOIN meta.source_licences l ON l.source = f.source
        WHERE f.source = 'worldbank'""") == [("sample", True, True)]
    assert query(warehouse, """SELECT count(*) FROM meta.snapshot_files JOIN meta.snapshots USING (snapshot_id)
                               WHERE source = 'worldbank' AND length(sha256) = 64""")[0][0] == 13
    # Validation verdicts are kept for every staged table (each source has a sample), and all passed.
    assert query(warehouse, "SELECT bool_and(success), count(DISTINCT table_name) FROM meta.validation_results") == [
        (True, len(STAGED_TABLES))
    ]
    assert query(warehouse, "SELECT count(*) FROM meta.source_licences")[0][0] == 12


def test_aggregates_never_mix_with_countries(published_home: Path):
    warehouse = published_home
    assert query(warehouse, "SELECT count(*) FROM core.fct_military_expenditure WHERE iso3 IN ('WLD','EUU','NAC','HIC','INX')") == [(0,)]
    codes = {r[0] for r in query(warehouse, "SELECT DISTINCT aggregate_code FROM core.fct_military_expenditure_aggregate")}
    assert {"WLD", "EUU", "INX"} <= codes


def test_burden_sharing_compares_allies_with_targets(published_home: Path):
    warehouse = published_home
    rows = query(warehouse, """
        SELECT b.source, b.share_of_gdp, b.meets_2pct, b.meets_3_5pct_core, b.meets_5pct_total, b.usd_to_2pct,
               b.usd_to_5pct_total, b.gdp_usd, f.value AS spend, g.value AS nato_gdp
        FROM marts.nato_burden_sharing b
        JOIN core.fct_military_expenditure_latest f
          ON f.iso3 = b.iso3 AND f.year = b.year AND f.measure = 'current_usd' AND f.source = b.source
        LEFT JOIN core.fct_military_expenditure_latest g
          ON g.iso3 = b.iso3 AND g.year = b.year AND g.measure = 'gdp_current_usd' AND g.source = b.source""")
    assert {r[0] for r in rows} == {"nato", "sipri", "worldbank"}
    for source, share, meets2, meets35, meets5, usd_to_2, usd_to_5, gdp, spend, nato_gdp in rows:
        assert meets2 == (share >= 2.0) and meets35 == (share >= 3.5) and meets5 == (share >= 5.0)
        # NATO brings its own GDP table; for the others GDP is implied by spending and share.
        expected_gdp = nato_gdp if source == "nato" else spend / (share / 100)
        assert abs(gdp - expected_gdp) <= 1e-9 * expected_gdp
        assert abs(usd_to_2 - max(0.0, gdp * (2.0 - share) / 100)) <= 1e-6 * gdp
        assert abs(usd_to_5 - max(0.0, gdp * (5.0 - share) / 100)) <= 1e-6 * gdp
    members = dict(query(warehouse, "SELECT iso3, nato_member_since FROM core.dim_country WHERE nato_member_since IS NOT NULL"))
    assert len(members) == 32
    for iso3, year in query(warehouse, "SELECT iso3, year FROM marts.nato_burden_sharing"):
        assert year >= members[iso3]
    # Iceland has no armed forces and so no share: it must not appear as 0%.
    assert query(warehouse, "SELECT count(*) FROM marts.nato_burden_sharing WHERE iso3 = 'ISL'") == [(0,)]
    # Equipment share against 20% comes from NATO only.
    assert query(warehouse, """SELECT DISTINCT source FROM marts.nato_burden_sharing
                               WHERE equipment_share_pct IS NOT NULL""") == [("nato",)]


def test_same_run_twice_leaves_an_identical_warehouse(copied_home: Path):
    paths = paths_from_env()
    before = warehouse_content()
    snapshots_before = [m.snapshot_id for m in SnapshotStore(paths.snapshots).list()]
    summary = run_pipeline(offline=True)
    assert summary.success, summary.render()
    assert [m.snapshot_id for m in SnapshotStore(paths.snapshots).list()] == snapshots_before
    assert warehouse_content() == before


def test_both_sample_formats_publish_the_same_values(published_home: Path, tw_home: Path):
    summary = run_pipeline(offline=True, worldbank_format="bulk")
    assert summary.success, summary.render()
    sql = "SELECT iso3, year, measure, value, unit FROM core.fct_military_expenditure ORDER BY ALL"
    assert query(None, sql) == query(published_home, sql)


def test_import_then_offline_run_publishes_exactly_the_imported_files(copied_home: Path):
    from pipelines.cli import main

    zips = sorted((SAMPLES_DIR / "worldbank" / "bulk").glob("*.zip"))
    assert main(["snapshot", "import", "worldbank", *map(str, zips)]) == 0
    imported = SnapshotStore(paths_from_env().snapshots).latest("worldbank")
    assert imported.origin == "import" and sorted(f.name for f in imported.files) == [z.name for z in zips]
    summary = run_pipeline(offline=True)
    assert summary.success, summary.render()
    warehouse = None  # THREATWATCH_HOME's
    assert query(warehouse, "SELECT DISTINCT snapshot_id FROM core.fct_military_expenditure WHERE source = 'worldbank'") == [
        (imported.snapshot_id,)
    ]
    assert query(warehouse, "SELECT DISTINCT split_part(source_file, '!', 1) FROM core.fct_military_expenditure "
                            "WHERE source = 'worldbank' ORDER BY 1") == [
        (z.name,) for z in zips
    ]
    assert query(warehouse, f"SELECT origin, is_published FROM meta.snapshots WHERE snapshot_id = '{imported.snapshot_id}'") == [
        ("import", True)
    ]
