"""SIPRI workbooks written in tmp_path: sheet layouts, cell markers, font flags, notes and the errors that name them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.styles import Font
from openpyxl.styles.colors import Color

from transforms.defense_spending.sipri import (
    QUARANTINE_ROWS_SCHEMA,
    STAGED_COUNTRIES_SCHEMA,
    read_sipri_workbook,
    stage_sipri,
)
from transforms.errors import SourceFormatError

BLUE, RED, BOLD = Font(color=Color(indexed=12)), Font(color=Color(indexed=10)), Font(b=True)


# --- small workbooks written in tmp_path -----------------------------------------------------------------

@dataclass(frozen=True)
class Styled:
    value: object
    font: Font


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if isinstance(value, Styled):
                    ws.cell(r, c, value.value).font = value.font
                elif value is not None:
                    ws.cell(r, c, value)
    wb.save(path)
    return path


def country_sheet(*rows: list, years: tuple = (2020, 2021, 2022), labels: tuple = ("Country", "Notes")) -> list[list]:
    """A country sheet in SIPRI's shape: title with ©, legend, header, then the given rows under 'Europe'."""
    return [["Military expenditure by country, 2020-2022  \u00a9 SIPRI 2025"], ["legend"], [],
            list(labels) + list(years), [Styled("Europe", BOLD)], [Styled("Western Europe", BOLD)], *rows]


def one_sheet(tmp_path: Path, *rows: list, sheet: str = "Share of GDP", **kw) -> Path:
    return write_xlsx(tmp_path / "t.xlsx", {sheet: country_sheet(*rows, **kw)})


def test_year_headers_may_be_int_float_or_text(tmp_path):
    path = one_sheet(tmp_path, ["France", "", 0.01, 0.02, 0.03], years=(2020, 2021.0, "2022.0"))
    workbook = read_sipri_workbook(path, "t.xlsx")
    assert workbook.countries["year"].to_list() == [2020, 2021, 2022]
    assert workbook.countries["value"].to_list() == pytest.approx([1.0, 2.0, 3.0], rel=1e-12)


def test_every_marker_spelling(tmp_path):
    markers = ["...", ". .", ". . ", "..", "\u2026", " ", "#VALUE!", "xxx", None, 0.5]
    path = one_sheet(tmp_path, ["France", "", *markers], years=tuple(range(2010, 2020)))
    got = dict(read_sipri_workbook(path, "t.xlsx").countries.select("year", "status").iter_rows())
    assert [got.get(y) for y in range(2010, 2020)] == ["missing"] * 7 + ["not_a_state", None, "value"]


def test_text_that_is_no_marker_fails_naming_the_cell(tmp_path):
    path = one_sheet(tmp_path, ["France", "", 0.01, "n/a", 0.03])
    with pytest.raises(SourceFormatError) as err:
        read_sipri_workbook(path, "t.xlsx")
    assert "t.xlsx" in str(err.value) and "'Share of GDP'" in str(err.value) and "D7" in str(err.value)


def test_renamed_sheet_fails(tmp_path):
    path = one_sheet(tmp_path, ["France", "", 0.01, 0.02, 0.03], sheet="Share of GDP (%)")
    with pytest.raises(SourceFormatError, match=r"unexpected sheet 'Share of GDP \(%\)'"):
        read_sipri_workbook(path, "t.xlsx")


def test_missing_sheets_fail_only_when_all_are_required(tmp_path):
    path = one_sheet(tmp_path, ["France", "", 0.01, 0.02, 0.03])
    assert read_sipri_workbook(path, "t.xlsx").release.is_portal_export  # a one-indicator portal export
    with pytest.raises(SourceFormatError, match="missing sheet.*constant_usd"):
        read_sipri_workbook(path, "t.xlsx", require_all_sheets=True)


def test_missing_country_header_fails(tmp_path):
    rows = country_sheet(["France", "", 0.01, 0.02, 0.03])
    rows[3][0] = "Nation"
    with pytest.raises(SourceFormatError, match="no 'Country' header"):
        read_sipri_workbook(write_xlsx(tmp_path / "t.xlsx", {"Share of GDP": rows}), "t.xlsx")


