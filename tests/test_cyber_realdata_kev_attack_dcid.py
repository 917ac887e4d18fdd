"""The real CISA KEV, MITRE ATT&CK and DCID files in ../shared/data stage as SOURCES.md describes them."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.lib.config import REFERENCE_DIR
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.cyber_incidents.cisa_kev import read_kev_csv, read_kev_json
from transforms.cyber_incidents.dcid import read_dcid_xlsx
from transforms.cyber_incidents.mitre_attack import attribute_attack_groups, read_attack_bundles
from transforms.cyber_incidents.schema import INCIDENT_TYPES
from transforms.reference.countries import resolve_country_codes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CYBER = SHARED / "cyber_incidents"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED.exists(), reason=f"real data not available: {SHARED}"),
]
DCID_FILE = CYBER / "dcid" / "DCID_2.0_Release_update_February_2023.xlsx"
# DCID's informal state names (StateA/StateB, trimmed), as we read them: an independent check of the COW codes.
DCID_NAMES = {
    "US": "USA", "Canada": "CAN", "UK": "GBR", "France": "FRA", "Germany": "DEU", "Poland": "POL", "Russia": "RUS",
    "Estonia": "EST", "Lithuania": "LTU", "Ukraine": "UKR", "Georgia": "GEO", "Turkey": "TUR", "Iran": "IRN",
    "Iraq": "IRQ", "Syria": "SYR", "Lebanon": "LBN", "Israel": "ISR", "Saudi Arabia": "SAU", "Bahrain": "BHR",
    "Afghanistan": "AFG", "Pakistan": "PAK", "India": "IND", "China": "CHN", "Taiwan": "TWN", "N Korea": "PRK",
    "S Korea": "KOR", "Japan": "JPN", "Vietnam": "VNM", "Singapore": "SGP", "Philippines": "PHL", "Australia": "AUS",
}


# --- CISA KEV ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kev() -> pl.DataFrame:
    return read_kev_json(CYBER / "cisa_kev" / "known_exploited_vulnerabilities.json", "known_exploited_vulnerabilities.json")


def test_kev_json(kev):
    assert kev.height == 1404 and kev["cve_id"].is_unique().all()
    assert kev["catalog_version"].unique().to_list() == ["2025.08.25"]
    assert dict(kev["known_ransomware_campaign_use"].value_counts().iter_rows()) == {"Known": 293, "Unknown": 1111}
    assert (kev["cwes"].list.len() == 0).sum() == 152
    assert (kev["date_added"].min().isoformat(), kev["date_added"].max().isoformat()) == ("2021-11-03", "2025-08-25")


def test_kev_csv_matches_json(kev):
    csv = read_kev_csv(CYBER / "cisa_kev" / "known_exploited_vulnerabilities.csv", "known_exploited_vulnerabilities.csv",
                       "2025.08.25", kev["date_released"][0])
    assert csv.drop("source_file").equals(kev.drop("source_file"))


# --- MITRE ATT&CK --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundles() -> list[tuple[str, bytes]]:
    root = CYBER / "mitre_attack"
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.glob("*-attack/intrusion-set/*.json"))]


@pytest.fixture(scope="module")
def groups(bundles) -> pl.DataFrame:
    return read_attack_bundles(bundles)


def test_attack_files_and_dedup(bundles, groups):
    per_folder = {d: sum(name.startswith(d + "/") for name, _ in bundles) for d in ("enterprise-attack", "mobile-attack", "ics-attack")}
    assert per_folder == {"enterprise-attack": 187, "mobile-attack": 17, "ics-attack": 16}
    assert groups.height == 191 and groups["attack_id"].is_unique().all()
    assert (groups["domains"].list.len() > 1).sum() == 28
    assert dict(groups.explode("domains")["domains"].value_counts().iter_rows()) == {
        "enterprise-attack": 187, "mobile-attack": 17, "ics-attack": 16}
    assert (groups["revoked"].sum(), groups["deprecated"].sum()) == (6, 9)  # 8 revoked files: 2 in two domains
    assert groups.filter(pl.col("revoked"))["description"].null_count() == 2


def test_attribution_precision_and_recall_on_the_labelled_set(groups):
    rules = pl.read_csv(REFERENCE_DIR / "attack_attribution_rules.csv", infer_schema=False)
    labels = pl.read_csv(REFERENCE_DIR / "attack_attribution_labels.csv", infer_schema=False)
    assert labels.height >= 60 and labels["attack_id"].is_unique().all()
    assert set(labels["attack_id"]) <= set(groups["attack_id"])
    out = attribute_attack_groups(groups, rules, load_country_aliases(), load_country_crosswalk())
    scored = labels.join(out.select("attack_id", "attributed_iso3"), on="attack_id")
    predicted = scored.filter(pl.col("attributed_iso3").is_not_null())
    correct = predicted.filter(pl.col("attributed_iso3") == pl.col("expected_iso3")).height
    stated = scored.filter(pl.col("expected_iso3").is_not_null()).height
    precision, recall = correct / predicted.height, correct / stated
    wrong = predicted.filter(~pl.col("attributed_iso3").eq_missing(pl.col("expected_iso3")))
    print(f"attribution on {labels.height} labelled groups ({stated} with a stated country): "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.9, wrong.to_dicts()
    assert recall >= 0.8


# --- DCID ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dcid(crosswalk):
    return read_dcid_xlsx(DCID_FILE, DCID_FILE.name, crosswalk)


@pytest.fixture(scope="module")
def raw_rows() -> list[dict]:
    book = openpyxl.load_workbook(DCID_FILE, read_only=True, data_only=True)
    lines = book.worksheets[0].iter_rows(values_only=True)
    header = [str(h).strip() for h in next(lines)]
    rows = [dict(zip(header, line)) for line in lines if any(v is not None for v in line)]
    book.close()
    return rows


def test_dcid_counts(dcid, raw_rows):
    assert len(raw_rows) == 429
    assert dcid.incidents.height == 423 and dcid.quarantine.height == 6
    assert sorted(dcid.quarantine["source_incident_id"].to_list(), key=int) == ["236", "237", "291", "292", "309", "331"]
    assert dcid.incidents["incident_id"].is_unique().all()
    assert dcid.initiators.height == dcid.targets.height == 423


def test_every_cow_code_in_the_file_resolves(raw_rows, crosswalk):
    # DCID covers 2000-2021: states gone before then are not candidates (2652 is US-Syria, not GDR 265 + US 2).
    live = crosswalk.filter(pl.col("valid_until").is_null() | (pl.col("valid_until") >= 2000))
    cow = {str(c) for c in live["cow_code"].drop_nulls().to_list()}
    codes = {str(r["initiator"]) for r in raw_rows}
    for r in raw_rows:
        pair = str(r["Dyadpair"])
        splits = [(pair[:i], pair[i:]) for i in range(1, len(pair)) if pair[i] != "0" and {pair[:i], pair[i:]} <= cow]
        assert len(splits) == 1, (pair, splits)
        codes |= set(splits[0])
    frame = pl.DataFrame({"code": sorted(codes), "year": [2015] * len(codes)})
    resolved = resolve_country_codes(frame, "code", crosswalk, "cow_code", year_col="year")
    assert resolved.filter(pl.col("iso3").is_null()).height == 0, resolved.filter(pl.col("iso3").is_null())
    known = dict(resolved.select("code", "iso3").iter_rows())
    assert {c: known[c] for c in ("2", "365", "710", "630", "731", "255")} == {
        "2": "USA", "365": "RUS", "710": "CHN", "630": "IRN", "731": "PRK", "255": "DEU"}


def test_dcid_states_match_the_dyad_names(dcid, raw_rows):
    named = {f"dcid:{r['Cyberincidentnum']}": {DCID_NAMES[r["StateA"].strip()], DCID_NAMES[r["StateB"].strip()]}
             for r in raw_rows}
    sides = dcid.initiators.join(dcid.targets, on="incident_id", suffix="_target")
    for incident, initiator, target in sides.select("incident_id", "iso3", "iso3_target").iter_rows():
        assert {initiator, target} == named[incident], incident


def test_dcid_type_map_covers_the_file(dcid):
    types = pl.read_csv(REFERENCE_DIR / "cyber_types" / "dcid.csv", infer_schema=False)
    seen = set(dcid.incidents["incident_types_raw"].explode().to_list())
    assert seen == set(types["raw_type"])  # full coverage, and nothing mapped that the file never uses
    assert set(types["incident_type"]) <= set(INCIDENT_TYPES)


def test_dcid_dates(dcid):
    inc = dcid.incidents
    assert inc["start_date"].min().isoformat() == "2000-09-01"
    assert inc.filter(pl.col("end_date") < pl.col("start_date")).height == 0
    assert (inc["date_precision"] == "month").sum() == inc.filter(pl.col("start_date").dt.day() == 1).height
