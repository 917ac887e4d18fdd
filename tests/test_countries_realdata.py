"""Every country name and code in the real publisher files resolves through the crosswalk."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from transforms.reference.countries import resolve_country_codes, resolve_country_names, unmapped_country_names

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED.exists(), reason=f"real data not available: {SHARED}"),
]

# SIPRI lists the EU as a row of its own in the 2023-2025 releases: an aggregate, not a country.
SIPRI_NON_COUNTRIES = {"European Union"}


def names_frame(names) -> pl.DataFrame:
    return pl.DataFrame({"name": sorted(names)}, schema={"name": pl.String})


def resolve(names, aliases, crosswalk) -> dict[str, str | None]:
    return dict(resolve_country_names(names_frame(names), "name", aliases, crosswalk).iter_rows())


# --- World Bank WDI --------------------------------------------------------------------------------

def read_wdi(path: Path) -> pl.DataFrame:
    text = path.read_text(encoding="utf-8-sig")
    start = text.rfind("\n", 0, text.index("Country Name")) + 1  # skip the preamble, when there is one
    return pl.read_csv(io.StringIO(text[start:]), infer_schema=False, truncate_ragged_lines=True).select(
        pl.col("Country Name").alias("name"), pl.col("Country Code").alias("code")
    )


@pytest.fixture(scope="module")
def wdi_countries() -> pl.DataFrame:
    folder = DATA / "defense_spending" / "worldbank"
    metadata = folder.glob("*/Metadata_Country_*.csv")
    meta = pl.concat(pl.read_csv(p, infer_schema=False).select("Country Code", "Region") for p in metadata)
    # Aggregates have an empty Region; INX ("Not classified") is in no Metadata_Country file at all.
    countries = meta.filter(pl.col("Region").fill_null("") != "")["Country Code"].unique()
    rows = pl.concat(read_wdi(p) for p in folder.glob("**/API_*.csv")).unique()
    assert rows.height > 200
    return rows.filter(pl.col("code").is_in(countries.implode()))


def test_wdi_country_names_resolve_to_their_own_code(wdi_countries, aliases, crosswalk):
    by_name = resolve_country_names(wdi_countries, "name", aliases, crosswalk)
    assert unmapped_country_names(by_name, "name") == []
    wrong = by_name.filter(pl.col("iso3") != pl.col("code"))
    assert wrong.height == 0, wrong


def test_wdi_country_codes_are_in_the_crosswalk(wdi_countries, crosswalk):
    by_code = resolve_country_codes(wdi_countries, "code", crosswalk, "iso3")
    assert by_code.filter(pl.col("iso3").is_null())["code"].to_list() == []


# --- SIPRI ----------------------------------------------------------------------------------------

def sipri_rows(path: Path):
    """(name, has_data) for every row under the `Country` header of each country sheet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Workbook contains no default style"
        book = openpyxl.load_workbook(path, read_only=True)
    try:
        for sheet in book.sheetnames:
            if sheet in ("Front page", "Regional totals", "Footnotes"):
                continue
            header_seen = False
            for values in book[sheet].iter_rows(values_only=True):
                first = values[0] if values else None
                if not header_seen:
                    header_seen = isinstance(first, str) and first.strip() == "Country"
                elif isinstance(first, str):
                    yield first, any(v is not None and str(v).strip() for v in values[1:])
    finally:
        book.close()


@pytest.fixture(scope="module")
def sipri_names() -> set[str]:
    workbooks = sorted((DATA / "defense_spending" / "sipri").glob("**/*.xlsx"))
    assert len(workbooks) >= 8
    rows = [r for path in workbooks for r in sipri_rows(path)]
    # Region/subregion headers are rows without data; the 2025 release puts '...' into a few of them,
    # so a label that is a bare header anywhere is a header everywhere.
    headers = {name for name, has_data in rows if not has_data}
    return {name for name, has_data in rows if has_data} - headers - SIPRI_NON_COUNTRIES


def test_every_sipri_country_row_resolves(sipri_names, aliases, crosswalk):
    assert len(sipri_names) > 170
    resolved = resolve_country_names(names_frame(sipri_names), "name", aliases, crosswalk)
    assert unmapped_country_names(resolved, "name") == []


@pytest.mark.parametrize(
    ("name", "iso3"),
    [("Korea, South", "KOR"), ("Korea, North", "PRK"), ("USSR", "SUN"), ("Türkiye", "TUR"), ("Turkey", "TUR"),
     ("Congo, DR", "COD"), ("Congo, Republic", "COG"), ("Yemen, North", "YAR"), ("German DR", "DDR"),
     ("Czechoslovakia", "CSK"), ("Yugoslavia", "YUG"), ("UK", "GBR"), ("USA", "USA"), ("Côte d’Ivoire", "CIV"),
     ("Norh Macedonia", "MKD"), ("Congo, Repubic of", "COG")],
)
def test_sipri_spot_checks(sipri_names, aliases, crosswalk, name, iso3):
    assert name in sipri_names  # the spelling really occurs in a SIPRI workbook
    assert resolve(sipri_names, aliases, crosswalk)[name] == iso3


