"""EuRepoC parser and staging on the bundled synthetic sample and on broken copies of it."""

from __future__ import annotations

import csv
import importlib.util
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from tests.conftest import dict_rows
from transforms.cyber_incidents.eurepoc import (
    EXPECTED_NULL_COUNTRY_LABELS,
    QUARANTINE_SCHEMA,
    date_precision,
    is_expected_null_country,
    read_eurepoc_snapshot,
    stage_eurepoc,
)
from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INCIDENT_TYPES, INITIATOR_SCHEMA, TARGET_SCHEMA
from transforms.errors import SourceFormatError

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples" / "eurepoc"
GLOBAL = SAMPLES / "EuRepoC_Global_Database_1.1.csv"
ATTRIBUTION = SAMPLES / "EuRepoC_Attribution_dataset_1.1.csv"
RECEIVER = SAMPLES / "EuRepoC_Receiver_dataset_1.1.csv"
TYPES_CSV = REPO / "data" / "reference" / "cyber_types" / "eurepoc.csv"


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([[r.get(h, "") for h in header] for r in rows])
    return path


@pytest.fixture(scope="module")
def tables():
    return read_eurepoc_snapshot([GLOBAL, ATTRIBUTION, RECEIVER])


@pytest.fixture(scope="module")
def staged(tables):
    return stage_eurepoc(tables, load_country_aliases(), load_country_crosswalk())


def rows_of(frame: pl.DataFrame, incident: str) -> list[dict]:
    return frame.filter(pl.col("incident_id") == f"eurepoc:{incident}").to_dicts()


def test_shapes_are_the_conformed_schema(tables, staged):
    for t in (tables, staged):
        assert t.incidents.schema == INCIDENT_SCHEMA
        assert t.initiators.schema == INITIATOR_SCHEMA
        assert t.targets.schema == TARGET_SCHEMA
        assert t.quarantine.schema == QUARANTINE_SCHEMA


def test_every_global_row_is_an_incident_or_quarantined(tables):
    ids = [r["ID"] for r in dict_rows(GLOBAL)]
    kept = set(tables.incidents["source_incident_id"])
    global_rejects = tables.quarantine.filter(pl.col("source_file") == GLOBAL.name)
    rejected = {json.loads(r)["ID"] for r in global_rejects["record"]}
    assert len(ids) == tables.incidents.height + global_rejects.height
    assert kept | rejected == set(ids) and not kept & rejected
    assert all(i == f"eurepoc:{s}" for i, s in tables.incidents.select("incident_id", "source_incident_id").iter_rows())


def test_unreadable_date_quarantines_the_incident_and_its_rows(tables):
    bad = [r["ID"] for r in dict_rows(GLOBAL) if r["start_date"] == "2021-02-30"]
    assert bad == ["113"]
    assert "eurepoc:113" not in tables.incidents["incident_id"].to_list()
    reasons = dict(zip(tables.quarantine["source_file"], tables.quarantine["reason"]))
    assert reasons[GLOBAL.name].startswith("unreadable date '2021-02-30'")
    assert reasons[ATTRIBUTION.name] == reasons[RECEIVER.name] == "belongs to a quarantined incident"
    assert not rows_of(tables.initiators, "113") and not rows_of(tables.targets, "113")


@pytest.mark.parametrize(
    ("day", "text", "expected"),
    [
        (date(2001, 1, 1), "Defacements during the year", "year"),
        (date(2019, 3, 1), "in March 2019", "month"),
        (date(2023, 1, 1), "deployed in January 2023", "month"),
        (date(2023, 1, 1), "deployed in January 2022", "year"),  # another year's January says nothing
        (date(2022, 1, 1), "a defacement on 1 January 2022", "day"),
        (date(2021, 3, 1), "began on March 1, 2021", "day"),
        (date(2021, 3, 1), "began on 1 March 2020", "month"),
        (date(2020, 5, 14), "", "day"),
        (None, "anything", None),
    ],
)
def test_date_precision_rule(day, text, expected):
    assert date_precision(day, text) == expected


def test_partial_dates_stay_partial_in_the_sample(tables):
    got = {r["source_incident_id"]: (r["start_date"], r["date_precision"], r["end_date_precision"])
           for r in tables.incidents.to_dicts()}
    assert got["101"] == (date(2001, 1, 1), "year", "year")
    assert got["103"] == (date(2019, 3, 1), "month", "day")
    assert got["108"][1] == "day"  # the description names 1 January 2022
    assert got["109"][1:] == ("month", "month")
    assert got["111"] == (None, None, None)
    assert got["116"][2] == "year"  # end 2013-01-01


