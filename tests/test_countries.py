"""The country crosswalk: building it, the alias table, name and code resolution, and the committed file."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.reference.countries import (
    CROSSWALK_SCHEMA,
    normalize_country_name,
    resolve_country_codes,
    resolve_country_names,
    unmapped_country_names,
)
from transforms.reference.country_crosswalk import build_country_alias_table, build_country_crosswalk

S = pl.String


def frame(rows: list[dict], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c: S for c in columns})


def table(columns: list[str], *rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c: S for c in columns}, orient="row")


COCO_COLS = ["name_short", "name_official", "regex", "ISO2", "ISO3", "ISOnumeric", "GWcode", "UNregion", "continent"]
ISO_COLS = ["iso3", "iso2", "iso_numeric", "name", "official_name", "common_name"]
EXTRA_COLS = [
    "iso3", "name", "iso2", "iso_numeric", "gw_code", "region", "continent", "valid_from", "valid_until", "regex"
]


@pytest.fixture
def inputs() -> dict[str, pl.DataFrame]:
    """Tiny stand-ins for coco's TSV, pycountry, and the two hand files."""
    coco = table(
        COCO_COLS,
        ("United Kingdom", "United Kingdom of GB", "united.?kingdom|^uk$", "^GB$|^UK$", "GBR", "826", "200",
         "Northern Europe", "Europe"),
        ("Afghanistan", "Islamic Republic of Afghanistan", "afghan", "AF", "AFG", "4", "700", "Southern Asia", "Asia"),
        ("Kosovo", "Republic of Kosovo", "kosovo", "XK", "XKX", "412", "347", "Southern Europe", "Europe"),
        ("Yemen", "Republic of Yemen", "yemen", "YE", "YEM", "887", "680", "Western Asia", "Asia"),
    )
    iso = table(
        ISO_COLS,
        ("GBR", "GB", "826", "United Kingdom", None, None),
        ("AFG", "AF", "004", "Afghanistan", None, None),
        ("YEM", "YE", "887", "Yemen", None, None),
        ("DDR", "DD", "278", "German Democratic Republic", None, None),
        ("BUR", "BU", "104", "Burma", None, None),
    ).with_columns(pl.Series("is_withdrawn", [False, False, False, True, True]))
    extra = frame(
        [
            {"iso3": "DDR", "region": "Western Europe", "continent": "Europe", "gw_code": "265",
             "valid_from": "1949", "valid_until": "1990"},
            {"iso3": "XKX", "valid_from": "2008"},
            {"iso3": "YEM", "gw_code": "678", "valid_from": "1990"},
            {"iso3": "YAR", "name": "North Yemen", "gw_code": "678", "valid_until": "1990", "regex": "north.*yemen"},
        ],
        EXTRA_COLS,
    )
    memberships = frame(
        [{"iso3": "GBR", "nato_member_since": "1949", "eu_member_since": "1973", "eu_member_until": "2020"}],
        ["iso3", "nato_member_since", "eu_member_since", "eu_member_until"],
    )
    return {"coco": coco, "iso": iso, "extra_entities": extra, "memberships": memberships}


@pytest.fixture
def small(inputs) -> pl.DataFrame:
    return build_country_crosswalk(**inputs)


def row(crosswalk: pl.DataFrame, iso3: str) -> dict:
    return crosswalk.filter(pl.col("iso3") == iso3).to_dicts()[0]


# --- normalize_country_name -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Côte d’Ivoire", "cote d'ivoire"),  # curly apostrophe and diacritic
        ("Czechia*", "czechia"),  # NATO's 2% footnote star
        ("Libya‡¶ 2", "libya"),  # SIPRI symbols glued to a numbered footnote
        ("Serbia79", "serbia"),
        ("  Korea,\u00a0  South ", "korea, south"),  # NBSP and runs of spaces
        ("TÜRKİYE", "turkiye"),  # dotted capital I casefolds to i + combining dot
        ('United Kingdom"', "united kingdom"),  # stray quote left by a broken CSV export
    ],
)
def test_normalize_country_name(raw, key):
    assert normalize_country_name(raw) == key


def test_normalize_keeps_inner_punctuation_that_tells_names_apart():
    assert normalize_country_name("Congo, Dem. Rep.") != normalize_country_name("Congo, Rep.")
    assert normalize_country_name("Guinea-Bissau") == "guinea-bissau"


# --- build_country_crosswalk ------------------------------------------------------------------

def test_crosswalk_columns_types_and_order(small):
    assert small.schema == CROSSWALK_SCHEMA
    assert small["iso3"].to_list() == sorted(small["iso3"].to_list())


def test_crosswalk_takes_current_iso_plus_only_the_listed_withdrawn_codes(small):
    # BUR is withdrawn and not asked for; DDR is withdrawn and listed; YAR exists only in the hand file.
    assert set(small["iso3"]) == {"AFG", "DDR", "GBR", "XKX", "YAR", "YEM"}


