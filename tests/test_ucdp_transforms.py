"""UCDP parsers (GED in four layouts, ACD, BRD, organized violence) on the bundled samples and small inline files."""

from __future__ import annotations

import csv
import importlib.util
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import dict_rows
from transforms.conflict_events.schema import DATE_PRECISIONS, EVENT_COLUMNS
from transforms.conflict_events.ucdp_ged import (
    EXTRA_COLUMNS,
    GED_COLUMNS,
    GEOJSON_PROPERTIES,
    REJECTED_SCHEMA,
    read_ucdp_ged_csv,
    release_from_file_name,
)
from transforms.conflict_events.ucdp_ged_json import read_ucdp_ged_api_pages, read_ucdp_ged_geojson
from transforms.errors import SourceFormatError

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
GED_SAMPLE = SAMPLES / "ucdp_ged" / "GEDEvent_v25_1.csv"
HDX_SAMPLE = SAMPLES / "ucdp_ged" / "conflict_data_syr.csv"
API_SAMPLES = sorted((SAMPLES / "ucdp_ged" / "api").glob("*.json"))
ACD_SAMPLE = SAMPLES / "ucdp_acd" / "UcdpPrioConflict_v25_1.csv"
LAYOUT_COLUMNS = ["release", "source_file"]  # the only columns that may differ between layouts of one release


def event(number: int, /, **changes: object) -> dict[str, object]:
    """One invented GED event as the release CSV holds it (all text)."""
    base: dict[str, object] = {c: "" for c in GED_COLUMNS}
    base.update(
        id=str(number), relid=f"XXX-2024-1-1-{number}", year="2024", active_year="1", code_status="Clear",
        type_of_violence="1", conflict_dset_id="1", conflict_new_id="1", conflict_name="Sampleland: Government",
        dyad_dset_id="2", dyad_new_id="2", dyad_name="Government of Sampleland - Test Front", side_a_dset_id="3",
        side_a_new_id="3", side_a="Government of Sampleland", side_b_dset_id="4", side_b_new_id="4",
        side_b="Test Front", number_of_sources="2", source_headline="One;Two", where_prec="1",
        where_coordinates="Test village", adm_1="Test province", latitude="48.500000", longitude="35.250000",
        geom_wkt="POINT (35.25 48.5)", priogrid_gid="199431", country="Ukraine", country_id="369", region="Europe",
        event_clarity="1", date_prec="1", date_start="2024-02-01 00:00:00.000", date_end="2024-02-01 00:00:00.000",
        deaths_a="1", deaths_b="2", deaths_civilians="0", deaths_unknown="0", best="3", high="4", low="2",
        gwnoa="369",
    )
    base.update({k: str(v) for k, v in changes.items()})
    return base


def write_csv(path: Path, events: list[dict[str, object]], *, hdx: bool = False, hxl: bool = True) -> Path:
    columns = list(GED_COLUMNS)
    if hdx:
        columns.insert(columns.index("country") + 1, "iso3")
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        if hdx and hxl:
            writer.writerow({"year": "#date+year", "latitude": "#geo+lat", "iso3": "#country+code"}.get(c, "")
                            for c in columns)
        for e in events:
            writer.writerow({**e, "iso3": "UKR"}.get(c, "") for c in columns)
    return path


def _json_value(column: str, value: str) -> object:
    """The value as the API and GeoJSON copies type it: numbers as numbers, dates with 'T', '' as null."""
    if value == "":
        return None
    if column in ("date_start", "date_end"):
        return value[:10] + "T00:00:00"
    if column in ("latitude", "longitude"):
        return float(value)
    if column.endswith("dset_id") or column in ("gwnoa", "gwnob") or not value.lstrip("-").isdigit():
        return value
    return int(value)


def write_api_page(path: Path, events: list[dict[str, object]], next_url: str = "") -> Path:
    result = [{c: _json_value(c, str(e[c])) for c in GED_COLUMNS} for e in events]
    page = {"TotalCount": len(events), "TotalPages": 1, "PreviousPageUrl": "", "NextPageUrl": next_url,
            "Result": result}
    path.write_text(json.dumps(page), encoding="utf-8")
    return path


