"""Real conflict files imported by hand and published: every UCDP, ACLED and GDELT event, with counts and
deaths equal to an independent reading of the files (csv and json modules)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.run import run_pipeline
from tests.conftest import shared_home, shared_path
from tests.warehouse_compare import open_warehouse

pytestmark = pytest.mark.realdata

GDELT_FILES = ("20250104161500", "20250104163000", "20250104164500", "20250104170000")


@pytest.fixture(scope="module")
def conflict_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with shared_home(tmp_path_factory, "conflict") as home:
        imports = {
            "ucdp_ged": [shared_path("conflict_events", "ucdp", "conflict_data_ukr.csv"),
                         shared_path("conflict_events", "ucdp", "GEDEvent_v23_1.geojson")],
            "ucdp_acd": [shared_path("conflict_events", "ucdp", "UcdpPrioConflict_v23_1.csv")],
            "acled": [shared_path("conflict_events", "acled", "acled.csv")],
            "gdelt": [shared_path("conflict_events", "gdelt", f"{stamp}.export.CSV") for stamp in GDELT_FILES],
        }
        for source, files in imports.items():
            for path in files:  # one snapshot per file, as each would be fetched
                assert main(["snapshot", "import", source, str(path)]) == 0
        summary = run_pipeline(offline=True, select="group:conflict_events or group:warehouse")
        assert summary.success, summary.render()
    return home


def query(home: Path, sql: str) -> list[tuple]:
    with open_warehouse(home) as con:
        return con.execute(sql).fetchall()


def ucdp_file_events() -> dict[str, tuple[int, int, int]]:
    """GED id -> (best, low, high) of both real GED files, read independently (HDX row of hashtags skipped)."""
    events = {}
    with shared_path("conflict_events", "ucdp", "conflict_data_ukr.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["year"].startswith("#"):
                events[row["id"]] = (int(row["best"]), int(row["low"]), int(row["high"]))
    geojson = json.loads(shared_path("conflict_events", "ucdp", "GEDEvent_v23_1.geojson").read_text(encoding="utf-8"))
    for feature in geojson["features"]:
        p = feature["properties"]
        events[str(p["id"])] = (int(p["best"]), int(p["low"]), int(p["high"]))
    return events


def test_every_ucdp_event_is_published_with_its_deaths(conflict_home: Path):
    expected = ucdp_file_events()
    assert len(expected) == 2989 + 1848
    rows = query(conflict_home, """SELECT source_event_id, fatalities_best, fatalities_low, fatalities_high
                                   FROM core.fct_conflict_event WHERE source = 'ucdp_ged'""")
    assert {r[0]: tuple(r[1:]) for r in rows} == expected and len(rows) == len(expected)
    assert query(conflict_home, """SELECT sum(fatalities_best) FROM core.fct_conflict_event
                                   WHERE source = 'ucdp_ged' AND iso3 = 'UKR'""") == [(7882,)]
    assert query(conflict_home, """SELECT sum(fatalities_best) FROM core.fct_conflict_event
                                   WHERE source = 'ucdp_ged' AND iso3 = 'CAF'""") == [(14948,)]


def test_every_acled_event_is_published_with_its_fatalities(conflict_home: Path):
    with shared_path("conflict_events", "acled", "acled.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    published = dict(query(conflict_home, """SELECT source_event_id, fatalities_best FROM core.fct_conflict_event
                                             WHERE source = 'acled'"""))
    assert published == {r["event_id_cnty"]: int(r["fatalities"]) for r in rows} and len(published) == 811
    assert query(conflict_home, "SELECT DISTINCT iso3 FROM core.fct_conflict_event WHERE source = 'acled'") == [("BEN",)]


def test_every_gdelt_event_is_published_with_its_codes_as_text(conflict_home: Path):
    lines = []
    for stamp in GDELT_FILES:
        text = shared_path("conflict_events", "gdelt", f"{stamp}.export.CSV").read_text(encoding="utf-8")
        lines += [line.split("\t") for line in text.splitlines() if line]
    assert len(lines) == 509 + 869 + 750 + 795
    rows = query(conflict_home, """SELECT source_event_id, source_sub_event_type FROM core.fct_conflict_event
                                   WHERE source = 'gdelt'""")
    assert Counter(rows) == Counter((line[0], line[26]) for line in lines)  # EventCode, leading zeros kept
    assert query(conflict_home, """SELECT count(*), count(DISTINCT CAST(date_added AS DATE))
                                   FROM staging.stg_gdelt_event""") == [(len(lines), 1)]


def test_every_conflict_year_is_published(conflict_home: Path):
    with shared_path("conflict_events", "ucdp", "UcdpPrioConflict_v23_1.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    published = query(conflict_home, "SELECT conflict_id, year, intensity_level FROM core.fct_armed_conflict_year")
    assert sorted(published) == sorted((int(r["conflict_id"]), int(r["year"]), int(r["intensity_level"])) for r in rows)
    # "651, 666" style locations become one bridge row per state; the few GW codes with no state are quarantined
    locations = sum(len(r["gwno_loc"].split(",")) for r in rows)
    bridged = query(conflict_home, "SELECT count(*) FROM core.brg_armed_conflict_location")[0][0]
    quarantined = query(conflict_home, """SELECT count(*) FROM meta.quarantine
                                          WHERE table_name = 'stg_ucdp_acd_location'""")[0][0]
    assert bridged + quarantined == locations and quarantined == 6


def test_conflict_monthly_equals_the_events_by_month(conflict_home: Path):
    assert query(conflict_home, """SELECT source, sum(events), sum(fatalities_best) FROM marts.conflict_monthly
                                   GROUP BY 1 ORDER BY 1""") == query(conflict_home, """
        SELECT source, count(*), sum(fatalities_best) FROM core.fct_conflict_event WHERE iso3 IS NOT NULL
        GROUP BY 1 ORDER BY 1""")