def test_crosswalk_enriches_from_coco_and_lets_the_hand_file_override(small):
    afg = row(small, "AFG")
    assert (afg["gw_code"], afg["region"], afg["continent"], afg["regex"]) == (700, "Southern Asia", "Asia", "afghan")
    assert row(small, "YEM")["gw_code"] == 678  # hand value beats coco's 680
    gbr = row(small, "GBR")
    assert gbr["iso2"] == "GB"  # coco's '^GB$|^UK$' regex never leaks into iso2
    kosovo = row(small, "XKX")
    assert (kosovo["iso2"], kosovo["iso_numeric"], kosovo["valid_from"]) == ("XK", "412", 2008)


def test_crosswalk_pads_numeric_codes_and_fills_hand_only_entities(inputs):
    inputs["iso"] = inputs["iso"].filter(pl.col("iso3") != "AFG")
    inputs["extra_entities"] = pl.concat([inputs["extra_entities"], frame([{"iso3": "AFG"}], EXTRA_COLS)])
    crosswalk = build_country_crosswalk(**inputs)
    assert row(crosswalk, "AFG")["iso_numeric"] == "004"  # from coco's unpadded '4'
    yar = row(crosswalk, "YAR")
    assert (yar["name"], yar["iso2"], yar["gw_code"], yar["is_historical"]) == ("North Yemen", None, 678, True)


def test_crosswalk_memberships_and_historical_flag(small):
    gbr = row(small, "GBR")
    assert (gbr["nato_member_since"], gbr["eu_member_since"], gbr["eu_member_until"]) == (1949, 1973, 2020)
    assert row(small, "AFG")["nato_member_since"] is None
    assert small.filter(pl.col("is_historical"))["iso3"].sort().to_list() == ["DDR", "YAR"]


def test_crosswalk_rejects_membership_of_unknown_entity(inputs):
    stray = frame([{"iso3": "ZZZ", "nato_member_since": "1949"}], inputs["memberships"].columns)
    inputs["memberships"] = pl.concat([inputs["memberships"], stray])
    with pytest.raises(ValueError, match="ZZZ"):
        build_country_crosswalk(**inputs)


def test_crosswalk_rejects_hand_entity_without_a_name(inputs):
    nameless = frame([{"iso3": "QQQ", "valid_until": "1990"}], EXTRA_COLS)
    inputs["extra_entities"] = pl.concat([inputs["extra_entities"], nameless])
    with pytest.raises(ValueError, match="QQQ"):
        build_country_crosswalk(**inputs)


def test_crosswalk_rejects_a_mistyped_year(inputs):
    inputs["extra_entities"] = inputs["extra_entities"].with_columns(
        pl.when(pl.col("iso3") == "XKX").then(pl.lit("20O8")).otherwise("valid_from").alias("valid_from")
    )
    with pytest.raises(pl.exceptions.InvalidOperationError):
        build_country_crosswalk(**inputs)


# --- build_country_alias_table ------------------------------------------------------------------

def hand(*rows: tuple[str, str | None]) -> pl.DataFrame:
    return pl.DataFrame({"alias": [a for a, _ in rows], "iso3": [i for _, i in rows], "note": [None] * len(rows)},
                        schema={"alias": S, "iso3": S, "note": S})


