"""SIPRI workbook parser on the bundled samples and on small workbooks written in tmp_path."""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.defense_spending.sipri import (
    COUNTRIES_SCHEMA,
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
