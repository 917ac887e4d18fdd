"""EuRepoC and CFR parsers on the real files in ../shared/data/cyber_incidents (skipped when absent).

Expected values come from reading the files independently with the stdlib csv module.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from tests.conftest import dict_rows
from transforms.cyber_incidents import cfr, eurepoc
from transforms.cyber_incidents.schema import INCIDENT_TYPES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CYBER = SHARED / "cyber_incidents"
EUREPOC = CYBER / "eurepoc"
GLOBAL = EUREPOC / "EuRepoC_Global_Database_1.1.csv"
ATTRIBUTION = EUREPOC / "EuRepoC_Attribution_dataset_1.1.csv"
RECEIVER = EUREPOC / "EuRepoC_Receiver_dataset_1.1.csv"
CIT = EUREPOC / "cit_subtype_data_for_offline_use_31052024.csv"
CFR_A = CYBER / "cfr_cyber_operations" / "jenniblan_jsis480" / "cyber-operations-incidents.csv"
CFR_B = CYBER / "cfr_cyber_operations" / "justin-2028_kaggle" / "cyber-operations-incidents.csv"
TYPES = Path(__file__).resolve().parents[1] / "data" / "reference" / "cyber_types"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED.exists(), reason=f"real data not available: {SHARED}"),
]


def blank(value: str) -> str | None:
    return value.strip() or None


def type_map(source: str) -> dict[str, str]:
    return {r["raw_type"]: r["incident_type"] for r in dict_rows(TYPES / f"{source}.csv") if r["source"] == source}


@pytest.fixture(scope="module")
def reference():
    return load_country_aliases(), load_country_crosswalk()


@pytest.fixture(scope="module")
def eu(reference):
    return eurepoc.stage_eurepoc(eurepoc.read_eurepoc_snapshot([GLOBAL, ATTRIBUTION, RECEIVER, CIT]), *reference)


@pytest.fixture(scope="module")
def eu_alone():
    return eurepoc.read_eurepoc_snapshot([GLOBAL])


@pytest.fixture(scope="module")
def global_rows():
    return dict_rows(GLOBAL)


@pytest.fixture(scope="module", params=[CFR_A, CFR_B], ids=["jenniblan", "kaggle"])
def cfr_file(request, reference):
    return request.param, cfr.stage_cfr(cfr.read_cfr_snapshot([request.param]), *reference)


# ---------------------------------------------------------------- EuRepoC


def test_eurepoc_every_incident_is_kept_or_quarantined(eu, global_rows):
    ids = {r["ID"] for r in global_rows}
    assert len(global_rows) == len(ids) == 1643
    assert eu.incidents.height + eu.quarantine.filter(pl.col("source_file") == GLOBAL.name).height == len(ids)
    assert set(eu.incidents["source_incident_id"]) == ids
    assert eu.quarantine.is_empty()


def test_eurepoc_initiators_are_the_attribution_file(eu):
    expected = {
        (f"eurepoc:{r['incident_ID']}", blank(r["attributed_initiator_country"]), blank(r["attributed_initiator"]),
         (blank(r["attributed_initiator_category"]) or "").lower() or None, blank(r["attribution_basis"]))
        for r in dict_rows(ATTRIBUTION)
    }
    got = eu.initiators.select("incident_id", "country_raw", "actor", "actor_type", "attribution_basis").rows()
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected


def test_eurepoc_targets_are_the_receiver_file(eu):
    rows = dict_rows(RECEIVER)
    expected = {(f"eurepoc:{r['ID']}", blank(r["receiver_country"]), blank(r["receiver_category"])) for r in rows}
    got = eu.targets.select("incident_id", "country_raw", "sector").rows()
    assert len(got) == len(set(got)) == len(expected) < len(rows)
    assert set(got) == expected


def test_eurepoc_multi_receiver_incidents_explode_aligned(eu_alone, global_rows):
    """Global-only: each receiver is paired with its own inner category list, checked on every multi-receiver case."""
    checked = 0
    for r in global_rows:
        countries = ast.literal_eval(r["receiver_country"]) if r["receiver_country"] else []
        categories = ast.literal_eval(r["receiver_category"]) if r["receiver_category"] else []
        if len(countries) < 2 or len(countries) != len(categories):
            continue
        expected = sorted({(c, s) for c, inner in zip(countries, categories) for s in inner})
        got = sorted(eu_alone.targets.filter(pl.col("incident_id") == f"eurepoc:{r['ID']}")
                     .select("country_raw", "sector").rows())
        assert got == expected, r["ID"]
        checked += 1
    assert checked > 100


def test_eurepoc_global_only_targets_match_the_receiver_file(eu, eu_alone):
    full, alone = set(eu.targets.drop("iso3").rows()), set(eu_alone.targets.drop("iso3").rows())
    assert full <= alone
    # the only extra: receivers the Global file lists without a category (not in the Receiver file)
    assert all(sector is None for _, _, sector in alone - full)


def test_eurepoc_multi_attribution_incidents(eu):
    by_incident: dict[str, set] = {}
    for r in dict_rows(ATTRIBUTION):
        by_incident.setdefault(r["incident_ID"], set()).add(
            (blank(r["attributed_initiator_country"]), blank(r["attributed_initiator"]), blank(r["attribution_basis"])))
    many = sorted((i for i, s in by_incident.items() if len({c for c, _, _ in s}) >= 2), key=int)[:12]
    assert len(many) == 12
    for incident in many:
        got = set(eu.initiators.filter(pl.col("incident_id") == f"eurepoc:{incident}")
                  .select("country_raw", "actor", "attribution_basis").rows())
        assert got == by_incident[incident], incident


def test_eurepoc_partial_dates_stay_partial(eu, global_rows):
    precision = dict(zip(eu.incidents["source_incident_id"], eu.incidents["date_precision"]))
    starts = {r["ID"]: r["start_date"] for r in global_rows}
    texts = {r["ID"]: f"{r['name']} {r['description']}" for r in global_rows}
    jan1 = [i for i, s in starts.items() if s.endswith("-01-01")]
    assert len(jan1) == 412
    for i, s in starts.items():
        if not s:
            assert precision[i] is None
        elif not s.endswith("-01"):
            assert precision[i] == "day"
        elif s.endswith("-01-01") and not re.search(r"\bjan", texts[i], re.IGNORECASE):
            assert precision[i] == "year", i
        else:
            assert precision[i] in ("day", "month", "year")
    counts = Counter(precision.values())
    assert counts["year"] >= 400 and counts["month"] >= 500


def test_eurepoc_countries_resolve_or_are_expected_nulls(eu):
    for frame in (eu.initiators, eu.targets):
        unresolved = set(frame.filter(pl.col("iso3").is_null())["country_raw"].drop_nulls())
        assert {u for u in unresolved if not eurepoc.is_expected_null_country(u)} == set()
    assert eu.initiators.filter(pl.col("country_raw") == "Russia")["iso3"].unique().to_list() == ["RUS"]
    assert eu.initiators.filter(pl.col("country_raw") == "Unknown")["iso3"].null_count() > 500


def test_eurepoc_type_labels_are_all_mapped(eu):
    mapping = type_map("eurepoc")
    assert set(eu.incidents["incident_types_raw"].explode().drop_nulls()) == set(mapping)
    assert set(mapping.values()) <= set(INCIDENT_TYPES)


# ---------------------------------------------------------------- CFR


def cfr_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    assert all(len(r) == len(rows[0]) for r in rows)  # shifts in these copies are content shifts
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_cfr_every_record_is_kept_or_quarantined(cfr_file):
    path, t = cfr_file
    rows = cfr_records(path)
    assert len(rows) == t.incidents.height + t.quarantine.height == {CFR_A: 481, CFR_B: 768}[path]
    assert t.incidents["incident_id"].is_unique().all()


def test_cfr_quarantine_reasons(cfr_file):
    path, t = cfr_file
    rows = cfr_records(path)
    types, sectors = set(cfr.CFR_TYPES), set(cfr.CFR_SECTORS)
    shifted = [r for r in rows if r["Type"] not in types | {""} or r["Sponsor"] in types | sectors
               or any(p.strip() in types for p in r["Category"].split(","))]
    text = [c for c in rows[0] if not c.startswith("Sources")]
    garbled = [r for r in rows if r not in shifted and any("??" in r[c] for c in text)]
    seen, repeats = set(), 0
    for r in rows:
        key = tuple(r.values())
        repeats += key in seen
        seen.add(key)
    reasons = Counter(
        "shifted" if q.startswith("columns shifted") else "garbled" if q.startswith("garbled") else
        "duplicate" if q.startswith("duplicate") else q for q in t.quarantine["reason"]
    )
    expected = {"shifted": len(shifted), "garbled": len(garbled), "duplicate": repeats}
    assert reasons == Counter({k: v for k, v in expected.items() if v})
    assert {CFR_A: (0, 0, 2), CFR_B: (7, 166, 0)}[path] == (len(shifted), len(garbled), repeats)


def test_cfr_sponsors_split_and_resolve(cfr_file):
    path, t = cfr_file
    assert t.initiators.filter(pl.col("country_raw").is_not_null() & pl.col("iso3").is_null()).is_empty()
    palestine = t.initiators.filter(pl.col("country_raw").str.starts_with("Palestine"))
    assert palestine.height > 0
    assert set(palestine.select("country_raw", "iso3").rows()) == {("Palestine, State of", "PSE")}
    # multi-sponsor rows: as many initiators as names, counted independently on the raw field
    kept_titles = Counter(t.incidents["title"])
    for r in cfr_records(path):
        sponsor = r["Sponsor"]
        if ", " not in sponsor or kept_titles[r["Title"]] != 1 or "Palestine" in sponsor:
            continue
        ids = t.incidents.filter(pl.col("title") == r["Title"])["incident_id"]
        got = t.initiators.filter(pl.col("incident_id").is_in(ids.implode()))["country_raw"].to_list()
        assert got == sponsor.split(", "), r["Title"]


def test_cfr_dates_are_day_or_missing(cfr_file):
    path, t = cfr_file
    empty = sum(1 for r in cfr_records(path) if not r["Date"])
    assert t.incidents.filter(pl.col("start_date").is_null())["date_precision"].is_null().all()
    assert set(t.incidents["date_precision"].drop_nulls()) == {"day"}
    assert t.incidents["start_date"].null_count() <= empty
    assert t.incidents["start_date"].min().year == 2005


def test_cfr_targets_resolve(cfr_file):
    path, t = cfr_file
    assert t.targets.filter(pl.col("country_raw").is_not_null() & pl.col("iso3").is_null()).is_empty()
    with_country = t.targets.filter(pl.col("iso3").is_not_null())["incident_id"].n_unique()
    assert with_country > 0.5 * t.incidents.height
    assert set(t.targets["sector"].drop_nulls()) <= set(cfr.CFR_SECTORS)


def test_cfr_type_labels_are_all_mapped(cfr_file):
    _, t = cfr_file
    mapping = type_map("cfr")
    assert set(t.incidents["incident_types_raw"].explode().drop_nulls()) <= set(mapping)
    assert set(mapping.values()) <= set(INCIDENT_TYPES)


def test_cfr_quarantine_records_are_the_raw_rows(cfr_file):
    path, t = cfr_file
    rows = cfr_records(path)
    for record in t.quarantine["record"]:
        parsed = json.loads(record)
        number = parsed.pop("_row")
        assert parsed == rows[number - 1]
