"""NATO tables workbook: the synthetic sample, broken variants of it, country resolution and staging."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import io
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.defense_spending.nato import (
    AGGREGATES_SCHEMA,
    COUNTRIES_SCHEMA,
    QUARANTINE_ROWS_SCHEMA,
    STAGED_AGGREGATES_SCHEMA,
    STAGED_COUNTRIES_SCHEMA,
    read_nato_workbook,
    resolve_nato_countries,
    stage_nato,
)
from transforms.errors import SourceFormatError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
SAMPLE = SAMPLES / "nato" / "240617-def-exp-2024-TABLES-en.xlsx"
NAME = SAMPLE.name
YEARS = list(range(2014, 2025))
# The 31 Allies with armed forces, as NATO spells them; Iceland appears only in TABLE5 and TABLE6.
SPENDERS = {
    "Albania", "Belgium", "Bulgaria", "Canada", "Croatia", "Czechia", "Denmark", "Estonia", "Finland", "France",
    "Germany", "Greece", "Hungary", "Italy", "Latvia", "Lithuania", "Luxembourg", "Montenegro", "Netherlands",
    "North Macedonia", "Norway", "Poland", "Portugal", "Romania", "Slovak Republic", "Slovenia", "Spain", "Sweden",
    "Türkiye", "United Kingdom", "United States",
}
STARRED = {"Czechia", "Estonia", "Latvia", "Lithuania", "Poland", "Romania"}  # the `*` in TABLE1-3


@pytest.fixture(scope="module")
def book():
    return read_nato_workbook(SAMPLE, NAME)


@pytest.fixture(scope="module")
def reference() -> tuple[pl.DataFrame, pl.DataFrame]:
    return load_country_aliases(), load_country_crosswalk()


@functools.lru_cache(maxsize=1)
def sample_book() -> openpyxl.Workbook:
    return openpyxl.load_workbook(SAMPLE)  # read only: tests must not edit it


def naive(sheet: str, rows: range, name_col: str = "C", first_col: int = 4) -> dict[tuple[str, int], float]:
    """Read a block cell by cell at NATO's fixed positions: {(name without * or currency, year): value}."""
    ws = sample_book()[sheet]
    out = {}
    for r in rows:
        name = ws[f"{name_col}{r}"].value.split("   (")[0].rstrip("*")
        for i, year in enumerate(YEARS):
            out[name, year] = ws.cell(r, first_col + i).value
    return out


def parsed(frame: pl.DataFrame, measure: str, key: str = "country_name") -> dict[tuple[str, int], float]:
    rows = frame.filter(pl.col("measure") == measure).select(key, "year", "value").iter_rows()
    return {(name, year): value for name, year, value in rows}


def variant(tmp_path: Path, edit) -> Path:
    """The sample with one edit applied, saved under the sample's name."""
    wb = openpyxl.load_workbook(SAMPLE)
    edit(wb)
    path = tmp_path / NAME
    wb.save(path)
    return path


def test_schemas_and_row_counts(book):
    assert book.countries.schema == COUNTRIES_SCHEMA and book.aggregates.schema == AGGREGATES_SCHEMA
    counts = dict(book.countries.group_by("measure").len().iter_rows())
    with_iceland = {"gdp_current_usd", "gdp_constant_usd", "gdp_per_capita_usd"}
    assert counts == {m: len(YEARS) * (32 if m in with_iceland else 31) for m in counts}
    assert len(counts) == 15
    assert set(book.countries.filter(pl.col("measure") == "share_of_gdp")["country_name"]) == SPENDERS
    assert book.countries["iso3"].null_count() == book.countries.height  # resolution is a separate step


