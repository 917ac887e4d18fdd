"""NATO's real workbook imported by hand and published: the warehouse holds exactly what the parser read."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.config import paths_from_env
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.run import run_pipeline
from tests.conftest import shared_path
from transforms.defense_spending.nato import read_nato_workbook, stage_nato
from tests.warehouse_compare import open_warehouse

pytestmark = pytest.mark.realdata


def test_real_nato_workbook_publishes_every_value(tw_home: Path):
    path = shared_path("defense_spending", "nato", "240617-def-exp-2024-TABLES-en.xlsx")
    assert main(["snapshot", "import", "nato", str(path)]) == 0
    summary = run_pipeline(offline=True)
    assert summary.success, summary.render()
    countries, _, quarantine = stage_nato(read_nato_workbook(path, path.name), load_country_aliases(),
                                          load_country_crosswalk(), "x")
    assert quarantine.height == 0
    expected = {(r["iso3"], r["year"], r["measure"]): (r["value"], r["is_estimate"]) for r in countries.iter_rows(named=True)}
    with open_warehouse() as con:
        published = {(i, y, m): (v, e) for i, y, m, v, e in con.execute(
            "SELECT iso3, year, measure, value, is_estimate FROM core.fct_military_expenditure WHERE source = 'nato'"
        ).fetchall()}
        allies_2024 = con.execute(
            "SELECT count(*) FROM marts.nato_burden_sharing WHERE source = 'nato' AND year = 2024").fetchone()[0]
        releases = con.execute("SELECT DISTINCT release FROM core.fct_military_expenditure WHERE source='nato'").fetchall()
    assert published == expected
    assert allies_2024 == 31  # every Ally but Iceland, which has no armed forces
    assert releases == [("NATO June 2024",)]