def test_incident_types_split_and_every_label_is_mapped(tables):
    raw = {r["ID"]: r["incident_type"] for r in dict_rows(GLOBAL)}
    for incident, types in tables.incidents.select("source_incident_id", "incident_types_raw").iter_rows():
        assert types == raw[incident].split("; ")
    mapping = {r["raw_type"]: r["incident_type"] for r in dict_rows(TYPES_CSV)}
    assert set(tables.incidents["incident_types_raw"].explode().drop_nulls()) <= set(mapping)
    assert set(mapping.values()) <= set(INCIDENT_TYPES)
    assert {r["source"] for r in dict_rows(TYPES_CSV)} == {"eurepoc"}


def blank(value: str) -> str | None:
    return value.strip() or None


def test_initiators_are_the_attribution_rows_without_repeats(tables):
    expected = []
    for r in dict_rows(ATTRIBUTION):
        if r["incident_ID"] == "113":
            continue
        row = (f"eurepoc:{r['incident_ID']}", blank(r["attributed_initiator_country"]), blank(r["attributed_initiator"]),
               (blank(r["attributed_initiator_category"]) or "").lower() or None, blank(r["attribution_basis"]))
        if row not in expected:
            expected.append(row)
    got = tables.initiators.select("incident_id", "country_raw", "actor", "actor_type", "attribution_basis").rows()
    assert got == expected
    assert len(rows_of(tables.initiators, "105")) == 1  # two identical attributions
    assert len(rows_of(tables.initiators, "116")) == 2  # same country, two bases


def test_unknown_and_not_available_stay_different(staged):
    assert [(r["country_raw"], r["iso3"]) for r in rows_of(staged.initiators, "101")] == [("Not available", None)]
    assert [(r["country_raw"], r["iso3"]) for r in rows_of(staged.initiators, "102")] == [("Unknown", None)]
    assert {"Unknown", "Not available"} <= EXPECTED_NULL_COUNTRY_LABELS


def test_targets_are_the_receiver_rows_without_repeats(tables):
    expected = []
    for r in dict_rows(RECEIVER):
        row = (f"eurepoc:{r['ID']}", blank(r["receiver_country"]), blank(r["receiver_category"]))
        if r["ID"] != "113" and row not in expected:
            expected.append(row)
    assert tables.targets.select("incident_id", "country_raw", "sector").rows() == expected
    assert len(dict_rows(RECEIVER)) - 1 > len(expected)  # the sample repeats a row verbatim


def test_global_only_gives_the_same_targets(tables):
    alone = read_eurepoc_snapshot([GLOBAL])
    assert alone.incidents.equals(tables.incidents)
    assert sorted(alone.targets.rows()) == sorted(tables.targets.rows())
    # one receiver with three category lists is paired with each
    assert [r["sector"] for r in rows_of(alone.targets, "110")] == [
        "State institutions / political system", "Science", "Media"]


def test_global_only_initiators_pair_lists_by_position(tables):
    alone = read_eurepoc_snapshot([GLOBAL])
    rows = rows_of(alone.initiators, "112")
    # two countries, three names (cannot be paired: no actor), one category (given to both)
    assert [(r["country_raw"], r["actor"], r["actor_type"]) for r in rows] == [
        ("Iran, Islamic Republic of", None, "state"), ("Lebanon", None, "state")]
    rows = rows_of(alone.initiators, "116")
    assert len(rows) == 1 and rows[0]["attribution_basis"] == (
        "Attribution by receiver government / state entity; IT-security community attributes attacker")
    assert rows_of(alone.initiators, "120") == []


def test_staging_resolves_countries_and_leaves_non_states_null(staged):
    iso = {(r["incident_id"], r["country_raw"]): r["iso3"] for r in staged.initiators.to_dicts()}
    assert iso[("eurepoc:104", "Korea, Democratic People's Republic of")] == "PRK"
    assert iso[("eurepoc:112", "Iran, Islamic Republic of")] == "IRN"
    assert iso[("eurepoc:103", "Russia")] == "RUS"
    assert iso[("eurepoc:115", "ISIS")] is None
    targets = {(r["incident_id"], r["country_raw"]): r["iso3"] for r in staged.targets.to_dicts()}
    assert targets[("eurepoc:114", "Palestine")] == "PSE"
    assert targets[("eurepoc:107", "Europe (region)")] is None
    for frame in (staged.initiators, staged.targets):
        unresolved = frame.filter(pl.col("iso3").is_null() & pl.col("country_raw").is_not_null())["country_raw"]
        assert all(is_expected_null_country(label) for label in unresolved)


