"""GDELT reference data: the CAMEO lookups and FIPS 10-4 codes in the country crosswalk."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.reference import load_cameo_event_codes
from transforms.conflict_events.cameo import (
    EVENTCODES_SCHEMA,
    build_cameo_eventcodes,
    quad_class_for_root,
    read_cameo_lookup,
)
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_codes
from transforms.reference.country_crosswalk import combine_fips_codes

# --- CAMEO lookups ------------------------------------------------------------------------------------

def write_lookup(path: Path, header: str, *lines: str, newline: str = "\r\n") -> Path:
    path.write_bytes(newline.join([header, *lines, ""]).encode("utf-8"))
    return path


def test_glued_eventcodes_line_is_split_and_its_goldstein_fills_the_gap(tmp_path):
    events = read_cameo_lookup(write_lookup(
        tmp_path / "CAMEO.eventcodes.txt", "CAMEOEVENTCODE\tEVENTDESCRIPTION",
        "10\tDEMAND", "105\tDemand mediation",
        "1056\tDemand de-escalation of military engagement106:[-5.0] Demand withdrawal",
        "107\tDemand ceasefire", "14\tPROTEST", "1451\tProtest violently, riot1452:[-7.5] Engage in violent protest",
    ), "eventcodes")
    assert events.rows() == [
        ("10", "DEMAND", None), ("105", "Demand mediation", None),
        ("1056", "Demand de-escalation of military engagement", None), ("106", "Demand withdrawal", -5.0),
        ("107", "Demand ceasefire", None), ("14", "PROTEST", None),
        ("1451", "Protest violently, riot", None), ("1452", "Engage in violent protest", -7.5),
    ]
    goldstein = read_cameo_lookup(write_lookup(
        tmp_path / "CAMEO.goldsteinscale.txt", "CAMEOEVENTCODE\tGOLDSTEINSCALE",
        "10\t-5.0", "105\t-5.0", "1056\t-5.0", "107\t-5.0", "14\t-6.5", "1451\t-7.5", "1452\t-7.5", newline="\n",
    ), "goldsteinscale")
    table = build_cameo_eventcodes(events, goldstein)
    assert table.schema == EVENTCODES_SCHEMA
    assert table.filter(pl.col("code") == "106").row(0) == ("106", "Demand withdrawal", "10", "base", -5.0, 3)
    assert table.filter(pl.col("code") == "1452").row(0)[2:] == ("14", "event", -7.5, 4)


def test_a_glued_looking_label_with_a_foreign_root_is_left_alone(tmp_path):
    events = read_cameo_lookup(write_lookup(
        tmp_path / "e.txt", "CAMEOEVENTCODE\tEVENTDESCRIPTION", "040\tConsult about 190:[1.0] things"), "eventcodes")
    assert events.rows() == [("040", "Consult about 190:[1.0] things", None)]


def test_lookup_kinds_headers_and_bad_lines(tmp_path):
    country = read_cameo_lookup(write_lookup(tmp_path / "c.txt", "CODE\tLABEL", "WSB\tWest Bank", "USA\tUnited States"),
                                "country")
    assert country.columns == ["code", "label"] and country["code"].to_list() == ["WSB", "USA"]
    with pytest.raises(SourceFormatError, match="header"):
        read_cameo_lookup(write_lookup(tmp_path / "g.txt", "CODE\tLABEL", "01\t0.0"), "goldsteinscale")
    with pytest.raises(SourceFormatError, match="line 3"):
        read_cameo_lookup(write_lookup(tmp_path / "r.txt", "CODE\tLABEL", "ADR\tA", "BUD Buddhism"), "religion")
    with pytest.raises(SourceFormatError, match="line 3: code '010' repeats line 2"):
        read_cameo_lookup(write_lookup(tmp_path / "d.txt", "CAMEOEVENTCODE\tEVENTDESCRIPTION", "010\tA", "010\tB"),
                          "eventcodes")
    repeated = read_cameo_lookup(
        write_lookup(tmp_path / "k.txt", "CODE\tLABEL", "CEM\tOne ", "UIS\tX", "CEM\tTwo", "UIS\tX"), "knowngroup")
    assert repeated.rows() == [("CEM", "One | Two"), ("UIS", "X")]
    with pytest.raises(SourceFormatError, match="not a number"):
        read_cameo_lookup(write_lookup(tmp_path / "n.txt", "CAMEOEVENTCODE\tGOLDSTEINSCALE", "01\tzero"),
                          "goldsteinscale")
    with pytest.raises(ValueError, match="unknown CAMEO lookup kind"):
        read_cameo_lookup(tmp_path / "c.txt", "verbs")


def test_missing_goldstein_without_a_glued_value_fails(tmp_path):
    events = pl.DataFrame({"code": ["01", "010"], "label": ["A", "B"], "goldstein_in_label": [None, None]},
                          schema={"code": pl.Utf8, "label": pl.Utf8, "goldstein_in_label": pl.Float64})
    goldstein = pl.DataFrame({"code": ["01"], "goldstein_scale": [0.0]})
    with pytest.raises(ValueError, match="without a Goldstein value: \\['010'\\]"):
        build_cameo_eventcodes(events, goldstein)


def test_quad_class_by_root():
    assert [quad_class_for_root(f"{r:02d}") for r in range(1, 21)] == [1] * 5 + [2] * 3 + [3] * 5 + [4] * 7
    assert quad_class_for_root("21") is None and quad_class_for_root("1") is None


def test_committed_cameo_eventcodes_are_consistent():
    table = load_cameo_event_codes()
    assert table["code"].is_unique().all() and table.null_count().sum_horizontal()[0] == 0
    assert set(table.filter(pl.col("level") == "root")["code"]) == {f"{r:02d}" for r in range(1, 21)}
    assert (table["code"].str.slice(0, 2) == table["root_code"]).all()
    assert table.filter(pl.col("goldstein_scale").abs() > 10).is_empty()
    parents = set(table["code"])
    assert all(code[:3] in parents for code in table.filter(pl.col("level") == "event")["code"])
    assert table.filter(pl.col("code") == "106")["goldstein_scale"].to_list() == [-5.0]


# --- FIPS in the crosswalk ------------------------------------------------------------------------------

def test_fips_scheme_resolves_every_code_of_an_entity(crosswalk):
    frame = pl.DataFrame({"c": ["WE", "GZ", " us ", "uk", "KV", "OD", "OS", "QQ", None, ""]})
    got = resolve_country_codes(frame, "c", crosswalk, "fips")["iso3"].to_list()
    assert got == ["PSE", "PSE", "USA", "GBR", "XKX", "SSD", None, None, None, None]


def test_hand_fips_codes_override_geonames_and_must_list_the_no_country_codes():
    geonames = pl.DataFrame({"fips_code": ["US", "NT"], "iso3": ["USA", "ANT"]})
    hand = pl.DataFrame({
        "fips_code": ["NT", "OS", "PF", "PG", "AX", "DX", "GZ"], "iso3": ["", "", "", "", "", "", "PSE"],
        "name": ["x"] * 7, "note": ["x"] * 7,
    })
    combined = combine_fips_codes(geonames, hand)
    assert dict(combined.select("fips_code", "iso3").iter_rows())["NT"] is None
    assert combined.filter(pl.col("fips_code") == "US")["origin"].to_list() == ["geonames"]
    with pytest.raises(ValueError, match="FIPS_WITHOUT_COUNTRY"):
        combine_fips_codes(geonames, hand.filter(pl.col("fips_code") != "OS"))
