"""SIPRI workbook parser on the bundled samples and on small workbooks written in tmp_path."""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.styles import Font
from openpyxl.styles.colors import Color

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.defense_spending.sipri import (
    COUNTRIES_SCHEMA,
    QUARANTINE_ROWS_SCHEMA,
    STAGED_COUNTRIES_SCHEMA,
    read_sipri_snapshot,
    read_sipri_workbook,
    resolve_sipri_countries,
    stage_sipri,
)
from transforms.errors import SourceFormatError

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples" / "sipri"
CURRENT = SAMPLES / "current" / "SIPRI-Milex-data-2014-2024.xlsx"
PREVIOUS = SAMPLES / "previous" / "SIPRI-Milex-data-2014-2023.xlsx"
BLUE, RED, BOLD = Font(color=Color(indexed=12)), Font(color=Color(indexed=10)), Font(b=True)


@functools.cache
def load_generator():
    spec = importlib.util.spec_from_file_location("generate_sipri", REPO / "data" / "samples" / "generate_sipri.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def samples():
    return {path: read_sipri_workbook(path, path.name) for path in (CURRENT, PREVIOUS)}


@pytest.fixture(scope="module")
def reference():
    return load_country_aliases(), load_country_crosswalk()


def naive_sheet(path: Path, sheet: str) -> dict[tuple[str, int], openpyxl.cell.Cell]:
    """(country, year) -> cell of one sheet, read with plain openpyxl (not read-only) and no parser code."""
    ws = openpyxl.load_workbook(path)[sheet]
    header_row = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Country")
    years = {c: int(float(ws.cell(header_row, c).value)) for c in range(2, ws.max_column + 1)
             if str(ws.cell(header_row, c).value).replace(".0", "").isdigit()}
    out = {}
    for r in range(header_row + 1, ws.max_row + 1):
        name = ws.cell(r, 1).value
        if name and not ws.cell(r, 1).font.b:
            for c, year in years.items():
                out[(name, year)] = ws.cell(r, c)
    return out


def rows_of(frame: pl.DataFrame, measure: str) -> dict[tuple[str, int], dict]:
    return {(r["country_name"], r["year"]): r for r in frame.filter(pl.col("measure") == measure).iter_rows(named=True)}


# --- the bundled samples ---------------------------------------------------------------------------------

def test_sample_releases_follow_the_generator(samples):
    gen = load_generator()
    for vintage in gen.VINTAGES:
        release = samples[SAMPLES / vintage.file].release
        assert (release.release_year, release.first_year, release.data_last_year, release.price_base_year) == (
            vintage.copyright, gen.FIRST_YEAR, vintage.last_year, vintage.price_base)
        assert not release.is_portal_export
        assert release.release_label == f"SIPRI {vintage.copyright} (data {gen.FIRST_YEAR}-{vintage.last_year})"


def test_sample_frames_have_the_declared_schema(samples):
    for workbook in samples.values():
        assert workbook.countries.schema == COUNTRIES_SCHEMA
        assert workbook.countries["iso3"].null_count() == workbook.countries.height
        assert not workbook.countries.select("country_name", "measure", "year").is_duplicated().any()


@pytest.mark.parametrize("path", [CURRENT, PREVIOUS], ids=["current", "previous"])
def test_sample_shares_are_percent_of_the_cells(samples, path):
    for sheet, measure in (("Share of GDP", "share_of_gdp"), ("Share of Govt. spending", "share_of_government_spending")):
        cells = {k: c.value for k, c in naive_sheet(path, sheet).items() if isinstance(c.value, float)}
        parsed = {k: r["value"] for k, r in rows_of(samples[path].countries, measure).items() if r["status"] == "value"}
        assert parsed.keys() == cells.keys()
        for key, raw in cells.items():
            assert parsed[key] == pytest.approx(raw * 100, rel=1e-12)


def test_sample_money_is_in_dollars(samples):
    cells = naive_sheet(CURRENT, "Current US$")
    parsed = rows_of(samples[CURRENT].countries, "current_usd")
    assert parsed[("Poland", 2020)]["value"] == pytest.approx(cells[("Poland", 2020)].value * 1e6, rel=1e-12)
    assert parsed[("Poland", 2020)]["unit"] == "usd"
    constant = rows_of(samples[CURRENT].countries, "constant_usd")[("Poland", 2020)]
    assert constant["price_base_year"] == 2023 and constant["sheet"] == "Constant (2023) US$"
    lcu = rows_of(samples[CURRENT].countries, "local_currency_calendar")[("Poland", 2020)]
    assert (lcu["unit"], lcu["currency"]) == ("lcu", "Zlotys")
    assert lcu["value"] == naive_sheet(CURRENT, "Local currency calendar years")[("Poland", 2020)].value


def test_sample_regional_totals_are_in_dollars(samples):
    ws = openpyxl.load_workbook(CURRENT)["Regional totals"]
    assert ws.cell(14, 1).value == "Region"  # SIPRI's header row
    world = next(r for r in range(15, ws.max_row + 1) if ws.cell(r, 1).value == "World")
    totals = samples[CURRENT].regional_totals
    got = totals.filter(pl.col("region") == "World", pl.col("year") == 2014, pl.col("measure") == "constant_usd")
    assert got["value"][0] == pytest.approx(ws.cell(world, 2).value * 1e9, rel=1e-12)
    assert got["price_base_year"][0] == 2023
    current = totals.filter(pl.col("measure") == "current_usd")
    assert current["year"].unique().to_list() == [2024] and current["price_base_year"].null_count() == current.height
    west = totals.filter(pl.col("region") == "Western Europe")["omitted_countries"].unique().to_list()
    assert west == ["Iceland"]


@pytest.mark.parametrize("path", [CURRENT, PREVIOUS], ids=["current", "previous"])
def test_sample_font_flags_match_a_naive_count(samples, path):
    countries = samples[path].countries
    for sheet in countries["sheet"].unique().to_list():
        numbers = [c for c in naive_sheet(path, sheet).values() if isinstance(c.value, (int, float))]
        blue = sum(c.font.color is not None and c.font.color.indexed == 12 for c in numbers)
        red = sum(c.font.color is not None and c.font.color.indexed == 10 for c in numbers)
        rows = countries.filter(pl.col("sheet") == sheet)
        assert (rows["is_estimate"].sum(), rows["is_uncertain"].sum()) == (blue, red), sheet
        assert blue + red > 0


def test_sample_markers_keep_missing_and_no_state_apart(samples):
    countries = samples[CURRENT].countries
    iceland = countries.filter(pl.col("country_name") == "Iceland")
    assert iceland["status"].unique().to_list() == ["missing"] and iceland["value"].null_count() == iceland.height
    assert iceland["measure"].n_unique() == 7
    for gone in ("USSR", "Czechoslovakia"):
        assert countries.filter(pl.col("country_name") == gone)["status"].unique().to_list() == ["not_a_state"]
    cells = naive_sheet(CURRENT, "Constant (2023) US$")
    assert cells[("Ukraine", 2014)].value == "\u2026"
    assert rows_of(countries, "constant_usd")[("Ukraine", 2014)]["status"] == "missing"
    assert rows_of(countries, "share_of_government_spending")[("Brazil", 2015)]["status"] == "missing"


def test_sample_notes_and_footnotes(samples):
    saudi = rows_of(samples[CURRENT].countries, "share_of_gdp")[("Saudi Arabia", 2020)]
    assert (saudi["notes_raw"], saudi["note_symbols"], saudi["footnote_ids"]) == ("‡§¶3", ["‡", "§", "¶"], [3])
    usa_old = rows_of(samples[PREVIOUS].countries, "share_of_gdp")[("USA", 2020)]
    assert (usa_old["notes_raw"], usa_old["footnote_ids"]) == ("6", [6])  # written as the number 6
    for workbook in samples.values():
        footnotes = workbook.footnotes
        assert footnotes.filter(pl.col("symbol").is_not_null())["symbol"].to_list() == ["†", "‡", "§", "¶", "‖"]
        assert footnotes["flag"].drop_nulls().n_unique() == 5
        used = set(workbook.countries["footnote_ids"].explode().drop_nulls().to_list())
        assert used and used <= set(footnotes["footnote_id"].drop_nulls().to_list())


def test_sample_countries_resolve_and_cover_nato(samples, reference):
    aliases, crosswalk = reference
    nato = set(crosswalk.filter(pl.col("nato_member_since").is_not_null())["iso3"])
    for workbook in samples.values():
        resolved = resolve_sipri_countries(workbook.countries, aliases, crosswalk)
        assert resolved.columns == workbook.countries.columns
        assert resolved["iso3"].null_count() == 0
        assert nato <= set(resolved["iso3"])
        assert len(nato) == 32


def test_revisions_between_the_sample_vintages(samples, reference):
    staged = {p: stage_sipri(w, *reference, snapshot_id=p.parent.name)[0] for p, w in samples.items()}
    key = ["iso3", "measure", "year"]
    both = staged[CURRENT].join(staged[PREVIOUS], on=key, suffix="_old").filter(pl.col("status") == "value")
    usa = both.filter(pl.col("iso3") == "USA", pl.col("measure") == "share_of_gdp", pl.col("year") == 2020).row(0, named=True)
    assert (usa["country_name"], usa["country_name_old"]) == ("United States of America", "USA")
    assert usa["value"] != usa["value_old"]
    assert (usa["release_label"], usa["release_label_old"]) == ("SIPRI 2025 (data 2014-2024)", "SIPRI 2024 (data 2014-2023)")
    constant = both.filter(pl.col("measure") == "constant_usd")
    assert set(zip(constant["price_base_year"], constant["price_base_year_old"])) == {(2023, 2022)}
    assert staged[CURRENT].filter(pl.col("iso3") == "TUR")["country_name"].unique().to_list() == ["Türkiye"]


def test_generator_rewrites_identical_bytes(tmp_path):
    for written in load_generator().main(tmp_path):
        committed = SAMPLES / written.relative_to(tmp_path)
        assert written.read_bytes() == committed.read_bytes(), f"{committed} is stale: rerun the generator"


def test_snapshot_reader_takes_xlsx_and_json_and_skips_the_manifest(tmp_path):
    body = tmp_path / "excel-export-POST.response.json"
    body.write_text(json.dumps({"Value": base64.b64encode(PREVIOUS.read_bytes()).decode()}))
    (tmp_path / "manifest.json").write_text("{}")
    workbooks = read_sipri_snapshot([CURRENT, body, tmp_path / "manifest.json"])
    assert [w.countries["source_file"][0] for w in workbooks] == [
        "SIPRI-Milex-data-2014-2024.xlsx", "excel-export-POST.response.json!Value"]
    assert [w.release.is_portal_export for w in workbooks] == [False, True]
    plain = read_sipri_workbook(PREVIOUS, "x").countries.drop("source_file")
    assert workbooks[1].countries.drop("source_file").equals(plain)
    (tmp_path / "notes.csv").write_text("a")
    with pytest.raises(SourceFormatError, match="notes.csv"):
        read_sipri_snapshot([tmp_path / "notes.csv"])


@pytest.mark.parametrize("body, problem", [
    (b"{not json", "not a valid JSON"),
    (b'{"value": "UEsDBA=="}', "no string 'Value'"),
    (b'{"Value": "%%%not base64"}', "not valid base64"),
    (b'{"Value": "' + base64.b64encode(b"<html>busy</html>") + b'"}', "does not decode to an xlsx"),
])
def test_bad_portal_replies_fail(body, problem):
    with pytest.raises(SourceFormatError, match=problem) as err:
        read_sipri_workbook(body, "reply.json")
    assert "reply.json" in str(err.value)


def test_html_instead_of_a_workbook_fails():
    with pytest.raises(SourceFormatError, match="HTML"):
        read_sipri_workbook(b"<!DOCTYPE html><html>Maintenance</html>", "SIPRI-Milex-data-1949-2025.xlsx")


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


def test_stage_quarantines_negative_values_and_government_shares_over_100(tmp_path, reference):
    sheets = {
        "Share of GDP": country_sheet(["Kuwait", "", 1.17, 0.05, 0.04]),
        "Share of Govt. spending": country_sheet(["Kuwait", "", None, 1.2, 0.3, -0.1], labels=("Country", "Notes", "Reporting year")),
    }
    workbook = read_sipri_workbook(write_xlsx(tmp_path / "t.xlsx", sheets), "t.xlsx")
    countries, regional, quarantine = stage_sipri(workbook, *reference, snapshot_id="20250428T080000Z-abc")
    assert countries.schema == STAGED_COUNTRIES_SCHEMA and quarantine.schema == QUARANTINE_ROWS_SCHEMA
    assert sorted(quarantine.select("year", "reason").rows()) == [
        (2020, "share of government spending above 100"), (2022, "negative value")]
    kept = countries.filter(pl.col("measure") == "share_of_gdp", pl.col("year") == 2020)
    assert kept["value"][0] == pytest.approx(117.0, rel=1e-12)  # a share of GDP above 100 is left to validation
    assert set(countries["iso3"]) == {"KWT"} and set(countries["snapshot_id"]) == {"20250428T080000Z-abc"}
    assert countries.height + quarantine.height == workbook.countries.height and regional.height == 0