def test_unknown_header_and_duplicate_country_fail(tmp_path):
    path = one_sheet(tmp_path, ["France", "", 0.01, 0.02, 0.03], labels=("Country", "Notes", "Remarks"), years=(2020, 2021))
    with pytest.raises(SourceFormatError, match="C4: unexpected header 'Remarks'"):
        read_sipri_workbook(path, "t.xlsx")
    path = one_sheet(tmp_path, ["France", "", 0.01, 0.02, 0.03], ["France", "", 0.01, 0.02, 0.03])
    with pytest.raises(SourceFormatError, match="'France' in rows 7 and 8"):
        read_sipri_workbook(path, "t.xlsx")


def test_region_rows_are_skipped_but_may_not_hold_numbers(tmp_path):
    path = one_sheet(tmp_path, [Styled("East Asia", BOLD), "", "...", "...", "..."], ["Central Asia"],
                     ["Japan", "", 0.01, 0.01, 0.01])
    assert read_sipri_workbook(path, "t.xlsx").countries["country_name"].unique().to_list() == ["Japan"]
    path = one_sheet(tmp_path, [Styled("East Asia", BOLD), "", 0.5, "...", "..."])
    with pytest.raises(SourceFormatError, match="bold region row 'East Asia' holds numbers"):
        read_sipri_workbook(path, "t.xlsx")


def test_font_colours_indexed_and_rgb(tmp_path):
    fonts = [BLUE, RED, Font(color="FF0000FF"), Font(color="FFFF0000"), Font(color=Color(theme=1)), Font(b=True)]
    path = one_sheet(tmp_path, ["France", "", *(Styled(0.01, f) for f in fonts)], years=tuple(range(2020, 2026)))
    got = read_sipri_workbook(path, "t.xlsx").countries.sort("year")
    assert got["is_estimate"].to_list() == [True, False, True, False, False, False]
    assert got["is_uncertain"].to_list() == [False, True, False, True, False, False]


@pytest.mark.parametrize("note, symbols, ids", [
    ("‡§¶16", ["‡", "§", "¶"], [16]), ("‡ ¶ 2", ["‡", "¶"], [2]), ("§‖105", ["§", "‖"], [105]),
    (3, [], [3]), (4.0, [], [4]), ("...", [], []), (None, [], []),
])
def test_notes_become_symbols_and_footnote_ids(tmp_path, note, symbols, ids):
    path = one_sheet(tmp_path, ["France", note, 0.01, 0.02, 0.03])
    row = read_sipri_workbook(path, "t.xlsx").countries.row(0, named=True)
    assert (row["note_symbols"], row["footnote_ids"]) == (symbols, ids)
    assert row["notes_raw"] == (None if note is None else str(int(note)) if isinstance(note, (int, float)) else note)


def test_a_note_that_is_no_symbol_fails(tmp_path):
    with pytest.raises(SourceFormatError, match="unexpected note 'see text'"):
        read_sipri_workbook(one_sheet(tmp_path, ["France", "see text", 0.01, 0.02, 0.03]), "t.xlsx")


def test_constant_sheet_extras_of_the_2021_release(tmp_path):
    labels = ("Country", None, "Notes", 2019, "2020", "2020 Current")
    rows = [["France", "Base year is 1985", "", 10.0, 11.0, 12.0]]
    path = one_sheet(tmp_path, *rows, sheet="Constant (2019) USD", labels=labels, years=())
    got = read_sipri_workbook(path, "t.xlsx").countries
    assert got.select("year", "value", "price_base_year").rows() == [(2019, 10e6, 2019), (2020, 11e6, 2019)]
    rows = [["France", 5, "", 10.0, 11.0, 12.0]]
    path = one_sheet(tmp_path, *rows, sheet="Constant (2019) USD", labels=labels, years=())
    with pytest.raises(SourceFormatError, match="B7: number under an empty header"):
        read_sipri_workbook(path, "t.xlsx")