def write_geojson(path: Path, events: list[dict[str, object]]) -> Path:
    features = []
    for e in events:
        props = {c: _json_value(c, str(e[c])) for c in GEOJSON_PROPERTIES}
        props["relid"] = 0  # the stored copy's converter destroyed relid
        features.append({"type": "Feature", "properties": props, "geometry": {
            "type": "Point", "coordinates": [float(str(e["longitude"])), float(str(e["latitude"]))]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


# --- GED: the bundled samples ---------------------------------------------------------------------------------

def test_release_csv_sample(crosswalk):
    events, rejected = read_ucdp_ged_csv(GED_SAMPLE, crosswalk)
    rows = dict_rows(GED_SAMPLE)
    assert len(rows) == 60 and events.height == 60 and rejected.is_empty()
    assert list(events.schema.items()) == [*EVENT_COLUMNS.items(), *EXTRA_COLUMNS.items()]
    assert rejected.schema == REJECTED_SCHEMA
    # a real CSV parser: ids in file order although two records span several lines
    assert sum("\n" in v for r in rows for v in r.values()) == 3
    assert events["source_event_id"].to_list() == [r["id"] for r in rows]
    assert set(events["release"]) == {"25.1"} and set(events["source_file"]) == {GED_SAMPLE.name}
    assert set(events["source"]) == {"ucdp_ged"} and set(events["source_kind"]) == {"verified_event"}
    assert (events["event_id"] == "ucdp_ged:" + events["source_event_id"]).all()
    assert set(events["iso3"]) == {"SYR", "SDN", "MMR", "UKR"}
    assert set(events["date_precision"]) <= set(DATE_PRECISIONS)
    # every event staged with the deaths the file holds
    for column, published in (("fatalities_best", "best"), ("fatalities_low", "low"), ("fatalities_high", "high")):
        assert events[column].to_list() == [int(r[published]) for r in rows], column


def test_sample_quirks(crosswalk):
    events, rejected = read_ucdp_ged_csv(GED_SAMPLE, crosswalk)
    rows = dict_rows(GED_SAMPLE)
    # record 42 has low > best (low 7, best 5, high 5): staged as published and flagged, not refused
    assert rejected.is_empty()
    out_of_order = [r["id"] for r in rows if not int(r["low"]) <= int(r["best"]) <= int(r["high"])]
    assert out_of_order == [rows[41]["id"]]  # the sample keeps at least one such event
    flagged = events.filter(~pl.col("deaths_ordered"))
    assert flagged.select("source_event_id", "fatalities_low", "fatalities_best", "fatalities_high").rows() == [
        (rows[41]["id"], 7, 5, 5)
    ]
    assert events.row(41, named=True)["deaths_ordered"] is False
    assert events["deaths_ordered"].null_count() == 0 and events["deaths_ordered"].sum() == 59
    by_precision = {p: f for (p,), f in events.group_by("date_precision")}
    span = by_precision["range"].row(0, named=True)
    assert span["date_prec"] == 2 and 1 <= (span["event_date_end"] - span["event_date"]).days <= 5
    month = by_precision["month"].row(0, named=True)
    assert (month["event_date"], month["event_date_end"]) == (date(2024, 3, 1), date(2024, 3, 31))
    assert by_precision["week"]["date_prec"].to_list() == [3] and by_precision["year"]["date_prec"].to_list() == [5]
    day = by_precision["day"]
    assert (day["event_date"] == day["event_date_end"]).all()
    assert events["number_of_sources"].null_count() == 1  # -1 = unknown
    ukraine = events.filter(pl.col("iso3") == "UKR").row(0, named=True)
    assert (ukraine["country_code_published"], ukraine["gwnoa"], ukraine["gwnob"]) == ("369", "365", "369")
    assert ukraine["actor1"] == "Government of Russia (Soviet Union)" and ukraine["source_event_type"] == "1"
    assert events["source_sub_event_type"].null_count() == events.height
    assert events["event_date"].min() >= date(2024, 1, 1) and events["event_date_end"].max() <= date(2024, 6, 30)


def test_hdx_copy_is_the_release_without_a_version(crosswalk):
    release, _ = read_ucdp_ged_csv(GED_SAMPLE, crosswalk)
    hdx, rejected = read_ucdp_ged_csv(HDX_SAMPLE, crosswalk)
    assert hdx.height == 15 and rejected.is_empty()
    assert hdx["release"].null_count() == 15 and set(hdx["source_file"]) == {HDX_SAMPLE.name}
    assert_frame_equal(hdx.drop(LAYOUT_COLUMNS), release.filter(pl.col("iso3") == "SYR").drop(LAYOUT_COLUMNS))


def test_api_pages_are_the_release(crosswalk):
    release, _ = read_ucdp_ged_csv(GED_SAMPLE, crosswalk)
    api, rejected = read_ucdp_ged_api_pages(API_SAMPLES, crosswalk)
    assert [p.name for p in API_SAMPLES] == ["gedevents_25.1_page1.json", "gedevents_25.1_page2.json"]
    assert api.height == 20 and rejected.is_empty() and set(api["release"]) == {"25.1"}
    assert api["source_file"].unique(maintain_order=True).to_list() == [p.name for p in API_SAMPLES]
    assert_frame_equal(api.drop(LAYOUT_COLUMNS), release.filter(pl.col("iso3") == "SDN").drop(LAYOUT_COLUMNS))


def test_generator_rewrites_the_committed_samples(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_ucdp", SAMPLES / "generate_ucdp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for path in [GED_SAMPLE, HDX_SAMPLE, *API_SAMPLES, ACD_SAMPLE]:
        assert (tmp_path / path.relative_to(SAMPLES)).read_bytes() == path.read_bytes(), path.name


# --- GED: layouts, rules and errors on inline files -------------------------------------------------------------

def test_every_layout_stages_the_same_events(tmp_path, crosswalk):
    events = [
        event(11, where_coordinates="Two-line\nplace", source_headline="Headline with\na newline"),
        event(12, date_prec="2", date_end="2024-02-04 00:00:00.000", best="0", low="0", high="1", deaths_a="0",
              deaths_b="0", number_of_sources="-1", latitude="-33.125000", longitude="151.500000"),
        event(13, type_of_violence="3", side_b="Civilians", gwnoa="", adm_1="", country_id="365", country="Russia",
              year="2000", date_start="2000-05-01 00:00:00.000", date_end="2000-05-31 00:00:00.000", date_prec="4"),
    ]
    csv_events, csv_rejected = read_ucdp_ged_csv(write_csv(tmp_path / "GEDEvent_v26_0_7.csv", events), crosswalk)
    hdx_events, _ = read_ucdp_ged_csv(write_csv(tmp_path / "conflict_data_ukr.csv", events, hdx=True), crosswalk)
    api_events, _ = read_ucdp_ged_api_pages(
        [write_api_page(tmp_path / "page.json", events, "https://ucdpapi.pcr.uu.se/api/gedevents/26.0.7?page=1")],
        crosswalk,
    )
    geo_events, _ = read_ucdp_ged_geojson(write_geojson(tmp_path / "GEDEvent_v26_0_7.geojson", events), crosswalk)
    assert csv_rejected.is_empty() and csv_events.height == 3
    assert csv_events["release"].to_list() == ["26.0.7"] * 3 and hdx_events["release"].null_count() == 3
    assert api_events["release"].to_list() == ["26.0.7"] * 3
    for other in (hdx_events, api_events):
        assert_frame_equal(other.drop(LAYOUT_COLUMNS), csv_events.drop(LAYOUT_COLUMNS))
    # GeoJSON: relid destroyed (0) -> null, all else the same
    assert geo_events["relid"].null_count() == 3
    assert_frame_equal(geo_events.drop([*LAYOUT_COLUMNS, "relid"]), csv_events.drop([*LAYOUT_COLUMNS, "relid"]))
    first, second, third = csv_events.iter_rows(named=True)
    assert first["location"] == "Two-line\nplace"
    assert second["date_precision"] == "range" and second["number_of_sources"] is None
    assert (second["latitude"], second["longitude"]) == (-33.125, 151.5)
    assert third["iso3"] == "RUS" and third["date_precision"] == "month" and third["gwnoa"] is None


def test_hxl_row_is_detected_not_assumed(tmp_path, crosswalk):
    events = [event(21), event(22)]
    with_tags, _ = read_ucdp_ged_csv(write_csv(tmp_path / "a.csv", events, hdx=True), crosswalk)
    without_tags, _ = read_ucdp_ged_csv(write_csv(tmp_path / "b.csv", events, hdx=True, hxl=False), crosswalk)
    assert with_tags["source_event_id"].to_list() == without_tags["source_event_id"].to_list() == ["21", "22"]
    # a hashtag row anywhere but under the header is data, and fails as data
    tagged = write_csv(tmp_path / "c.csv", [event(23), {c: "#tag" if c == "year" else "" for c in GED_COLUMNS}])
    with pytest.raises(SourceFormatError, match="'year' holds '#tag'"):
        read_ucdp_ged_csv(tagged, crosswalk)


@pytest.mark.parametrize(
    "name, release",
    [("GEDEvent_v23_1.csv", "23.1"), ("GEDEvent_v26_0_7.csv", "26.0.7"), ("GEDEvent_v25_1.geojson", "25.1"),
     ("ged251-GEDEvent_v25_1.csv", "25.1"), ("conflict_data_syr.csv", None), ("gedevents.csv", None)],
)
def test_release_from_file_name(name, release):
    assert release_from_file_name(name) == release


def test_quarantine_reasons(tmp_path, crosswalk):
    rows = [
        event(1),
        event(2, low="5", best="3", high="4"),  # publisher's low > best: kept as published, flagged
        event(3, deaths_civilians="-1"),
        event(4, id=""),
        event(5, date_end="2024-01-15 00:00:00.000"),
        event(6, date_start="2024-02-30 00:00:00.000"),
        event(7, date_end="02/01/2024"),
        event(8, latitude="91.000000", longitude="-181.000000"),
        event(9, country_id="999"),
        event(1, best="9", high="9", low="9"),
        event(10, best="", date_start=""),
        event(11, low="2", best="5", high="4"),  # best > high: kept as published, flagged
    ]
    events, rejected = read_ucdp_ged_csv(write_csv(tmp_path / "GEDEvent_v25_1.csv", rows), crosswalk)
    assert events.select("source_event_id", "fatalities_low", "fatalities_best", "fatalities_high",
                         "deaths_ordered").rows() == [
        ("1", 2, 3, 4, True), ("2", 5, 3, 4, False), ("11", 2, 5, 4, False)
    ]
    assert rejected.select("record_number", "record_key", "reason").rows() == [
        (3, "3", "negative deaths_civilians (-1)"),
        (4, None, "missing id"),
        (5, "5", "date_end 2024-01-15 is before date_start 2024-02-01"),
        (6, "6", "unparseable date_start '2024-02-30 00:00:00.000'"),
        (7, "7", "unparseable date_end '02/01/2024'"),
        (8, "8", "latitude 91.0 out of range; longitude -181.0 out of range"),
        (9, "9", "country_id 999 (Gleditsch-Ward) does not resolve to a country in 2024"),
        (10, "1", "duplicate id 1 (first occurrence kept)"),
        (11, "10", "missing date_start; missing best"),
    ]
    record = json.loads(rejected["record"][0])
    assert list(record) == list(GED_COLUMNS) and record["deaths_civilians"] == "-1"
    assert not any("best <= high" in r for r in rejected["reason"])
    assert set(rejected["source_file"]) == {"GEDEvent_v25_1.csv"}


def test_gleditsch_ward_codes_resolve_in_the_event_year(tmp_path, crosswalk):
    def at(i: int, gw: str, year: int) -> dict[str, object]:
        day = f"{year}-06-01 00:00:00.000"
        return event(i, country_id=gw, year=year, date_start=day, date_end=day)

    rows = [at(1, "365", 1990), at(2, "365", 2000), at(3, "260", 1989), at(4, "260", 2000), at(5, "255", 2000),
            at(6, "265", 1989), at(7, "678", 1989), at(8, "678", 2015), at(9, "680", 1989), at(10, "345", 1991),
            at(11, "345", 1999)]
    events, rejected = read_ucdp_ged_csv(write_csv(tmp_path / "x.csv", rows), crosswalk)
    assert dict(events.select("source_event_id", "iso3").rows()) == {
        "1": "SUN", "2": "RUS", "3": "DEU", "4": "DEU", "6": "DDR", "7": "YAR", "8": "YEM", "9": "YMD", "10": "YUG",
        "11": "SCG",
    }
    # 255 is Germany's Correlates of War code, not its Gleditsch-Ward one (260)
    assert rejected["reason"].to_list() == ["country_id 255 (Gleditsch-Ward) does not resolve to a country in 2000"]
    assert events.filter(pl.col("source_event_id") == "1")["country_code_published"].item() == "365"


def test_schema_drift_names_the_column(tmp_path, crosswalk):
    renamed = tmp_path / "GEDEvent_v25_1.csv"
    write_csv(renamed, [event(1)])
    renamed.write_text(renamed.read_text().replace(",best,", ",best_estimate,", 1))
    with pytest.raises(SourceFormatError, match=r"missing column\(s\) \['best'\]") as e:
        read_ucdp_ged_csv(renamed, crosswalk)
    assert e.value.source == "ucdp_ged" and e.value.file == "GEDEvent_v25_1.csv"
    with pytest.raises(SourceFormatError, match="'best' holds 'three', not an integer"):
        read_ucdp_ged_csv(write_csv(tmp_path / "b.csv", [event(1), event(2, best="three")]), crosswalk)
    with pytest.raises(SourceFormatError, match="'date_prec' holds code 6"):
        read_ucdp_ged_csv(write_csv(tmp_path / "c.csv", [event(1, date_prec="6")]), crosswalk)
    with pytest.raises(SourceFormatError, match="'type_of_violence' holds code 4"):
        read_ucdp_ged_csv(write_csv(tmp_path / "d.csv", [event(1, type_of_violence="4")]), crosswalk)
    with pytest.raises(SourceFormatError, match="'latitude' holds 'north', not a number"):
        read_ucdp_ged_csv(write_csv(tmp_path / "e.csv", [event(1, latitude="north")]), crosswalk)
    html = tmp_path / "f.csv"
    html.write_text("<!DOCTYPE html><html>login</html>")
    with pytest.raises(SourceFormatError, match="HTML"):
        read_ucdp_ged_csv(html, crosswalk)


def test_json_layout_errors(tmp_path, crosswalk):
    page = write_api_page(tmp_path / "p.json", [event(1)])
    reply = json.loads(page.read_text())
    del reply["Result"][0]["country_id"]
    page.write_text(json.dumps(reply))
    with pytest.raises(SourceFormatError, match=r"missing column\(s\) \['country_id'\]"):
        read_ucdp_ged_api_pages([page], crosswalk)
    token = tmp_path / "401.json"
    token.write_text(json.dumps({"message": "API token required. Add header: x-ucdp-access-token"}))
    with pytest.raises(SourceFormatError, match="no 'Result' list; found \\['message'\\]"):
        read_ucdp_ged_api_pages([token], crosswalk)
    geo = write_geojson(tmp_path / "g.geojson", [event(1)])
    collection = json.loads(geo.read_text())
    del collection["features"][0]["properties"]["date_prec"]
    geo.write_text(json.dumps(collection))
    with pytest.raises(SourceFormatError, match=r"\['date_prec'\]"):
        read_ucdp_ged_geojson(geo, crosswalk)
    broken = tmp_path / "h.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(SourceFormatError, match="not a JSON document"):
        read_ucdp_ged_geojson(broken, crosswalk)


def test_api_pages_are_one_set(tmp_path, crosswalk):
    first = write_api_page(tmp_path / "gedevents_25.1_page1.json", [event(1), event(2)])
    second = write_api_page(tmp_path / "gedevents_25.1_page2.json", [event(3), event(2, best="4", high="5")])
    events, rejected = read_ucdp_ged_api_pages([first, second], crosswalk)
    assert events["source_event_id"].to_list() == ["1", "2", "3"] and set(events["release"]) == {"25.1"}
    assert rejected.select("source_file", "record_number", "reason").rows() == [
        ("gedevents_25.1_page2.json", 2, "duplicate id 2 (first occurrence kept)")
    ]
    empty, none = read_ucdp_ged_api_pages([write_api_page(tmp_path / "e.json", [])], crosswalk)
    assert empty.is_empty() and none.is_empty() and empty.columns == events.columns