@pytest.mark.parametrize(
    "sheet, rows, measure, factor, unit, name_col, first_col",
    [
        ("TABLE1", range(11, 42), "lcu_current", 1e6, "lcu", "C", 4),
        ("TABLE1", range(44, 75), "lcu_constant", 1e6, "lcu", "C", 4),
        ("TABLE2", range(11, 42), "current_usd", 1e6, "usd", "C", 4),
        ("TABLE2", range(45, 76), "constant_usd", 1e6, "usd", "C", 4),
        ("TABLE3", range(11, 42), "share_of_gdp", 1, "percent", "C", 4),
        ("TABLE3", range(45, 76), "real_change_pct", 1, "percent", "C", 4),
        ("TABLE5", range(11, 43), "gdp_current_usd", 1e6, "usd", "C", 4),
        ("TABLE6", range(11, 43), "gdp_per_capita_usd", 1e3, "usd", "C", 4),
        ("TABLE6", range(46, 77), "per_capita_usd", 1, "usd", "C", 4),
        ("TABLE7", range(23, 54), "armed_forces_personnel", 1e3, "persons", "D", 5),
        ("TABLE8a", range(11, 42), "equipment_share_pct", 1, "percent", "C", 4),
        ("TABLE8b", range(44, 75), "other_share_pct", 1, "percent", "C", 4),
    ],
)
def test_values_equal_a_naive_reading_converted_by_unit(book, sheet, rows, measure, factor, unit, name_col, first_col):
    expected = {k: v * factor for k, v in naive(sheet, rows, name_col, first_col).items()}
    assert parsed(book.countries, measure) == expected
    assert set(book.countries.filter(pl.col("measure") == measure)["unit"]) == {unit}
    assert set(book.countries.filter(pl.col("measure") == measure)["table"]) == {sheet}


def test_edition_and_skipped_error_cells(book):
    wb = sample_book()
    errors = sum(c.data_type == "e" for ws in wb for row in ws.iter_rows() for c in row)
    edition = book.edition
    assert (edition.edition_label, edition.first_year, edition.last_year) == ("NATO June 2024", 2014, 2024)
    assert (edition.estimate_years, edition.price_base_year, edition.file_name) == ((2023, 2024), 2015, NAME)
    assert errors == 30 and edition.skipped_errors == errors
    assert edition.skipped_rows == tuple(f"{s}!{r}" for s in ("TABLE1", "TABLE8a", "TABLE8b") for r in (42, 75))


def test_estimates_years_and_price_bases(book):
    frame = book.countries
    assert sorted(frame["year"].unique()) == YEARS
    assert frame.filter(pl.col("is_estimate"))["year"].unique().sort().to_list() == [2023, 2024]
    bases = dict(frame.group_by("measure").agg(pl.col("price_base_year").unique()).iter_rows())
    constant = {"lcu_constant", "constant_usd", "share_of_gdp", "real_change_pct", "gdp_constant_usd",
                "gdp_per_capita_usd", "per_capita_usd"}
    assert bases == {m: [2015] if m in constant else [None] for m in bases}


def test_star_is_a_property_of_the_ally_and_currency_comes_from_table1(book):
    frame = book.countries
    assert not frame["country_name"].str.contains(r"\*|\(").any()
    assert set(frame.filter(pl.col("has_national_2pct_law"))["country_name"]) == STARRED
    personnel = frame.filter(pl.col("measure") == "armed_forces_personnel")  # TABLE7 prints no stars
    assert set(personnel.filter(pl.col("has_national_2pct_law"))["country_name"]) == STARRED
    currencies = dict(frame.filter(pl.col("table") == "TABLE1").select("country_name", "currency").unique().iter_rows())
    assert [currencies[n] for n in ("Poland", "United States", "Romania")] == ["Zlotys", "US dollars", "New Lei"]
    assert frame.filter(pl.col("table") != "TABLE1")["currency"].is_null().all()


def test_iceland_only_in_gdp_tables_and_table4_not_parsed(book):
    iceland = book.countries.filter(pl.col("country_name") == "Iceland")
    assert set(iceland["measure"]) == {"gdp_current_usd", "gdp_constant_usd", "gdp_per_capita_usd"}
    assert "TABLE4" not in set(book.countries["table"]) | set(book.aggregates["table"])


def test_aggregates_are_separate_and_converted(book):
    agg = book.aggregates
    assert set(agg["aggregate_name"]) == {"NATO Europe and Canada", "NATO Total"}
    assert set(agg["table"]) == {"TABLE2", "TABLE3", "TABLE5", "TABLE6", "TABLE7"}  # TABLE1/8a/8b: #REF! only
    ws = sample_book()["TABLE2"]
    assert ws["B43"].value == "NATO Total"
    expected = {("NATO Total", y): ws.cell(43, 4 + i).value * 1e6 for i, y in enumerate(YEARS)}
    got = parsed(agg.filter(pl.col("aggregate_name") == "NATO Total"), "current_usd", "aggregate_name")
    assert got == expected
    assert not set(agg["aggregate_name"]) & set(book.countries["country_name"])