def test_local_currency_keeps_currency_and_fiscal_year(tmp_path):
    labels = ("Country", "Currency", "Fiscal Year (Jan.–Dec. if not stated)", "Notes")
    path = one_sheet(tmp_path, ["Japan", "Yen   ", "Apr.–Mar.", "§", 5e12, 5.1e12, 5.2e12],
                     sheet="Local currency financial years", labels=labels)
    row = read_sipri_workbook(path, "t.xlsx").countries.row(0, named=True)
    assert (row["measure"], row["unit"], row["currency"], row["fiscal_year"], row["value"]) == (
        "local_currency_financial", "lcu", "Yen", "Apr.–Mar.", 5e12)
    with pytest.raises(SourceFormatError, match="no 'Currency' column"):
        read_sipri_workbook(one_sheet(tmp_path, ["Japan", "", 1.0, 1.0, 1.0], sheet="Local currency calendar years"), "t.xlsx")


def regional_sheet(*rows: list, legend: str = "Figures are in US$ b., at constant 2023 prices and exchange rates.") -> list:
    return [["Military expenditure by region in constant US dollars   \u00a9 SIPRI 2025"], [legend], [],
            ["Region", 2023, 2024.0, "2024 (current prices)", "", "Omitted countries"], *rows]


def test_regional_totals(tmp_path):
    sheets = {"Regional totals": regional_sheet(["World", 2000.5, Styled(2100.25, RED), 2200.0, None, "Syria"],
                                                ["Central Asia", "xxx", "…", 1.5]),
              "Share of GDP": country_sheet(["France", "", 0.01, 0.02, 0.03])}
    totals = read_sipri_workbook(write_xlsx(tmp_path / "t.xlsx", sheets), "t.xlsx").regional_totals
    world = totals.filter(pl.col("region") == "World").sort("measure", "year")
    assert world.select("measure", "year", "value", "price_base_year", "is_uncertain").rows() == [
        ("constant_usd", 2023, 2000.5e9, 2023, False), ("constant_usd", 2024, 2100.25e9, 2023, True),
        ("current_usd", 2024, 2200.0e9, None, False)]
    assert world["omitted_countries"].unique().to_list() == ["Syria"]
    asia = totals.filter(pl.col("region") == "Central Asia").sort("measure", "year")
    assert asia["status"].to_list() == ["not_a_state", "missing", "value"]
    sheets["Regional totals"] = regional_sheet(["World", 1.0, 1.0, 1.0], legend="Figures are in US$ b.")
    with pytest.raises(SourceFormatError, match="no 'constant YYYY prices'"):
        read_sipri_workbook(write_xlsx(tmp_path / "u.xlsx", sheets), "u.xlsx")


def test_release_year_from_the_file_name_when_no_copyright_line(tmp_path):
    rows = country_sheet(["France", "", 0.01, 0.02, 0.03])
    rows[0] = ["Military expenditure by country as percentage of GDP"]
    path = write_xlsx(tmp_path / "t.xlsx", {"Share of GDP": rows})
    assert read_sipri_workbook(path, "SIPRI-Milex-data-1949-2022.xlsx").release.release_year == 2023
    with pytest.raises(SourceFormatError, match="no '© SIPRI YYYY'"):
        read_sipri_workbook(path, "milex.xlsx")


def test_stage_quarantines_negative_values_and_government_shares_over_100(tmp_path, aliases, crosswalk):
    sheets = {
        "Share of GDP": country_sheet(["Kuwait", "", 1.17, 0.05, 0.04]),
        "Share of Govt. spending": country_sheet(["Kuwait", "", None, 1.2, 0.3, -0.1], labels=("Country", "Notes", "Reporting year")),
    }
    workbook = read_sipri_workbook(write_xlsx(tmp_path / "t.xlsx", sheets), "t.xlsx")
    countries, regional, quarantine = stage_sipri(workbook, aliases, crosswalk, snapshot_id="20250428T080000Z-abc")
    assert countries.schema == STAGED_COUNTRIES_SCHEMA and quarantine.schema == QUARANTINE_ROWS_SCHEMA
    assert sorted(quarantine.select("year", "reason").rows()) == [
        (2020, "share of government spending above 100"), (2022, "negative value")]
    kept = countries.filter(pl.col("measure") == "share_of_gdp", pl.col("year") == 2020)
    assert kept["value"][0] == pytest.approx(117.0, rel=1e-12)  # a share of GDP above 100 is left to validation
    assert set(countries["iso3"]) == {"KWT"} and set(countries["snapshot_id"]) == {"20250428T080000Z-abc"}
    assert countries.height + quarantine.height == workbook.countries.height and regional.height == 0
