"""CFR Cyber Operations Tracker parser and staging on the bundled synthetic sample and on variants of it."""

from __future__ import annotations

import csv
import importlib.util
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.cyber_incidents.cfr import (
    QUARANTINE_SCHEMA,
    VICTIM_COUNTRY_WORDS,
    find_country_names,
    read_cfr_snapshot,
    split_sponsors,
    stage_cfr,
)
from transforms.cyber_incidents import cfr
from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INCIDENT_TYPES, INITIATOR_SCHEMA, TARGET_SCHEMA
from transforms.errors import SourceFormatError
from transforms.reference.countries import normalize_country_name, resolve_country_names

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "cfr" / "cyber-operations-incidents.csv"
TYPES_CSV = REPO / "data" / "reference" / "cyber_types" / "cfr.csv"


def records(path: Path) -> list[list[str]]:
    """Independent reading with the stdlib csv module: header first."""
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.reader(f) if r]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


@pytest.fixture(scope="module")
def tables():
    return read_cfr_snapshot([SAMPLE])


@pytest.fixture(scope="module")
def staged(tables):
    return stage_cfr(tables, load_country_aliases(), load_country_crosswalk())


@pytest.fixture(scope="module")
def names():
    return cfr._name_table(load_country_aliases())


def by_title(frame: pl.DataFrame, incidents: pl.DataFrame, title: str) -> list[dict]:
    ids = incidents.filter(pl.col("title") == title)["incident_id"]
    return frame.filter(pl.col("incident_id").is_in(ids.implode())).to_dicts()


def test_shapes_are_the_conformed_schema(tables, staged):
    for t in (tables, staged):
        assert t.incidents.schema == INCIDENT_SCHEMA
        assert t.initiators.schema == INITIATOR_SCHEMA
        assert t.targets.schema == TARGET_SCHEMA
        assert t.quarantine.schema == QUARANTINE_SCHEMA


def test_every_record_is_an_incident_or_quarantined(tables):
    data = records(SAMPLE)[1:]
    assert len(data) == tables.incidents.height + tables.quarantine.height
    assert tables.incidents["incident_id"].is_unique().all()
    assert (tables.incidents["source"] == "cfr").all()


def test_quarantine_reasons(tables):
    reasons = dict(zip(tables.quarantine["reason"], tables.quarantine["record"]))
    assert set(reasons) == {
        "expected 12 fields, found 11", "garbled text ('??') in Title, Description",
        "columns shifted: Type holds 'Private sector'", "duplicate of row 1",
    }
    shifted = json.loads(reasons["columns shifted: Type holds 'Private sector'"])
    assert shifted["Sponsor"] == "Espionage" and shifted["_row"] == 15
    short = json.loads(reasons["expected 12 fields, found 11"])
    assert short["Title"] == "Targeting of a made-up port authority"


def test_garbled_rows_can_be_kept(tables):
    kept = read_cfr_snapshot([SAMPLE], quarantine_garbled=False)
    assert kept.incidents.height == tables.incidents.height + 1
    assert "garbled" not in " ".join(kept.quarantine["reason"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Palestine, State of", ["Palestine, State of"]),
        ("Palestine, State of, Iran (Islamic Republic of)", ["Palestine, State of", "Iran (Islamic Republic of)"]),
        ("Israel, Palestine, State of", ["Israel", "Palestine, State of"]),
        ("United States, Israel", ["United States", "Israel"]),
        ("United States, Australia, Canada, New Zealand, United Kingdom",
         ["United States", "Australia", "Canada", "New Zealand", "United Kingdom"]),
        ("Korea, Republic of, Japan", ["Korea, Republic of", "Japan"]),
        ("Bahamas, The", ["Bahamas, The"]),
        ("Congo, Dem. Rep., Rwanda", ["Congo, Dem. Rep.", "Rwanda"]),
        ("Taiwan, Province of China", ["Taiwan, Province of China"]),
        ("Congo, The Democratic Republic of the", ["Congo, The Democratic Republic of the"]),
        ("", []),
    ],
)
def test_split_sponsors(raw, expected):
    assert split_sponsors(raw) == expected