def test_path_and_bytes_give_the_same_frames(book):
    again = read_nato_workbook(SAMPLE.read_bytes(), NAME)
    assert again.countries.equals(book.countries) and again.aggregates.equals(book.aggregates)
    assert again.edition == book.edition


def test_header_rows_are_found_by_content(tmp_path, book):
    moved = read_nato_workbook(variant(tmp_path, lambda wb: wb["TABLE3"].insert_rows(1, 3)), NAME)
    assert parsed(moved.countries, "share_of_gdp") == parsed(book.countries, "share_of_gdp")


def _set(sheet: str, cell: str, value):
    def edit(wb):
        wb[sheet][cell] = value
    return edit


def _unmerged_set(sheet: str, merged: str, cell: str, value):
    def edit(wb):
        wb[sheet].unmerge_cells(merged)
        wb[sheet][cell] = value
    return edit


def test_missing_and_nil_markers_and_extra_errors(tmp_path, book):
    def edit(wb):
        wb["TABLE3"]["E12"] = ".."  # Belgium 2015: not available
        wb["TABLE8b"]["D19"] = "-"  # Finland 2014: nil
        wb["TABLE2"]["F13"] = "#DIV/0!"  # Bulgaria 2016: another cached error
        wb["TABLE5"]["G20"] = " 1234.5 "  # France 2017: a number stored as text
    out = read_nato_workbook(variant(tmp_path, edit), NAME)
    share = parsed(out.countries, "share_of_gdp")
    assert ("Belgium", 2015) not in share and len(share) == len(parsed(book.countries, "share_of_gdp")) - 1
    assert parsed(out.countries, "infrastructure_share_pct")["Finland", 2014] == 0.0
    assert ("Bulgaria", 2016) not in parsed(out.countries, "current_usd")
    assert parsed(out.countries, "gdp_current_usd")["France", 2017] == 1234.5e6
    assert out.edition.skipped_errors == book.edition.skipped_errors + 1


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (lambda wb: wb.remove(wb["TABLE6"]), ["TABLE6", "missing"]),
        (lambda wb: setattr(wb["TABLE3"], "title", "Table3"), ["TABLE3", "missing"]),
        (lambda wb: wb.remove(wb["TABLE4"]), ["TABLE4", "missing"]),
        (_set("TABLE2", "B44", "Constant 2015 prices and rates"), ["unknown block label", "TABLE2!B44"]),
        (_set("TABLE8a", "B10", "Equipment"), ["unknown block label", "TABLE8a!B10"]),
        (_set("TABLE3", "I8", "2O19"), ["year header", "TABLE3!I8"]),
        (_set("TABLE3", "E8", 2014), ["TABLE3", "increasing"]),
        (_set("TABLE5", "E20", "n/a"), ["non-numeric", "TABLE5!E20"]),
        (_set("TABLE7", "F30", "12,5"), ["non-numeric", "TABLE7!F30"]),
        (_set("TABLE2", "B6", "Billion euros"), ["unknown unit line", "TABLE2"]),
        (_set("TABLE2", "B6", "Million national currency units"), ["TABLE2", "usd"]),
        (_set("TABLE3", "B4", "Table 5 : GDP"), ["sheet TABLE3 holds", "Table 5"]),
        (_set("TABLE1", "D42", 123.0), ["TABLE1!D42", "no country or aggregate label"]),
        (_set("TABLE2", "D82", 5.0), ["among the footnotes", "TABLE2!D82"]),
        (_unmerged_set("TABLE2", "C80:N80", "D80", 5.0), ["among the footnotes", "TABLE2!D80"]),  # on "Notes:"
        (_set("TABLE1", "C11", "Albania"), ["TABLE1", "no currency"]),
        (_set("TABLE3", "C12", "Albania"), ["twice", "TABLE3"]),
        (_set("TABLE2", "B42", "Europe"), ["TABLE2", "not a NATO aggregate"]),
        (_set("TABLE2", "C11", "Albania (Leks)"), ["TABLE2", "unexpected parenthesis"]),
    ],
)
def test_bad_layouts_fail_naming_file_sheet_and_problem(tmp_path, edit, fragments):
    with pytest.raises(SourceFormatError) as caught:
        read_nato_workbook(variant(tmp_path, edit), NAME)
    assert caught.value.source == "nato" and caught.value.file == NAME
    for fragment in fragments:
        assert fragment in str(caught.value)


