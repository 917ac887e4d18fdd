"""FIPS 10-4 in the crosswalk, checked against countrycode's code list and the real GDELT export files."""

from __future__ import annotations

import csv

import polars as pl
import pytest

from pipelines.lib.reference import FIPS_CODES_CSV, load_country_crosswalk, load_fips_codes
from tests.conftest import shared_path
from transforms.reference.countries import FIPS_SEPARATOR, FIPS_WITHOUT_COUNTRY, resolve_country_codes

pytestmark = pytest.mark.realdata

GDELT_FILES = ("20250104161500", "20250104163000", "20250104164500", "20250104170000")
GEO_COUNTRY_COLUMNS = {"Actor1Geo_CountryCode": 37, "Actor2Geo_CountryCode": 45, "ActionGeo_CountryCode": 53}

# Where countrycode's codelist_without_cldr.csv and our crosswalk part, and why (fips -> (codelist, ours)).
CODELIST_DIFFERENCES = {
    "KV": (None, "XKX"),  # codelist has Kosovo's FIPS code but no iso3c (XKX is user-assigned, not ISO)
}
# Entities whose codelist row has an iso3c but no FIPS code, where we have some (iso3 -> our fips_code):
# the states made after FIPS 10-4 froze (GeoNames' codes) and the US minor islands (fips_codes.csv).
CODELIST_LACKS_FIPS = {"CUW": "UC", "MAF": "RN", "SXM": "NN", "SSD": "OD", "UMI": "BQ;DQ;FQ;HQ;JQ;KQ;LQ;MQ;WQ"}


def ours() -> dict[str, str | None]:
    """Our FIPS -> iso3, including the codes that name no country (-> None)."""
    mapping = (
        load_country_crosswalk()
        .select(pl.col("fips_code").str.split(FIPS_SEPARATOR), "iso3")
        .explode("fips_code")
        .drop_nulls("fips_code")
    )
    table: dict[str, str | None] = dict(mapping.iter_rows())
    table.update(dict.fromkeys(FIPS_WITHOUT_COUNTRY))
    return table


def codelist_rows() -> list[dict[str, str]]:
    with shared_path("conflict_events", "reference", "codelist_without_cldr.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_fips_to_iso3_agrees_with_countrycode_except_the_documented_cases():
    rows = codelist_rows()
    theirs = {r["fips"]: (r["iso3c"] or None) for r in rows if r["fips"]}
    assert len(theirs) == sum(1 for r in rows if r["fips"]), "codelist repeats a FIPS code"
    mine = ours()
    differences = {
        code: (iso3, mine.get(code, "<absent>")) for code, iso3 in theirs.items() if mine.get(code, "<absent>") != iso3
    }
    assert differences == CODELIST_DIFFERENCES
    # Every code they give is one we know; ours add what they lack.
    assert set(theirs) <= set(mine)


def test_entities_without_a_codelist_fips_code_are_the_documented_ones():
    mine_by_iso3 = dict(load_country_crosswalk().select("iso3", "fips_code").drop_nulls().iter_rows())
    lacking = {
        r["iso3c"]: mine_by_iso3[r["iso3c"]]
        for r in codelist_rows()
        if r["iso3c"] and not r["fips"] and r["iso3c"] in mine_by_iso3
    }
    assert lacking == CODELIST_LACKS_FIPS


def test_the_hand_file_documents_every_code_without_a_country():
    with FIPS_CODES_CSV.open(encoding="utf-8") as f:
        hand = list(csv.DictReader(f))
    assert {r["fips_code"] for r in hand if not r["iso3"]} == FIPS_WITHOUT_COUNTRY
    assert all(r["note"].strip() and r["name"].strip() for r in hand)
    codes = load_fips_codes()
    assert codes["fips_code"].is_unique().all()
    assert codes.filter(pl.col("iso3").is_null())["fips_code"].sort().to_list() == sorted(FIPS_WITHOUT_COUNTRY)


def geo_country_codes() -> dict[str, set[str]]:
    """Every *Geo_CountryCode value of the four real export files, read with the csv module."""
    found: dict[str, set[str]] = {c: set() for c in GEO_COUNTRY_COLUMNS}
    for stamp in GDELT_FILES:
        path = shared_path("conflict_events", "gdelt", f"{stamp}.export.CSV")
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                assert len(row) == 61
                for column, index in GEO_COUNTRY_COLUMNS.items():
                    found[column].add(row[index])
    return found


def test_every_gdelt_geo_country_code_resolves_or_names_no_country():
    found = geo_country_codes()
    crosswalk = load_country_crosswalk()
    for column, codes in found.items():
        frame = pl.DataFrame({"code": sorted(codes)})
        resolved = resolve_country_codes(frame, "code", crosswalk, "fips")
        unresolved = set(resolved.filter(pl.col("iso3").is_null())["code"].to_list())
        # Empty = geo type 0 (no geography); the others must be documented as naming no country.
        assert unresolved - {""} <= FIPS_WITHOUT_COUNTRY, (column, sorted(unresolved))
    action = found["ActionGeo_CountryCode"]
    assert {"US", "UK", "IS", "NI", "GM", "RS", "UP", "CH", "GZ"} <= action
    spot = resolve_country_codes(
        pl.DataFrame({"code": ["US", "UK", "IS", "NI", "GM", "RS", "UP", "CH", "GZ", "WE"]}), "code", crosswalk, "fips"
    )
    assert spot["iso3"].to_list() == ["USA", "GBR", "ISR", "NGA", "DEU", "RUS", "UKR", "CHN", "PSE", "PSE"]