def names(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame([(i, n, "iso_name") for i, n in rows], schema=["iso3", "name", "origin"], orient="row")


def test_alias_table_has_names_codes_and_hand_aliases(small):
    table = build_country_alias_table(small, hand(("UK", "GBR")), names(("GBR", "United Kingdom of Great Britain")))
    lookup = {k: (i, o) for k, i, o in table.iter_rows()}
    assert lookup["uk"] == ("GBR", "hand")
    assert lookup["gbr"] == ("GBR", "iso3")
    assert lookup["gb"] == ("GBR", "iso2")
    assert lookup["united kingdom of great britain"] == ("GBR", "iso_name")
    assert lookup["north yemen"] == ("YAR", "crosswalk_name")
    assert "dd" not in lookup  # withdrawn alpha-2 codes are re-issued, so they are no alias
    assert table["alias_key"].is_unique().all()


def test_alias_clash_is_reported_by_name(small):
    with pytest.raises(ValueError, match="'yemen' -> YAR, YEM"):
        build_country_alias_table(small, hand(), names(("YAR", "Yemen")))


def test_hand_alias_decides_a_clash(small):
    table = build_country_alias_table(small, hand(("Yemen", "YEM")), names(("YAR", "Yemen")))
    assert table.filter(pl.col("alias_key") == "yemen")["iso3"].to_list() == ["YEM"]


def test_hand_alias_to_unknown_entity_or_contradicting_itself_fails(small):
    with pytest.raises(ValueError, match="Atlantis"):
        build_country_alias_table(small, hand(("Atlantis", "ATL")))
    with pytest.raises(ValueError, match="'uk' -> GBR, YEM"):
        build_country_alias_table(small, hand(("UK", "GBR"), ("U.K.", "GBR"), ("uk*", "YEM")))


# --- resolve_country_names ---------------------------------------------------------------------

def test_resolve_exact_then_single_regex(small):
    aliases = build_country_alias_table(small, hand(("UK", "GBR")))
    df = pl.DataFrame({"country": ["UK", "Islamic State of Afghanistan", "Northern Yemen", None, "Atlantis"]})
    got = resolve_country_names(df, "country", aliases, small)["iso3"].to_list()
    # 'Northern Yemen' matches both YEM's and YAR's regex: ambiguous, so null rather than a guess.
    assert got == ["GBR", "AFG", None, None, None]
    assert resolve_country_names(df, "country", aliases, small).height == df.height


def test_resolve_keeps_row_order_and_duplicates(small):
    aliases = build_country_alias_table(small, hand())
    df = pl.DataFrame({"country": ["Afghanistan", "United Kingdom", "Afghanistan"], "v": [1, 2, 3]})
    out = resolve_country_names(df, "country", aliases, small)
    assert out.select("v", "iso3").rows() == [(1, "AFG"), (2, "GBR"), (3, "AFG")]


def test_blocked_alias_stays_unmapped_even_when_a_regex_matches(small):
    aliases = build_country_alias_table(small, hand(("Greater Afghanistan region", None)))
    df = pl.DataFrame({"country": ["Greater Afghanistan region"]})
    assert resolve_country_names(df, "country", aliases, small)["iso3"].to_list() == [None]


def test_resolve_refuses_to_overwrite_an_iso3_column(small):
    aliases = build_country_alias_table(small, hand())
    with pytest.raises(ValueError, match="iso3"):
        resolve_country_names(pl.DataFrame({"c": ["UK"], "iso3": ["GBR"]}), "c", aliases, small)


def test_year_picks_the_entity_valid_that_year(small):
    aliases = build_country_alias_table(small, hand(("Yemen (North Yemen)", "YEM")))
    df = pl.DataFrame({
        "c": ["Yemen (North Yemen)"] * 4 + ["German Democratic Republic"] * 2 + ["Kosovo", "Afghanistan"],
        "year": [1980, 1990, 2000, None, 1980, 1995, 2000, 1950],
    })
    got = resolve_country_names(df, "c", aliases, small, year_col="year")["iso3"].to_list()
    # 1980: YEM not yet valid, YAR's regex matches; 1990: both valid, the named one wins; no year: name only.
    # DDR 1995 and Kosovo 2000 are outside their validity with nothing to hand over to: null, never a guess.
    assert got == ["YAR", "YEM", "YEM", "YEM", "DDR", None, None, "AFG"]


def test_year_column_may_be_text(small):
    aliases = build_country_alias_table(small, hand(("Yemen (North Yemen)", "YEM")))
    df = pl.DataFrame({"c": ["Yemen (North Yemen)", "Yemen (North Yemen)"], "year": ["1985", "1995"]})
    assert resolve_country_names(df, "c", aliases, small, year_col="year")["iso3"].to_list() == ["YAR", "YEM"]


# --- resolve_country_codes -----------------------------------------------------------------------

def test_numeric_codes_accept_int_text_padded_and_float_text(small):
    as_int = pl.DataFrame({"code": [4, 826, 999]})
    assert resolve_country_codes(as_int, "code", small, "iso_numeric")["iso3"].to_list() == ["AFG", "GBR", None]
    as_text = pl.DataFrame({"code": ["4", "004", " 4.0", "x"]})
    assert resolve_country_codes(as_text, "code", small, "iso_numeric")["iso3"].to_list() == ["AFG", "AFG", "AFG", None]


def test_alpha_codes_ignore_case_and_spaces(small):
    df = pl.DataFrame({"code": ["gb", " AF ", "UK"]})
    assert resolve_country_codes(df, "code", small, "iso2")["iso3"].to_list() == ["GBR", "AFG", None]
    assert resolve_country_codes(pl.DataFrame({"c": ["xkx"]}), "c", small, "iso3")["iso3"].to_list() == ["XKX"]


def test_shared_gw_code_uses_the_year_or_the_current_entity(small):
    df = pl.DataFrame({"gw": ["678", "678", "678", "265", "265"], "year": [1985, 2000, None, 1985, 1995]})
    by_year = resolve_country_codes(df, "gw", small, "gw_code", year_col="year")
    assert by_year["iso3"].to_list() == ["YAR", "YEM", "YEM", "DDR", None]
    undated = resolve_country_codes(df.drop("year"), "gw", small, "gw_code")
    assert undated["iso3"].to_list() == ["YEM", "YEM", "YEM", "DDR", "DDR"]


def test_unknown_scheme_is_refused(small):
    with pytest.raises(ValueError, match="cow"):
        resolve_country_codes(pl.DataFrame({"c": ["2"]}), "c", small, "cow")


# --- unmapped_country_names ----------------------------------------------------------------------

def test_unmapped_names_are_named_sorted_and_distinct(small):
    aliases = build_country_alias_table(small, hand())
    df = pl.DataFrame({"c": ["Narnia", "Afghanistan", "Atlantis", "Narnia", None]})
    assert unmapped_country_names(resolve_country_names(df, "c", aliases, small), "c") == ["Atlantis", "Narnia"]
