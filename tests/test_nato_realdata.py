"""NATO's real June 2024 tables workbook (and a user-made CSV excerpt) from ../shared/data."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.defense_spending.nato import read_nato_workbook, stage_nato
from transforms.errors import SourceFormatError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NATO_DIR = DATA / "defense_spending" / "nato"
XLSX = NATO_DIR / "240617-def-exp-2024-TABLES-en.xlsx"
CSV = NATO_DIR / "230707-def-exp-2023-TABLES-en.csv"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.exists(), reason=f"real data not available: {DATA}"),
]


@pytest.fixture(scope="module")
def book():
    return read_nato_workbook(XLSX, XLSX.name)


@pytest.fixture(scope="module")
def sheets() -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(XLSX, data_only=True)


def value(book, measure: str, name: str, year: int) -> float:
    rows = book.countries.filter(measure=measure, country_name=name, year=year)
    assert rows.height == 1
    return rows["value"][0]


def test_the_2024_workbook_parses(book):
    edition = book.edition
    assert (edition.edition_label, edition.first_year, edition.last_year) == ("NATO June 2024", 2014, 2024)
    assert edition.price_base_year == 2015
    assert edition.skipped_errors == 30  # SOURCES.md: #REF! in the hidden aggregate rows of TABLE1/8a/8b
    counts = dict(book.countries.group_by("measure").len().iter_rows())
    assert counts["share_of_gdp"] == 31 * 11 and counts["gdp_current_usd"] == 32 * 11


def test_every_table3_share_equals_a_naive_reading(book, sheets):
    ws = sheets["TABLE3"]  # SOURCES.md: header in row 8 from column D, names in column C
    years = [int(str(ws.cell(8, c).value).rstrip("e")) for c in range(4, 15)]
    expected, r = {}, 11
    assert ws["B10"].value == "Share of real GDP (%)"
    while ws.cell(r, 3).value:
        for c, year in zip(range(4, 15), years):
            expected[ws.cell(r, 3).value.rstrip("*"), year] = ws.cell(r, c).value
        r += 1
    got = {(n, y): v for n, y, v in book.countries.filter(pl.col("measure") == "share_of_gdp")
           .select("country_name", "year", "value").iter_rows()}
    assert len(expected) == 31 * 11 and got == expected


def test_2023_and_2024_are_estimates(book):
    assert book.edition.estimate_years == (2023, 2024)
    flagged = book.countries.group_by("year").agg(pl.col("is_estimate").all().alias("all"),
                                                   pl.col("is_estimate").any().alias("any"))
    assert {y: (a, b) for y, a, b in flagged.iter_rows()} == {y: (y >= 2023,) * 2 for y in range(2014, 2025)}


def test_units_are_converted(book):
    assert value(book, "current_usd", "United States", 2024) > 5e11
    assert value(book, "lcu_current", "United States", 2024) == value(book, "current_usd", "United States", 2024)
    assert 1e6 < value(book, "armed_forces_personnel", "United States", 2024) < 2e6
    assert 1e13 < value(book, "gdp_current_usd", "United States", 2024) < 1e14
    assert 1e4 < value(book, "gdp_per_capita_usd", "Iceland", 2024) < 1e6


def test_poland_above_four_percent_and_iceland_has_no_spending(book):
    assert value(book, "share_of_gdp", "Poland", 2024) > 4
    iceland = book.countries.filter(pl.col("country_name") == "Iceland")
    assert set(iceland["measure"]) == {"gdp_current_usd", "gdp_constant_usd", "gdp_per_capita_usd"}


def test_table4_adds_nothing_the_other_tables_lack(book, sheets):
    """Why TABLE4 is skipped: its columns are TABLE2 constant US$, TABLE3 shares and their ratio."""
    ws = sheets["TABLE4"]
    for r in range(23, 54):
        name = ws.cell(r, 3).value
        first, last, change, share14, share24 = (ws.cell(r, c).value for c in range(4, 9))
        assert first * 1e6 == pytest.approx(value(book, "constant_usd", name, 2014), rel=1e-12)
        assert last * 1e6 == pytest.approx(value(book, "constant_usd", name, 2024), rel=1e-12)
        assert change == pytest.approx((last / first - 1) * 100, rel=1e-9)
        assert (share14, share24) == (value(book, "share_of_gdp", name, 2014), value(book, "share_of_gdp", name, 2024))


def test_all_allies_and_iceland_resolve(book):
    crosswalk = load_country_crosswalk()
    countries, aggregates, quarantine = stage_nato(book, load_country_aliases(), crosswalk, "snap")
    allies = set(crosswalk.filter(pl.col("nato_member_since").is_not_null())["iso3"])
    assert countries["iso3"].null_count() == 0 and set(countries["iso3"]) == allies
    assert quarantine.height == 0 and set(aggregates["aggregate_name"]) == {"NATO Europe and Canada", "NATO Total"}


def test_a_renamed_sheet_fails_clearly(sheets):
    sheets["TABLE3"].title = "Table 3"
    buffer = io.BytesIO()
    try:
        sheets.save(buffer)
    finally:
        sheets["Table 3"].title = "TABLE3"
    with pytest.raises(SourceFormatError, match=r"sheet\(s\) \['TABLE3'\] missing") as caught:
        read_nato_workbook(buffer.getvalue(), XLSX.name)
    assert XLSX.name in str(caught.value) and "Table 3" in str(caught.value)


def test_the_csv_excerpt_is_refused_as_not_a_nato_workbook():
    with pytest.raises(SourceFormatError, match="not a NATO workbook") as caught:
        read_nato_workbook(CSV, CSV.name)
    assert CSV.name in str(caught.value)