# --- NATO -----------------------------------------------------------------------------------------

def test_nato_table3_names_are_the_allies(aliases, crosswalk):
    path = DATA / "defense_spending" / "nato" / "240617-def-exp-2024-TABLES-en.xlsx"
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        names = {c for _, _, c, d in book["TABLE3"].iter_rows(min_row=9, max_col=4, values_only=True)
                 if isinstance(c, str) and isinstance(d, (int, float))}
    finally:
        book.close()
    resolved = resolve(names, aliases, crosswalk)
    assert resolved["Czechia*"] == "CZE" and resolved["Türkiye"] == "TUR" and resolved["Slovak Republic"] == "SVK"
    allies = set(crosswalk.filter(pl.col("nato_member_since").is_not_null())["iso3"])
    assert set(resolved.values()) == allies - {"ISL"}  # Iceland has no armed forces, so no expenditure row


# --- UCDP and ACLED (conflict data use historical states) --------------------------------------------

@pytest.fixture(scope="module")
def ucdp_country_years() -> pl.DataFrame:
    path = DATA / "conflict_events" / "ucdp" / "organizedviolencecy_v25_1.csv"
    return pl.read_csv(path, infer_schema=False, columns=["country_id_cy", "country_cy", "year_cy"])


def test_ucdp_country_years_resolve_by_name_and_year(ucdp_country_years, aliases, crosswalk):
    out = resolve_country_names(ucdp_country_years, "country_cy", aliases, crosswalk, year_col="year_cy")
    assert unmapped_country_names(out, "country_cy") == []
    got = {(n, y): i for n, y, i in out.select("country_cy", "year_cy", "iso3").iter_rows()}
    assert [got["Serbia (Yugoslavia)", y] for y in ("1990", "2000", "2010")] == ["YUG", "SCG", "SRB"]
    assert [got["Russia (Soviet Union)", y] for y in ("1990", "1992")] == ["SUN", "RUS"]
    assert [got["Yemen (North Yemen)", y] for y in ("1989", "1991")] == ["YAR", "YEM"]
    assert got["Yemen (South Yemen)", "1989"] == "YMD" and got["German Democratic Republic", "1990"] == "DDR"


def test_ucdp_gw_codes_agree_with_names_except_documented_cases(ucdp_country_years, aliases, crosswalk):
    by_name = resolve_country_names(ucdp_country_years, "country_cy", aliases, crosswalk, year_col="year_cy")
    by_name = by_name.rename({"iso3": "by_name"})
    both = resolve_country_codes(by_name, "country_id_cy", crosswalk, "gw_code", year_col="year_cy")
    differ = both.filter(pl.col("iso3").ne_missing(pl.col("by_name")))
    # UCDP keeps GW 345 for Serbia after 2006 (GW and coco: 340); in 1990 GW 678 is both YAR and YEM and a
    # bare code goes to the outgoing state, while the name 'Yemen (North Yemen)' names the current one.
    serbia = (pl.col("country_id_cy") == "345") & (pl.col("year_cy").cast(pl.Int32) >= 2006)
    yemen_1990 = (pl.col("country_id_cy") == "678") & (pl.col("year_cy") == "1990")
    assert differ.filter(~(serbia | yemen_1990)).height == 0
    assert differ.filter(yemen_1990)["iso3"].to_list() == ["YAR"]


def test_ucdp_conflict_locations_resolve_except_pre_state_cases(aliases, crosswalk):
    path = DATA / "conflict_events" / "ucdp" / "UcdpPrioConflict_v23_1.csv"
    locations = (
        pl.read_csv(path, infer_schema=False, columns=["location", "year"])
        .with_columns(pl.col("location").str.split(", "))
        .explode("location")
        .unique()
    )
    out = resolve_country_names(locations, "location", aliases, crosswalk, year_col="year")
    unmapped = (
        out.filter(pl.col("iso3").is_null())
        .group_by("location")
        .agg(pl.col("year").min(), pl.col("year").max().alias("last"))
    )
    # Hyderabad (1948) is not in the crosswalk; 'South Yemen' 1964-66 is the Aden colony before YMD existed.
    assert sorted(unmapped.rows()) == [("Hyderabad", "1947", "1948"), ("South Yemen", "1964", "1966")]


def test_acled_iso_numeric_and_name(aliases, crosswalk):
    path = DATA / "conflict_events" / "acled" / "acled.csv"
    acled = pl.read_csv(path, infer_schema=False, columns=["country", "iso"]).unique()
    by_code = resolve_country_codes(acled, "iso", crosswalk, "iso_numeric")
    by_name = resolve_country_names(acled, "country", aliases, crosswalk)
    assert by_code["iso3"].to_list() == by_name["iso3"].to_list() == ["BEN"]