def test_initiators(tables, staged):
    inc = tables.incidents
    palestine = by_title(staged.initiators, inc, "Surveillance of invented activists")
    assert [(r["country_raw"], r["iso3"], r["actor_type"], r["attribution_basis"]) for r in palestine] == [
        ("Palestine, State of", "PSE", "state", "sponsor (CFR)")]
    two = by_title(staged.initiators, inc, "Phishing of two invented ministries")
    assert [(r["country_raw"], r["iso3"]) for r in two] == [
        ("Palestine, State of", "PSE"), ("Iran (Islamic Republic of)", "IRN")]
    assert {r["actor"] for r in two} == {"Olive Viper, Cedar Fox"}
    joint = by_title(staged.initiators, inc, "Joint operation against a made-up enrichment plant")
    assert [(r["iso3"], r["actor"]) for r in joint] == [("USA", None), ("ISR", None)]
    assert by_title(staged.initiators, inc, "Espionage against an invented think tank") == []
    assert staged.initiators.filter(pl.col("country_raw").is_not_null() & pl.col("iso3").is_null()).is_empty()


def test_affiliation_without_sponsor(tmp_path):
    rows = records(SAMPLE)
    rows[1][6] = ""  # no Sponsor, Affiliations kept
    t = read_cfr_snapshot([write(tmp_path / SAMPLE.name, rows[:2])])
    assert t.initiators.select("country_raw", "actor", "attribution_basis").rows() == [
        (None, "Believed to be the work of Paper Wolf", "affiliation (CFR)")]


def test_dates(tables):
    raw = {r[0]: r[1] for r in records(SAMPLE)[1:]}
    for title, start, precision in tables.incidents.select("title", "start_date", "date_precision").iter_rows():
        if raw[title]:
            m, d, y = (int(x) for x in raw[title].split("/"))
            assert (start, precision) == (date(y, m, d), "day")
        else:
            assert (start, precision) == (None, None)
    assert tables.incidents["end_date"].is_null().all()
    assert tables.incidents.filter(pl.col("start_date").is_null()).height == 2


def test_iso_dates_and_bad_dates(tmp_path):
    rows = records(SAMPLE)[:4]
    rows[1][1], rows[2][1], rows[3][1] = "2023-03-07", "13/45/2020", "March 2020"
    t = read_cfr_snapshot([write(tmp_path / SAMPLE.name, rows)])
    assert t.incidents["start_date"].to_list() == [date(2023, 3, 7)]
    assert sorted(t.quarantine["reason"]) == ["unreadable Date '13/45/2020' (not M/D/YYYY)",
                                              "unreadable Date 'March 2020' (not M/D/YYYY)"]


def test_incident_ids_are_stable_and_distinct(tmp_path, tables):
    rows = records(SAMPLE)
    reordered = read_cfr_snapshot([write(tmp_path / SAMPLE.name, [rows[0]] + rows[:0:-1])])
    assert set(reordered.incidents["incident_id"]) == set(tables.incidents["incident_id"])
    twins = tables.incidents.filter(pl.col("title") == "Targeting of invented telecoms")["incident_id"].to_list()
    assert len(twins) == 2 and all(t.startswith("cfr:targeting-of-invented-telecoms-2021-09-28-") for t in twins)
    assert "cfr:blue-kite-undated" in tables.incidents["incident_id"].to_list()
    assert "cfr:compromise-of-an-invented-ministry-2020-02-13" in tables.incidents["incident_id"].to_list()


