"""World Bank parsers and staging on the bundled synthetic samples."""

from __future__ import annotations

import csv
import importlib.util
import io
import re

import polars as pl
import pytest

from transforms.defense_spending import worldbank as wb
from transforms.defense_spending.worldbank import (
    WORLDBANK_AGGREGATE_CODES,
    WORLDBANK_MEASURES,
    parse_worldbank_api_countries,
    parse_worldbank_api_pages,
    parse_worldbank_bulk_csv,
    parse_worldbank_country_metadata_csv,
    read_worldbank_snapshot,
    stage_worldbank,
)
from tests.worldbank_samples import (
    API_FILES,
    BULK_FILES,
    GDP,
    NATO,
    OTHERS,
    REPO,
    SAMPLE_AGGREGATES,
    SAMPLES,
    known,
    member,
    page_doc,
    pages,
    rows_of,
    set_cell,
    with_page,
)


@pytest.fixture(scope="module")
def api_snapshot():
    return read_worldbank_snapshot(API_FILES)


@pytest.fixture(scope="module")
def bulk_snapshot():
    return read_worldbank_snapshot(BULK_FILES)


# --- the samples ---------------------------------------------------------------------------------


def test_measures_and_aggregate_codes():
    assert WORLDBANK_MEASURES == {
        "MS.MIL.XPND.GD.ZS": ("share_of_gdp", "percent"),
        "MS.MIL.XPND.CD": ("current_usd", "usd"),
        "MS.MIL.XPND.ZS": ("share_of_government_spending", "percent"),
        "MS.MIL.TOTL.P1": ("armed_forces_personnel", "persons"),
    }
    assert len(WORLDBANK_AGGREGATE_CODES) == 49 and {"INX", "WLD", "EUU", "OED"} <= WORLDBANK_AGGREGATE_CODES
    assert not WORLDBANK_AGGREGATE_CODES & set(NATO + OTHERS)


def test_samples_are_what_the_generator_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_wb", REPO / "data" / "samples" / "generate_worldbank.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    written = generator.generate(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in written) == sorted(
        p.relative_to(SAMPLES) for p in API_FILES + BULK_FILES
    )
    for path in written:
        assert path.read_bytes() == (SAMPLES / path.relative_to(tmp_path)).read_bytes(), path


def test_samples_layout_is_bulk_faithful():
    name, raw = member(GDP, "API_")
    assert name.startswith(f"API_{GDP}_DS2_en_csv_v2_") and raw.startswith(b"\xef\xbb\xbf\"Data Source\"")
    lines = raw.split(b"\r\n")
    assert lines[1] == b"" and lines[3] == b"" and lines[4].startswith(b'"Country Name"')
    assert all(line.endswith(b",") for line in lines[4:-1]) and lines[-1] == b""
    metadata = rows_of(member(GDP, "Metadata_Country")[1])
    codes = {r[0] for r in metadata[1:]}
    assert "INX" not in codes and {r[0] for r in metadata[1:] if r[1] == ""} == SAMPLE_AGGREGATES - {"INX"}
    assert "INX" in {r[1] for r in rows_of(raw)[5:]}
    assert len(pages(GDP)) >= 2


def test_both_formats_stage_identically(api_snapshot, bulk_snapshot):
    (api_obs, api_meta), (bulk_obs, bulk_meta) = api_snapshot, bulk_snapshot
    assert api_obs.schema == wb.OBSERVATION_SCHEMA == bulk_obs.schema
    assert set(api_obs["indicator_code"]) == set(WORLDBANK_MEASURES)
    assert api_obs.drop("source_file").equals(bulk_obs.drop("source_file"))
    assert api_meta.equals(bulk_meta) and api_meta.schema == wb.COUNTRY_METADATA_SCHEMA
    staged_api = stage_worldbank(api_obs, api_meta, known(), "snap-1")
    staged_bulk = stage_worldbank(bulk_obs, bulk_meta, known(), "snap-1")
    schemas = (wb.COUNTRIES_SCHEMA, wb.AGGREGATES_SCHEMA, wb.QUARANTINE_ROWS_SCHEMA)
    for a, b, schema in zip(staged_api, staged_bulk, schemas):
        assert a.schema == schema == b.schema
        assert a.drop("source_file").equals(b.drop("source_file"))
    countries, aggregates, quarantine = staged_api
    assert countries.height > 1000 and aggregates.height > 100 and quarantine.is_empty()
    assert countries.height + aggregates.height == api_obs.height
    assert countries["is_estimate"].null_count() == countries.height  # samples carry no obs_status flags
    assert set(countries["snapshot_id"]) == {"snap-1"}