def _zip_of(name: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("\ufeffSpending,2014,2015\nUK defence spending,1.0,2.0\n".encode(), "not a NATO workbook: got text (CSV?)"),
        (b"<!DOCTYPE html><html><body>Access denied</body></html>", "got HTML/XML"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "legacy .xls"),
        (_zip_of("notes.txt", b"hello"), "not a readable .xlsx workbook"),
    ],
)
def test_files_that_are_not_nato_workbooks_fail_clearly(raw, fragment):
    with pytest.raises(SourceFormatError, match="not a") as caught:
        read_nato_workbook(raw, "230707-def-exp-2023-TABLES-en.csv")
    assert fragment in str(caught.value) and "230707-def-exp-2023-TABLES-en.csv" in str(caught.value)


def test_all_allies_resolve_iceland_included(book, reference):
    aliases, crosswalk = reference
    resolved = resolve_nato_countries(book.countries, aliases, crosswalk)
    assert resolved.columns == book.countries.columns and resolved.height == book.countries.height
    assert resolved["iso3"].null_count() == 0
    allies = set(crosswalk.filter(pl.col("nato_member_since").is_not_null())["iso3"])
    assert set(resolved["iso3"]) == allies and len(allies) == 32
    pairs = dict(resolved.select("country_name", "iso3").unique().iter_rows())
    assert (pairs["Türkiye"], pairs["Slovak Republic"], pairs["North Macedonia"], pairs["Iceland"]) == (
        "TUR", "SVK", "MKD", "ISL")


def test_stage_quarantines_impossible_negatives_only(book, reference):
    frame = book.countries.with_columns(
        value=pl.when((pl.col("country_name") == "Albania") & (pl.col("year") == 2016)
                      & pl.col("measure").is_in(["armed_forces_personnel", "share_of_gdp"]))
        .then(-pl.col("value")).otherwise(pl.col("value"))
    )
    countries, aggregates, quarantine = stage_nato(dataclasses.replace(book, countries=frame), *reference, "snap-1")
    assert (countries.schema, aggregates.schema) == (STAGED_COUNTRIES_SCHEMA, STAGED_AGGREGATES_SCHEMA)
    assert quarantine.schema == QUARANTINE_ROWS_SCHEMA
    assert sorted(quarantine.select("measure", "reason").iter_rows()) == [
        ("armed_forces_personnel", "negative armed_forces_personnel"), ("share_of_gdp", "negative share_of_gdp")]
    assert countries.height == book.countries.height - 2
    assert (countries.filter(pl.col("measure") == "real_change_pct")["value"] < 0).any()  # falls are real
    assert set(countries["snapshot_id"]) == set(aggregates["snapshot_id"]) == {"snap-1"}
    assert countries["iso3"].null_count() == 0


def test_generator_rewrites_the_sample_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_nato", SAMPLES / "generate_nato.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(tmp_path).read_bytes() == SAMPLE.read_bytes()


def test_release_columns_order_editions_by_month():
    from transforms.defense_spending.nato import NatoEdition, with_nato_release

    base = NatoEdition("NATO June 2024", 2014, 2024, (2023, 2024), 2015, "f.xlsx", 0, ())
    frame = pl.DataFrame({"value": [1.0]})
    june = with_nato_release(frame, base)
    march = with_nato_release(frame, dataclasses.replace(base, edition_label="NATO March 2024"))
    undated = with_nato_release(frame, dataclasses.replace(base, edition_label="NATO tables", last_year=2023))
    assert june["release"].item() == "NATO June 2024"
    assert (undated["release_sort"].item(), march["release_sort"].item(), june["release_sort"].item()) == (
        "2023", "2024-03", "2024-06")
