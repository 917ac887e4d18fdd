"""Every real SIPRI vintage imported by hand and published: values, flags and revisions as in the workbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.run import run_pipeline
from tests.conftest import shared_home, shared_path
from transforms.defense_spending.sipri import read_sipri_workbook, stage_sipri
from tests.warehouse_compare import open_warehouse

pytestmark = pytest.mark.realdata

VINTAGES = [  # oldest release first; (file, expected US share of GDP in 2020, per SOURCES.md)
    ("SIPRI-Milex-data-1949-2020_0.xlsx", 3.741),
    ("SIPRI-Milex-data-1949-2022.xlsx", 3.696),
    ("SIPRI-Milex-data-1948-2023.xlsx", 3.651),
    ("SIPRI-Milex-data-1949-2024_2.xlsx", 3.645),
    ("SIPRI-Milex-data-1949-2025_v1.2.xlsx", 3.642),
]


@pytest.fixture(scope="module")
def sipri_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One home where all five vintages were imported (newest first, to prove order comes from content)."""
    with shared_home(tmp_path_factory, "sipri") as home:
        files = [str(shared_path("defense_spending", "sipri", name)) for name, _ in reversed(VINTAGES)]
        assert main(["snapshot", "import", "sipri", *files]) == 0
        summary = run_pipeline(offline=True, select='key:"snapshot/sipri"+')
        assert summary.success, summary.render()
    return home


def query(home: Path, sql: str) -> list[tuple]:
    with open_warehouse(home) as con:
        return con.execute(sql).fetchall()


def test_us_share_of_gdp_2020_moves_across_five_editions(sipri_home: Path):
    rows = query(sipri_home, """SELECT release, round(value, 3), round(change, 3) FROM marts.milex_revisions
                                WHERE source = 'sipri' AND iso3 = 'USA' AND year = 2020 AND measure = 'share_of_gdp'
                                ORDER BY release_sort""")
    assert [v for _, v, _ in rows] == [v for _, v in VINTAGES]
    assert rows[0][2] is None and all(c is not None for _, _, c in rows[1:])
    latest = query(sipri_home, """SELECT round(value, 3) FROM core.fct_military_expenditure_latest
                                  WHERE source='sipri' AND iso3='USA' AND year=2020 AND measure='share_of_gdp'""")
    assert latest == [(3.642,)]


@pytest.mark.parametrize("name", [n for n, _ in VINTAGES])
def test_every_value_and_flag_of_each_vintage_is_published(sipri_home: Path, name: str):
    path = shared_path("defense_spending", "sipri", name)
    workbook = read_sipri_workbook(path, path.name)
    countries, _, quarantine = stage_sipri(workbook, load_country_aliases(), load_country_crosswalk(), "x")
    assert quarantine.height == 0
    values = countries.filter(countries["status"] == "value")
    expected = {(r["iso3"], r["year"], r["measure"]): (r["value"], r["is_estimate"], r["is_uncertain"])
                for r in values.iter_rows(named=True)}
    published = {(i, y, m): (v, e, u) for i, y, m, v, e, u in query(sipri_home, f"""
        SELECT iso3, year, measure, value, is_estimate, is_uncertain FROM core.milex_as_published(
            '{workbook.release.release_label}') WHERE source = 'sipri'""")}
    assert published == expected
    estimates = sum(1 for (_, _, m), (_, e, _) in published.items() if m == "share_of_gdp" and e)
    assert estimates > 1500  # SIPRI's blue cells survive (≈1,800 per edition)
    not_a_state = query(sipri_home, f"""SELECT count(*) FROM core.fct_military_expenditure_gap
        WHERE release = '{workbook.release.release_label}' AND status = 'not_a_state'""")[0][0]
    assert not_a_state == countries.filter(countries["status"] == "not_a_state").height > 0
