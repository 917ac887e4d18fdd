"""The committed country reference files: rebuilt from their inputs as committed, and what they hold."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.lib.reference import (
    ALIASES_CSV,
    COUNTRIES_CSV,
    load_country_crosswalk,
    read_coco_table,
    rebuild_country_crosswalk,
)
from transforms.reference.countries import CROSSWALK_SCHEMA, resolve_country_names


def test_committed_countries_csv_is_what_rebuild_writes(tmp_path):
    rebuilt = rebuild_country_crosswalk(tmp_path / "countries.csv")
    assert rebuilt.read_bytes() == COUNTRIES_CSV.read_bytes(), "run `python -m pipelines.lib.reference` and commit it"


def test_committed_crosswalk_keys_and_codes(crosswalk):
    assert crosswalk.columns == list(CROSSWALK_SCHEMA.names())
    assert crosswalk["iso3"].is_unique().all()
    numeric = crosswalk["iso_numeric"].drop_nulls()
    assert numeric.str.contains(r"^\d{3}$").all() and numeric.is_unique().all()
    assert crosswalk.filter(~pl.col("is_historical"))["iso2"].drop_nulls().is_unique().all()
    assert crosswalk.filter(pl.col("valid_from") > pl.col("valid_until")).height == 0
    assert (crosswalk["is_historical"] == crosswalk["valid_until"].is_not_null()).all()


def test_thirty_two_nato_allies(crosswalk):
    allies = dict(crosswalk.select("iso3", "nato_member_since").drop_nulls().iter_rows())
    assert len(allies) == 32
    expected = {"USA": 1949, "ISL": 1949, "TUR": 1952, "DEU": 1955, "ESP": 1982, "POL": 1999,
                "EST": 2004, "HRV": 2009, "MNE": 2017, "MKD": 2020, "FIN": 2023, "SWE": 2024}
    assert {k: allies[k] for k in expected} == expected


def test_eu_members_agree_with_coco_plus_the_uk(crosswalk):
    eu = crosswalk.filter(pl.col("eu_member_since").is_not_null())
    current = set(eu.filter(pl.col("eu_member_until").is_null())["iso3"])
    coco = read_coco_table()
    # coco's EU column says who is a member but holds no years: the years are hand-typed, the set must agree.
    assert current == set(coco.filter(pl.col("EU").is_not_null())["ISO3"])
    assert len(current) == 27
    left = eu.filter(pl.col("eu_member_until").is_not_null()).select("iso3", "eu_member_since", "eu_member_until")
    assert left.rows() == [("GBR", 1973, 2020)]
    assert dict(eu.select("iso3", "eu_member_since").iter_rows())["HRV"] == 2013


def test_historical_and_new_states_carry_their_years(crosswalk):
    years = {i: (f, u) for i, f, u in crosswalk.select("iso3", "valid_from", "valid_until").iter_rows()}
    assert years["SUN"][1] == 1991 and years["XKX"] == (2008, None) and years["SSD"] == (2011, None)
    assert years["DDR"] == (1949, 1990) and years["CSK"][1] == 1992 and years["YUG"][1] == 1992
    assert years["SCG"] == (1992, 2006)
    historical = set(crosswalk.filter(pl.col("is_historical"))["iso3"])
    assert historical == {"CSK", "DDR", "RVN", "SCG", "SUN", "YAR", "YMD", "YUG"}
    assert crosswalk.filter(pl.col("iso3") == "CHI")["is_historical"].to_list() == [False]


def test_every_entity_name_and_hand_alias_resolves_to_itself(crosswalk, aliases):
    own = crosswalk.select(pl.col("name").alias("n"), pl.col("iso3").alias("expected"))
    assert resolve_country_names(own, "n", aliases, crosswalk).filter(pl.col("iso3") != pl.col("expected")).height == 0
    # ... and inside its own validity years, the year rule keeps it.
    dated = crosswalk.select(pl.col("name").alias("n"), pl.col("iso3").alias("expected"),
                             pl.coalesce("valid_until", "valid_from", pl.lit(2000)).alias("year"))
    moved = resolve_country_names(dated, "n", aliases, crosswalk, year_col="year")
    moved = moved.filter(pl.col("iso3").ne_missing(pl.col("expected")))
    assert moved.height == 0, moved
    typed = pl.read_csv(ALIASES_CSV, infer_schema=False).rename({"alias": "n", "iso3": "expected"})
    wrong = resolve_country_names(typed, "n", aliases, crosswalk).filter(pl.col("iso3").ne_missing(pl.col("expected")))
    assert wrong.height == 0, wrong


@pytest.mark.parametrize(
    ("name", "year", "iso3"),
    [
        ("Germany", 1980, "DEU"), ("Germany", 2000, "DEU"), ("German DR", 1980, "DDR"),
        ("Yugoslavia", 1980, "YUG"), ("Yugoslavia", 1999, "SCG"),
        ("Serbia", 2000, "SCG"),  # SIPRI: Serbia's figures up to 2005 are for Serbia and Montenegro
        ("Serbia", 2006, "SRB"), ("Serbia", 1985, None),
        ("Serbia (Yugoslavia)", 1992, "YUG"),  # a transition year belongs to the outgoing state
        ("Russia (Soviet Union)", 1991, "SUN"), ("Russia (Soviet Union)", 1992, "RUS"),
        ("Czechoslovakia", 1995, None), ("Czech Republic", 1990, None), ("Czech Republic", 1993, "CZE"),
        ("Yemen, North", 1980, "YAR"), ("South Sudan", 2010, None), ("South Sudan", 2011, "SSD"),
    ],
)
def test_validity_aware_resolution_on_committed_data(crosswalk, aliases, name, year, iso3):
    df = pl.DataFrame({"n": [name], "y": [year]})
    assert resolve_country_names(df, "n", aliases, crosswalk, year_col="y")["iso3"].to_list() == [iso3]


def test_loads_are_cached_and_typed(crosswalk):
    assert load_country_crosswalk() is load_country_crosswalk()
    afg = crosswalk.filter(pl.col("iso3") == "AFG").row(0, named=True)
    assert afg["iso_numeric"] == "004" and afg["gw_code"] == 700
    assert crosswalk.filter(pl.col("iso3") == "NAM")["iso2"].to_list() == ["NA"]  # Namibia, not a missing value
