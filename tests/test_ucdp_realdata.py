"""UCDP parsers on the real files in ../shared/data/conflict_events/ucdp (skipped when absent).

Expected counts and sums come from reading each file independently with the stdlib csv/json modules; the rows
the parsers refuse are listed with the reason found in the file (crosswalk gaps). GED events whose published
low <= best <= high is broken are staged as published and flagged (deaths_ordered false), like BRD/OV-cy rows.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.reference import load_country_crosswalk
from tests.conftest import shared_path
from transforms.conflict_events.schema import EVENT_COLUMNS
from transforms.conflict_events.ucdp_acd import (
    read_ucdp_acd_csv,
    read_ucdp_brd_csv,
    read_ucdp_organized_violence_cy,
)
from transforms.conflict_events.ucdp_ged import EXTRA_COLUMNS, read_ucdp_ged_csv, read_ucdp_ged_geojson

pytestmark = pytest.mark.realdata

DEATH_PARTS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")


def ucdp(name: str) -> Path:
    return shared_path("conflict_events", "ucdp", name)


@pytest.fixture(scope="module")
def crosswalk() -> pl.DataFrame:
    return load_country_crosswalk()


def dict_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def out_of_order(records: list[dict], low: str = "low", best: str = "best", high: str = "high") -> list[dict]:
    return [r for r in records if not int(r[low]) <= int(r[best]) <= int(r[high])]


def test_every_ucdp_file_is_covered():
    folder = ucdp("conflict_data_ukr.csv").parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "BattleDeaths_v24_1.csv", "GEDEvent_v23_1.geojson", "UcdpPrioConflict_v23_1.csv", "conflict_data_ukr.csv",
        "organizedviolencecy_v25_1.csv",
    ]


def test_ged_hdx_ukraine(crosswalk):
    path = ucdp("conflict_data_ukr.csv")
    rows = dict_rows(path)
    assert rows[0]["year"] == "#date+year"  # the HXL row
    rows = rows[1:]
    assert len(rows) == 2989 and sum(int(r["best"]) for r in rows) == 7882
    assert sum(any("\n" in v for v in r.values()) for r in rows) == 132
    events, rejected = read_ucdp_ged_csv(path, crosswalk)
    assert list(events.schema.items()) == [*EVENT_COLUMNS.items(), *EXTRA_COLUMNS.items()]
    # every event staged, with the deaths the file publishes
    assert rejected.is_empty() and events.height == len(rows)
    assert events["source_event_id"].to_list() == [r["id"] for r in rows]
    assert events["fatalities_best"].sum() == 7882
    for column, published in (("fatalities_best", "best"), ("fatalities_low", "low"), ("fatalities_high", "high")):
        assert events[column].sum() == sum(int(r[published]) for r in rows), column
    # the publisher's own low/best/high inconsistencies: kept as published, flagged
    bad = out_of_order(rows)
    assert len(bad) == 13
    assert (~events["deaths_ordered"]).sum() == len(bad) and events["deaths_ordered"].null_count() == 0
    flagged = events.filter(~pl.col("deaths_ordered"))
    assert flagged.select("source_event_id", "fatalities_low", "fatalities_best", "fatalities_high").rows() == [
        (r["id"], int(r["low"]), int(r["best"]), int(r["high"])) for r in bad
    ]
    assert set(events["iso3"]) == {"UKR"} and set(events["country_code_published"]) == {"369"}
    assert events["release"].null_count() == events.height  # HDX copies do not name the GED version
    assert (events["event_date"].min(), events["event_date_end"].max()) == (date(2014, 1, 22), date(2021, 12, 31))
    assert Counter(events["type_of_violence"].to_list()) == Counter(int(r["type_of_violence"]) for r in rows)
    kept = {r["id"]: r for r in rows}
    first = events.row(0, named=True)
    source = kept[first["source_event_id"]]
    assert (first["relid"], first["latitude"], first["longitude"], first["admin1"], first["actor2"]) == (
        source["relid"], float(source["latitude"]), float(source["longitude"]), source["adm_1"], source["side_b"]
    )
    precisions = Counter(events["date_precision"].to_list())
    assert precisions == Counter(
        {"1": "day", "2": "range", "3": "week", "4": "month", "5": "year"}[r["date_prec"]] for r in kept.values()
    )
    assert events["gwnob"].null_count() == events.height


def test_ged_geojson_central_african_republic(crosswalk):
    path = ucdp("GEDEvent_v23_1.geojson")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    props = [f["properties"] for f in features]
    assert len(props) == 1848 and sum(p["best"] for p in props) == 14948
    events, rejected = read_ucdp_ged_geojson(path, crosswalk)
    # every event staged, with the deaths the file publishes
    assert rejected.is_empty() and events.height == len(props)
    assert events["source_event_id"].to_list() == [str(p["id"]) for p in props]
    assert events["fatalities_best"].sum() == 14948
    for column, published in (("fatalities_best", "best"), ("fatalities_low", "low"), ("fatalities_high", "high")):
        assert events[column].sum() == sum(p[published] for p in props), column
    # the publisher's own low/best/high inconsistencies: kept as published, flagged
    bad = out_of_order(props)
    assert len(bad) == 20
    assert (~events["deaths_ordered"]).sum() == len(bad) and events["deaths_ordered"].null_count() == 0
    flagged = events.filter(~pl.col("deaths_ordered"))
    assert flagged.select("source_event_id", "fatalities_low", "fatalities_best", "fatalities_high").rows() == [
        (str(p["id"]), p["low"], p["best"], p["high"]) for p in bad
    ]
    assert set(events["iso3"]) == {"CAF"} and set(events["release"]) == {"23.1"}
    assert events["relid"].null_count() == events.height  # destroyed (0) in this copy
    unknown_sources = sum(p["number_of_sources"] == -1 for p in props)
    assert events["number_of_sources"].null_count() == unknown_sources > 0
    coordinates = {str(f["properties"]["id"]): f["geometry"]["coordinates"] for f in features}
    for event_id, lat, lon in events.select("source_event_id", "latitude", "longitude").iter_rows():
        assert [lon, lat] == coordinates[event_id]
    assert events["event_date"].min() == min(date.fromisoformat(p["date_start"][:10]) for p in props)


def test_ged_best_is_the_sum_of_its_parts(crosswalk):
    """In both real files best = deaths_a + deaths_b + deaths_civilians + deaths_unknown for every event, also
    for the ones whose low/best/high are out of order; the staged rows keep that."""
    rows = dict_rows(ucdp("conflict_data_ukr.csv"))[1:]
    features = json.loads(ucdp("GEDEvent_v23_1.geojson").read_text(encoding="utf-8"))["features"]
    props = [f["properties"] for f in features]
    assert all(int(r["best"]) == sum(int(r[c]) for c in DEATH_PARTS) for r in rows)
    assert all(p["best"] == sum(p[c] for c in DEATH_PARTS) for p in props)
    hdx, _ = read_ucdp_ged_csv(ucdp("conflict_data_ukr.csv"), crosswalk)
    geo, _ = read_ucdp_ged_geojson(ucdp("GEDEvent_v23_1.geojson"), crosswalk)
    for events in (hdx, geo):
        assert events.height > 0
        assert events.select((pl.col("fatalities_best") == pl.sum_horizontal(DEATH_PARTS)).all()).item()


def test_acd_conflict_years(crosswalk):
    path = ucdp("UcdpPrioConflict_v23_1.csv")
    rows = dict_rows(path)
    conflict_years, locations, rejected = read_ucdp_acd_csv(path, crosswalk)
    assert conflict_years.height == len(rows) == 2626
    assert conflict_years["conflict_id"].n_unique() == len({r["conflict_id"] for r in rows}) == 297
    assert set(conflict_years["version"]) == {"23.1"}
    assert conflict_years["ep_end"].sum() == sum(r["ep_end"] == "1" for r in rows)
    assert Counter(conflict_years["intensity_level"].to_list()) == Counter(int(r["intensity_level"]) for r in rows)
    pieces = [(r["conflict_id"], r["year"], g.strip()) for r in rows for g in r["gwno_loc"].split(",")]
    assert locations.height + rejected.height == len(pieces)
    # Hyderabad (GW 751, 1947-48) and Aden before South Yemen's independence (GW 680, 1964-66) have no entity
    # in the crosswalk: their location rows are refused, the conflict-years kept.
    assert sorted(rejected["record_key"]) == sorted(
        ["11884:1947:751", "11884:1948:751", "226:1948:751", "286:1964:680", "286:1965:680", "286:1966:680"]
    )
    assert all(r.endswith("this location row is left out, the record is kept") for r in rejected["reason"])
    multi = conflict_years.filter(pl.col("gwno_loc").str.contains(","))
    assert multi.height == sum("," in r["gwno_loc"] for r in rows) == 145
    # each bridge region (from the GW code) is one of the conflict-year's published regions
    regions = locations.group_by("conflict_id", "year").agg(pl.col("region").unique().sort().alias("derived"))
    joined = conflict_years.join(regions, on=["conflict_id", "year"])
    assert all(set(d) <= set(r) for d, r in joined.select("derived", "region").iter_rows())


def test_brd_dyad_years(crosswalk):
    path = ucdp("BattleDeaths_v24_1.csv")
    rows = dict_rows(path)
    dyad_years, battles, rejected = read_ucdp_brd_csv(path, crosswalk)
    assert rejected.is_empty()
    assert dyad_years.height == len(rows) == 1920
    for column in ("bd_best", "bd_low", "bd_high"):
        assert dyad_years[column].sum() == sum(int(r[column]) for r in rows)
    assert (~dyad_years["estimates_ordered"]).sum() == len(out_of_order(rows, "bd_low", "bd_best", "bd_high")) == 7
    assert battles.height == sum(len(r["gwno_battle"].split(",")) for r in rows)
    assert battles["iso3"].null_count() == 0


def test_organized_violence_country_years(crosswalk):
    path = ucdp("organizedviolencecy_v25_1.csv")
    rows = dict_rows(path)
    country_years, rejected = read_ucdp_organized_violence_cy(path, crosswalk)
    assert len(rows) == 6936 and country_years.height + rejected.height == len(rows)
    # UCDP keeps GW 345 "Serbia (Yugoslavia)" after 2006; in the crosswalk GW 345 ends with Serbia and Montenegro
    serbia = [r for r in rows if r["country_id_cy"] == "345" and int(r["year_cy"]) > 2006]
    assert rejected.select("record_key", "reason").rows() == [
        (f"345:{r['year_cy']}", f"country_id_cy 345 (Gleditsch-Ward) does not resolve to a country in {r['year_cy']}")
        for r in serbia
    ]
    assert len(serbia) == 18
    kept = [r for r in rows if r not in serbia]
    for block, column in (("sb", "sb_total_deaths_best_cy"), ("ns", "ns_total_deaths_best_cy"),
                          ("os", "os_total_deaths_best_cy"), ("total", "cumulative_total_deaths_in_orgvio_best_cy")):
        assert country_years[f"{block}_deaths_best"].sum() == sum(int(r[column]) for r in kept), block
    assert country_years["sb_dyad_ids"].null_count() == sum(r["sb_dyad_ids_cy"] == "NO_DYAD" for r in kept)
    assert country_years["sb_dyad_ids"].list.len().sum() == sum(
        len(r["sb_dyad_ids_cy"].split("; ")) for r in kept if r["sb_dyad_ids_cy"] != "NO_DYAD"
    )
    assert country_years.select(pl.struct("iso3", "year").is_unique().all()).item()
    # Yemen: UCDP's GW 678 is North Yemen, then unified Yemen; 680 South Yemen until unification
    yemen = country_years.filter(pl.col("gw_code").is_in([678, 679, 680]))
    spans = {(g, i): (lo, hi) for g, i, lo, hi in yemen.group_by("gw_code", "iso3").agg(
        pl.col("year").min().alias("first"), pl.col("year").max().alias("last")).iter_rows()}
    assert spans == {(678, "YAR"): (1989, 1990), (678, "YEM"): (1991, 2024), (680, "YMD"): (1989, 1990)}
    ordered = [r for r in kept if all(
        int(r[f"{p}low_cy"]) <= int(r[f"{p}best_cy"]) <= int(r[f"{p}high_cy"])
        for p in ("sb_total_deaths_", "ns_total_deaths_", "os_total_deaths_", "cumulative_total_deaths_in_orgvio_"))]
    assert country_years["estimates_ordered"].sum() == len(ordered) == len(kept) - 9