def test_sample_coverage(bulk_snapshot):
    countries, aggregates, _ = stage_worldbank(*bulk_snapshot, known(), "s")
    spending = countries.filter(pl.col("indicator_code") == GDP)
    assert set(spending["iso3"]) == set(NATO + OTHERS) - {"ISL"}
    assert "ISL" not in set(countries["country_code"])
    assert countries["year"].min() >= 2014 and countries["year"].max() == 2024
    assert set(aggregates["aggregate_code"]) == SAMPLE_AGGREGATES
    per_country = spending.group_by("country_code").len()
    assert per_country["len"].min() < 11  # some gaps


def test_bulk_values_equal_an_independent_csv_reading():
    for indicator in WORLDBANK_MEASURES:
        name, raw = member(indicator, "API_")
        parsed = parse_worldbank_bulk_csv(raw, name)
        rows = rows_of(raw)
        header = rows[4]
        expected = {(r[1], int(header[i])): float(v) for r in rows[5:] for i, v in enumerate(r[4:-1], 4) if v}
        got = {(c, y): v for c, y, v in parsed.select("country_code", "year", "value").iter_rows()}
        assert got == expected and parsed.height == len(expected)
        assert parsed["obs_status"].null_count() == parsed.height and set(parsed["source_file"]) == {name}


def test_scientific_notation():
    name, raw = member(GDP, "API_")
    text = next(c for r in rows_of(raw) if len(r) > 1 and r[1] == "AGO" for c in r if "E-" in c)
    parsed = parse_worldbank_bulk_csv(raw, name)
    assert float(text) in parsed.filter(pl.col("country_code") == "AGO")["value"].to_list()
    edited = parse_worldbank_bulk_csv(set_cell(raw, "USA", "2020", "8.5E+11"), name)
    assert edited.filter(pl.col("country_code") == "USA", pl.col("year") == 2020)["value"].item() == 8.5e11


@pytest.mark.parametrize(
    "variant",
    [
        lambda raw: raw[3:],  # no BOM
        lambda raw: raw.replace(b"\r\n", b"\n"),  # LF
        lambda raw: b"\xef\xbb\xbf" + raw.split(b"\r\n", 4)[4],  # no preamble
        lambda raw: raw.split(b"\r\n", 4)[4].replace(b"\r\n", b"\n"),  # no BOM, no preamble, LF
    ],
    ids=["no-bom", "lf", "no-preamble", "bare"],
)
def test_layout_variants_parse_alike(variant):
    name, raw = member(GDP, "API_")
    original, varied = parse_worldbank_bulk_csv(raw, name), parse_worldbank_bulk_csv(variant(raw), name)
    assert varied.drop("last_updated").equals(original.drop("last_updated"))
    stated = re.search(rb'"Last Updated Date","([0-9-]+)"', raw).group(1).decode()
    assert set(original["last_updated"]) == {stated}
    # Only the preamble states the release date; a file cut to its header cannot know it.
    assert set(varied["last_updated"]) == ({stated} if b"Last Updated" in variant(raw) else {None})


def test_excel_resave_release_date_is_normalised():
    name, raw = member(GDP, "API_")
    resaved = re.sub(rb'"Last Updated Date","[0-9-]+",', b"Last Updated Date,3/1/2023,,", raw)
    assert set(parse_worldbank_bulk_csv(resaved, name)["last_updated"]) == {"2023-03-01"}


def test_excel_resave_unquoted_without_trailing_column():
    name, raw = member("MS.MIL.XPND.CD", "API_")
    rows = rows_of(raw)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # minimal quoting: only "Korea, Rep." etc.
    width = len(rows[4]) - 1
    for row in rows:
        row = row[:width] if row and row[-1] == "" else row
        writer.writerow(row + [""] * (width - len(row)))  # Excel pads preamble lines with commas
    edited = ("\ufeff" + out.getvalue()).encode()
    assert b'"Albania"' not in edited and b'"Korea, Rep."' in edited
    assert parse_worldbank_bulk_csv(edited, name).equals(parse_worldbank_bulk_csv(raw, name))


def test_country_metadata_csv_and_api_countries_agree():
    name, raw = member(GDP, "Metadata_Country")
    from_csv = parse_worldbank_country_metadata_csv(raw, name)
    from_api = parse_worldbank_api_countries(pages("countries"))
    assert from_csv.equals(from_api)
    assert set(from_csv.filter(pl.col("is_aggregate"))["country_code"]) == SAMPLE_AGGREGATES - {"INX"}
    assert from_csv.filter(pl.col("is_aggregate"))["region"].null_count() == 4
    assert from_csv.filter(pl.col("country_code") == "XKX")["region"].item() == "Europe & Central Asia"