def test_expected_null_labels():
    assert is_expected_null_country("Asia (region)") and is_expected_null_country("Some New Place (region)")
    assert not is_expected_null_country("Russia") and not is_expected_null_country(None)


def test_staging_is_year_aware(tmp_path):
    rows = dict_rows(GLOBAL)[:2]
    for row, start in zip(rows, ("2003-05-05", "2010-05-05")):
        row.update(start_date=start, end_date="", receiver_country="['Serbia']", receiver_category="[['Media']]")
    path = write_rows(tmp_path / GLOBAL.name, rows)
    staged = stage_eurepoc(read_eurepoc_snapshot([path]), load_country_aliases(), load_country_crosswalk())
    assert staged.targets["iso3"].to_list() == ["SCG", "SRB"]


@pytest.mark.parametrize(
    ("column", "value", "nested"),
    [("receiver_country", "['Estonia'", False), ("initiator_country", "[print('x')]", False),
     ("receiver_category", "['Media']", True), ("initiator_name", "'Grey Lynx'", False)],
)
def test_malformed_literal_names_incident_and_column(tmp_path, column, value, nested):
    rows = dict_rows(GLOBAL)
    rows[1][column] = value
    path = write_rows(tmp_path / GLOBAL.name, rows)
    with pytest.raises(SourceFormatError) as e:
        read_eurepoc_snapshot([path])
    assert "incident 102" in str(e.value) and column in str(e.value) and GLOBAL.name in str(e.value)


def test_missing_column_and_unknown_files_fail(tmp_path):
    rows = dict_rows(GLOBAL)
    header = [h for h in rows[0] if h != "incident_type"]
    path = write_rows(tmp_path / GLOBAL.name, rows, header)
    with pytest.raises(SourceFormatError, match="lacks column 'incident_type'"):
        read_eurepoc_snapshot([path])
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="not a EuRepoC"):
        read_eurepoc_snapshot([GLOBAL, other])
    with pytest.raises(SourceFormatError, match="no EuRepoC Global"):
        read_eurepoc_snapshot([ATTRIBUTION])
    html = tmp_path / "page.csv"
    html.write_text("<html>login</html>", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="HTML"):
        read_eurepoc_snapshot([html])


def test_cit_extract_is_skipped(tmp_path):
    cit = tmp_path / "cit_subtype_data_for_offline_use.csv"
    cit.write_text("id,receiver_subcategory,ci_subtype,receiver_country,region_name\n8,Energy,Oil,Germany,EU\n")
    assert read_eurepoc_snapshot([GLOBAL, cit]).incidents.equals(read_eurepoc_snapshot([GLOBAL]).incidents)


def test_row_level_problems_are_quarantined(tmp_path):
    rows = dict_rows(GLOBAL)
    repeat, conflicting = dict(rows[0]), dict(rows[1])
    conflicting["name"] = "Another name"
    bad_id = dict(rows[2], ID="12a")
    path = write_rows(tmp_path / GLOBAL.name, rows + [repeat, conflicting, bad_id])
    with path.open("a", encoding="utf-8") as f:
        f.write("999,too,few,fields\n")
    attributions = dict_rows(ATTRIBUTION) + [dict(dict_rows(ATTRIBUTION)[0], incident_ID="999999")]
    a_path = write_rows(tmp_path / ATTRIBUTION.name, attributions)
    t = read_eurepoc_snapshot([path, a_path])
    reasons = sorted(t.quarantine["reason"])
    assert reasons.count("duplicate of an earlier row with the same ID") == 1
    assert reasons.count("ID repeated with different content") == 2
    assert "ID is not a whole number" in reasons
    assert f"expected {len(rows[0])} fields, found 4" in reasons
    assert "no incident with this ID in the Global file" in reasons
    assert "eurepoc:101" in t.incidents["incident_id"].to_list()
    assert "eurepoc:102" not in t.incidents["incident_id"].to_list()
    records = [json.loads(r) for r in t.quarantine["record"]]
    assert all("_row" in r for r in records)
    assert len(rows) + 4 == t.incidents.height + t.quarantine.filter(pl.col("source_file") == GLOBAL.name).height


def test_generator_rewrites_the_committed_sample(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_eurepoc", REPO / "data" / "samples" / "generate_cyber_eurepoc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for path in (GLOBAL, ATTRIBUTION, RECEIVER):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes()
    assert b"\r\n" not in GLOBAL.read_bytes()  # EuRepoC writes LF line ends