def test_targets_from_victims_and_categories(tables, staged):
    inc = tables.incidents
    energy = by_title(staged.targets, inc, "Targeting of fictional energy firms")
    assert sorted((r["iso3"], r["sector"]) for r in energy) == sorted(
        (c, s) for c in ("USA", "CAN", "JPN") for s in ("Private sector", "Government"))
    banks = by_title(staged.targets, inc, "Blue Kite")
    assert [(r["country_raw"], r["iso3"]) for r in banks] == [("U.S.", "USA"), ("U.K.", "GBR"), ("Vietnam", "VNM")]
    adjective = by_title(staged.targets, inc, "Defacement of invented news sites")
    assert [(r["country_raw"], r["iso3"], r["sector"]) for r in adjective] == [("Mexican", "MEX", "Civil society")]
    nothing = by_title(staged.targets, inc, "Leak of made-up party emails")
    assert sorted((r["country_raw"], r["sector"]) for r in nothing) == [(None, "Civil society"), (None, "Government")]
    # before staging, the row carries the whole Victims text
    assert by_title(tables.targets, inc, "Defacement of invented news sites")[0]["country_raw"] == "Mexican newspapers"
    assert staged.targets.filter(pl.col("country_raw").is_not_null() & pl.col("iso3").is_null()).is_empty()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Venezuela, Ecuador, Colombia", ["Venezuela", "Ecuador", "Colombia"]),
        ("Japan, Korea (Republic of), Russian Federation, Mitsubishi", ["Japan", "Korea (Republic of)",
                                                                        "Russian Federation"]),
        ("Aerospace firms in New Mexico and Israel.", ["Israel"]),
        ("North American utilities", []),
        ("Firms in South Lebanon and New Jersey", ["Lebanon"]),
        ("Organizations in Azerbaijan, Israel, and the United Arab Emirates.", ["Azerbaijan", "Israel",
                                                                               "United Arab Emirates"]),
        ("The U.S. Navy and the UK", ["U.S.", "UK"]),
        ("Staff of the South Korean embassy", ["South Korean"]),
        ("Nigerian banks in Niger", ["Niger"]),
        ("Pentagon", []),
    ],
)
def test_find_country_names(names, text, expected):
    assert [span for span, _ in find_country_names(text, *names)] == expected


def test_one_country_named_twice_is_one_target(tmp_path):
    rows = records(SAMPLE)[:2]
    rows[1][5] = "Professors in South Korea and South Korean think tanks"
    t = read_cfr_snapshot([write(tmp_path / SAMPLE.name, rows)])
    staged = stage_cfr(t, load_country_aliases(), load_country_crosswalk())
    assert staged.targets.select("country_raw", "iso3").rows() == [("South Korea", "KOR")]


def test_every_victim_word_resolves():
    words = pl.DataFrame({"name": [normalize_country_name(n) for n in VICTIM_COUNTRY_WORDS.values()]})
    resolved = resolve_country_names(words, "name", load_country_aliases(), load_country_crosswalk())
    assert resolved.filter(pl.col("iso3").is_null()).is_empty()


def test_every_type_label_is_mapped(tables):
    mapping = {r[1]: r[2] for r in records(TYPES_CSV)[1:]}
    assert set(tables.incidents["incident_types_raw"].explode().drop_nulls()) <= set(mapping)
    assert set(mapping.values()) <= set(INCIDENT_TYPES)
    assert set(cfr.CFR_TYPES) == set(mapping)


def test_format_errors(tmp_path):
    rows = records(SAMPLE)
    broken = [[h for h in rows[0] if h != "Sponsor"]] + [r[:6] + r[7:] for r in rows[1:3]]
    with pytest.raises(SourceFormatError, match="missing header column 'Sponsor'"):
        read_cfr_snapshot([write(tmp_path / "a.csv", broken)])
    html = tmp_path / "b.csv"
    html.write_text("<!DOCTYPE html><html></html>", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="HTML") as e:
        read_cfr_snapshot([html])
    assert "b.csv" in str(e.value)
    latin = tmp_path / "c.csv"
    latin.write_bytes(",".join(rows[0]).encode() + b"\r\nCaf\xe9,1/1/2020,,,,,,,,,,\r\n")
    with pytest.raises(SourceFormatError, match="not UTF-8"):
        read_cfr_snapshot([latin])


def test_generator_rewrites_the_committed_sample(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_cfr", REPO / "data" / "samples" / "generate_cyber_cfr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    assert (tmp_path / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()
    raw = SAMPLE.read_bytes()
    # CRLF after each record; the description of row 1 (and of its repeat) holds a bare LF, as CFR's do
    assert raw.count(b"\r\n") == len(records(SAMPLE)) and raw.count(b"\n") == len(records(SAMPLE)) + 2
