"""UCDP parsers on the real files in ../shared/data/conflict_events/ucdp (skipped when absent).

Expected counts and sums come from reading each file independently with the stdlib csv/json modules; the rows
the parsers refuse are listed with the reason found in the file (crosswalk gaps). GED events whose published
low <= best <= high is broken are staged as published and flagged (deaths_ordered false).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import dict_rows, shared_path
from transforms.conflict_events.schema import EVENT_COLUMNS
from transforms.conflict_events.ucdp_acd import read_ucdp_acd_csv
from transforms.conflict_events.ucdp_ged import EXTRA_COLUMNS, read_ucdp_ged_csv
from transforms.conflict_events.ucdp_ged_json import read_ucdp_ged_geojson

pytestmark = pytest.mark.realdata

DEATH_PARTS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")


def ucdp(name: str) -> Path:
    return shared_path("conflict_events", "ucdp", name)


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