def test_aggregates_split_inx_included_with_and_without_metadata(bulk_snapshot):
    observations, metadata = bulk_snapshot
    assert "INX" not in set(metadata["country_code"])
    name, raw = member("MS.MIL.XPND.CD", "API_")
    lone = parse_worldbank_bulk_csv(raw, name)  # a lone data CSV: no metadata at all
    no_meta = pl.DataFrame(schema=wb.COUNTRY_METADATA_SCHEMA)
    for obs, meta in ((observations, metadata), (lone, no_meta)):
        countries, aggregates, _ = stage_worldbank(obs, meta, known(), "s")
        assert "INX" in set(aggregates["aggregate_code"])
        assert not set(countries["country_code"]) & SAMPLE_AGGREGATES
        assert countries.height + aggregates.height == obs.height


def test_metadata_overrides_the_constant_list(bulk_snapshot):
    observations, metadata = bulk_snapshot
    meta = metadata.with_columns(
        is_aggregate=pl.when(pl.col("country_code") == "EUU").then(False).otherwise(pl.col("is_aggregate"))
    )
    countries, aggregates, _ = stage_worldbank(observations, meta, known(), "s")
    assert "EUU" in set(countries["country_code"]) and "EUU" not in set(aggregates["aggregate_code"])
    assert countries.filter(pl.col("country_code") == "EUU")["iso3"].null_count() > 0


def test_unknown_country_code_kept_with_null_iso3(bulk_snapshot):
    observations, metadata = bulk_snapshot
    countries, _, _ = stage_worldbank(observations, metadata, known([c for c in NATO + OTHERS if c != "XKX"]), "s")
    kosovo = countries.filter(pl.col("country_code") == "XKX")
    assert kosovo.height == observations.filter(pl.col("country_code") == "XKX").height > 0
    assert kosovo["iso3"].null_count() == kosovo.height
    assert countries.filter(pl.col("country_code") != "XKX")["iso3"].null_count() == 0


def test_quarantine_reasons():
    def obs(code, indicator, year, value):
        return (code, code, indicator, year, value, None, None, "f.csv")

    rows = [
        obs("USA", "MS.MIL.XPND.CD", 2020, -1.0),
        obs("USA", "MS.MIL.TOTL.P1", 2020, -5.0),
        obs("USA", GDP, 2020, 100.5),  # possible in wartime: kept for the suite's reviewed exceptions
        obs("USA", "MS.MIL.XPND.ZS", 2020, 101.0),
        obs("FRA", GDP, 2020, 100.0),  # the limit itself is allowed
        obs("FRA", "MS.MIL.XPND.CD", 2020, 250.0),  # not a percent
        obs("FRA", "MS.MIL.TOTL.P1", 2020, 0.0),
    ]
    frame = pl.DataFrame(rows, schema=wb.OBSERVATION_SCHEMA, orient="row")
    countries, _, quarantine = stage_worldbank(frame, pl.DataFrame(schema=wb.COUNTRY_METADATA_SCHEMA), known(), "s")
    reasons = {(r["indicator_code"], r["reason"]) for r in quarantine.iter_rows(named=True)}
    assert reasons == {
        ("MS.MIL.XPND.CD", "negative value"),
        ("MS.MIL.TOTL.P1", "negative value"),
        ("MS.MIL.XPND.ZS", "share of government spending above 100"),
    }
    assert set(countries["country_code"]) == {"FRA", "USA"} and countries.height == 4
    assert quarantine.drop("reason").schema == countries.schema


def test_obs_status_becomes_is_estimate():
    doc = page_doc(GDP, 1)
    valued = [r for r in doc[1] if r["value"] is not None and r["countryiso3code"] in NATO]
    valued[0]["obs_status"], valued[1]["obs_status"] = "E", "F"
    frame = parse_worldbank_api_pages(with_page(GDP, 1, doc))
    countries, _, _ = stage_worldbank(frame, pl.DataFrame(schema=wb.COUNTRY_METADATA_SCHEMA), known(), "s")
    flags = {(r["country_code"], str(r["year"])): r["is_estimate"] for r in countries.iter_rows(named=True)}
    assert flags[valued[0]["countryiso3code"], valued[0]["date"]] is True
    assert flags[valued[1]["countryiso3code"], valued[1]["date"]] is False
    assert sum(v is None for v in flags.values()) == len(flags) - 2
    assert set(frame["obs_status"].drop_nulls()) == {"E", "F"}
