"""World Bank parsers and staging on the bundled synthetic samples and on broken copies of them."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from tests.zip_bombs import zip_bomb
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
from transforms.errors import SourceFormatError
from transforms.zip_member import ZipLimits

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples" / "worldbank"
API_FILES = sorted((SAMPLES / "api").glob("*.json"))
BULK_FILES = sorted((SAMPLES / "bulk").glob("*.zip"))
NATO = ("ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD NOR POL PRT "
        "ROU SVK SVN ESP SWE TUR GBR USA").split()
OTHERS = "RUS CHN UKR IND ISR IRN JPN KOR SAU BRA ZAF XKX AGO".split()
SAMPLE_AGGREGATES = {"WLD", "EUU", "NAC", "HIC", "INX"}
GDP = "MS.MIL.XPND.GD.ZS"


def known(codes=NATO + OTHERS) -> pl.DataFrame:
    return pl.DataFrame({"iso3": list(codes)}, schema={"iso3": pl.Utf8})


def member(indicator: str, prefix: str) -> tuple[str, bytes]:
    """(name, bytes) of the zip member starting with `prefix` in the sample zip of `indicator`."""
    with zipfile.ZipFile(SAMPLES / "bulk" / f"{indicator}.csv.zip") as archive:
        name = next(n for n in archive.namelist() if n.startswith(prefix))
        return name, archive.read(name)


def pages(stem: str) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in API_FILES if p.name.startswith(stem + ".page-")]


def rows_of(raw: bytes) -> list[list[str]]:
    """Independent reading with the stdlib csv module (preamble rows included)."""
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def wb_csv(rows: list[list[str]]) -> bytes:
    """Write rows back in the WB layout: BOM, all fields quoted, trailing comma, CRLF."""
    lines = []
    for row in rows:
        fields = row[:-1] if row and row[-1] == "" else row
        lines.append(",".join('"' + f.replace('"', '""') + '"' for f in fields) + ("," if fields else ""))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def set_cell(raw: bytes, code: str, column: str, text: str) -> bytes:
    rows = rows_of(raw)
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Country Name")
    row = next(r for r in rows if len(r) > 1 and r[1] == code)
    row[rows[header].index(column)] = text
    return wb_csv(rows)


def drop_column(raw: bytes, column: str) -> bytes:
    rows = rows_of(raw)
    at = next(r for r in rows if r and r[0] == "Country Name").index(column)
    return wb_csv([r[:at] + r[at + 1:] if len(r) > at + 1 else r for r in rows])


def page_doc(stem: str, number: int) -> list:
    return json.loads(dict(pages(stem))[f"{stem}.page-{number:03d}.json"])


def with_page(stem: str, number: int, doc) -> list[tuple[str, bytes]]:
    name = f"{stem}.page-{number:03d}.json"
    return [(n, json.dumps(doc).encode() if n == name else b) for n, b in pages(stem)]


def raises(call, *fragments: str, file: str | None = None) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        call()
    err = info.value
    assert err.source == "worldbank"
    if file is not None:
        assert err.file == file
    for fragment in fragments:
        assert fragment in str(err), (fragment, str(err))
    return err


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


# --- malformed bulk CSVs -------------------------------------------------------------------------


def header_edit(old: bytes, new: bytes):
    def edit(raw):
        head, rest = raw.split(b"\r\n", 5)[:5], raw.split(b"\r\n", 5)[5]
        head[4] = head[4].replace(old, new)
        return b"\r\n".join(head) + b"\r\n" + rest

    return edit


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (header_edit(b'"Country Code"', b'"Country ISO3"'), ["missing header column 'Country Code'"]),
        (lambda raw: drop_column(raw, "Indicator Name"), ["missing header column 'Indicator Name'"]),
        (header_edit(b'"2020"', b'"2020 [YR2020]"'), ["'2020 [YR2020]'"]),
        (lambda raw: raw.replace(b'"Country Name","Country Code"', b'"Name","Code"'), ["'Country Name' header"]),
        (lambda raw: raw.replace(GDP.encode(), b"MS.MIL.XPND.XX"), ["unknown indicator code 'MS.MIL.XPND.XX'"]),
        (lambda raw: set_cell(raw, "USA", "2020", "n/a"), ["'n/a'", "USA", "2020"]),
        (lambda raw: set_cell(raw, "FRA", "2019", "1,234.5"), ["'1,234.5'", "FRA", "2019"]),
        (lambda raw: set_cell(raw, "FRA", "2019", "NaN"), ["'NaN'", "FRA", "2019"]),
        (lambda raw: b"<!DOCTYPE html><html><body>Service unavailable</body></html>", ["HTML"]),
        (lambda raw: raw + next(line for line in raw.split(b"\r\n") if b'"USA"' in line) + b"\r\n",
         ["duplicate", "USA"]),
        (lambda raw: raw.replace(b'"Albania","ALB"', b'"Albania",""'), ["empty 'Country Code'"]),
        (lambda raw: raw.replace(b'",\r\n"Albania"', b'","9"\r\n"Albania"', 1), ["unnamed header column"]),
        (lambda raw: b"\xef\xbb\xbf" + raw[3:].replace(b"Albania", b"Alb\xe9nia"), ["not UTF-8"]),
    ],
    ids=["renamed", "dropped", "year-col", "no-header", "indicator", "n/a", "thousands", "nan", "html", "dup",
         "empty-code", "unnamed-value", "encoding"],
)
def test_bulk_csv_format_errors(edit, fragments):
    name, raw = member(GDP, "API_")
    raises(lambda: parse_worldbank_bulk_csv(edit(raw), "bad.csv"), *fragments, file="bad.csv")


def test_country_metadata_format_errors():
    name, raw = member(GDP, "Metadata_Country")
    raises(lambda: parse_worldbank_country_metadata_csv(raw.replace(b'"Region"', b'"Area"'), "m.csv"),
           "missing header column 'Region'", file="m.csv")
    raises(lambda: parse_worldbank_country_metadata_csv(raw + b'"ALB","X","Y","","Albania",\r\n', "m.csv"),
           "duplicate country code 'ALB'", file="m.csv")
    raises(lambda: parse_worldbank_country_metadata_csv(b"garbage\r\n", "m.csv"), "'Country Code' header")


# --- malformed API pages -------------------------------------------------------------------------


def test_api_page_format_errors():
    stem, first = GDP, f"{GDP}.page-001.json"
    message = {"id": "120", "key": "Invalid value", "value": "The provided parameter value is not valid"}
    error_reply = [{"message": [message]}]
    raises(lambda: parse_worldbank_api_pages(with_page(stem, 1, error_reply)), "120", "Invalid value", file=first)
    raises(lambda: parse_worldbank_api_pages(with_page(stem, 1, {"page": 1})), "[meta, rows]", file=first)
    raises(lambda: parse_worldbank_api_pages(with_page(stem, 1, [page_doc(stem, 1)[0]])), "[meta, rows]")
    html = b"<html><body>502 Bad Gateway</body></html>"
    raises(lambda: parse_worldbank_api_pages([(first, html)]), "HTML", file=first)
    raises(lambda: parse_worldbank_api_pages([(first, b'[{"page":1,')]), "not valid JSON", file=first)

    missing = [p for p in pages(stem) if "page-002" not in p[0]]
    raises(lambda: parse_worldbank_api_pages(missing), "pages [2] missing")
    raises(lambda: parse_worldbank_api_pages(pages(stem) + pages(stem)[:1]), "not exactly 1..")

    doc = page_doc(stem, 2)
    doc[0]["total"] += 1
    raises(lambda: parse_worldbank_api_pages(with_page(stem, 2, doc)), "total", file=f"{GDP}.page-002.json")
    doc = page_doc(stem, 3)
    del doc[1][0]
    raises(lambda: parse_worldbank_api_pages(with_page(stem, 3, doc)), "rows across 3 pages")
    doc = page_doc(stem, 1)
    doc[0]["per_page"] = "many"
    raises(lambda: parse_worldbank_api_pages(with_page(stem, 1, doc)), "'per_page'", file=first)


@pytest.mark.parametrize(
    "change, fragments",
    [
        (lambda row: row["indicator"].update(id="MS.MIL.XPND.XX"), ["unknown indicator code 'MS.MIL.XPND.XX'"]),
        (lambda row: row.update(value="12.5"), ["'12.5'", "non-numeric"]),
        (lambda row: row.update(date="2020Q1"), ["'2020Q1'"]),
        (lambda row: row.update(countryiso3code=""), ["no countryiso3code"]),
        (lambda row: row.pop("country"), ["lacks field 'country'"]),
    ],
    ids=["indicator", "string-value", "date", "no-iso3", "no-country"],
)
def test_api_row_errors(change, fragments):
    doc = page_doc(GDP, 3)
    row = next(r for r in doc[1] if r["value"] is not None and r["countryiso3code"] == "USA")
    change(row)
    err = raises(lambda: parse_worldbank_api_pages(with_page(GDP, 3, doc)), *fragments, file=f"{GDP}.page-003.json")
    if "value" in fragments[-1]:
        assert "USA" in str(err)


def test_api_duplicate_rows():
    doc = page_doc(GDP, 1)
    doc[1][1] = dict(doc[1][0])
    raises(lambda: parse_worldbank_api_pages(with_page(GDP, 1, doc)), "duplicate", doc[1][0]["countryiso3code"])


def test_api_countries_errors():
    doc = json.loads(pages("countries")[0][1])
    del doc[1][0]["region"]
    raises(lambda: parse_worldbank_api_countries([("countries.page-001.json", json.dumps(doc).encode())]),
           "lacks field 'region'", file="countries.page-001.json")


# --- snapshots: dispatch, zips, duplicates --------------------------------------------------------


def test_snapshot_accepts_loose_csvs_and_a_mix(tmp_path):
    for indicator in WORLDBANK_MEASURES:
        for prefix in ("API_", "Metadata_Country", "Metadata_Indicator"):
            name, raw = member(indicator, prefix)
            (tmp_path / name).write_bytes(raw)
    loose = read_worldbank_snapshot(sorted(tmp_path.iterdir()))
    zipped = read_worldbank_snapshot(BULK_FILES)
    assert loose[0].drop("source_file").equals(zipped[0].drop("source_file")) and loose[1].equals(zipped[1])
    mixed_files = [p for p in API_FILES if not p.name.startswith(GDP)] + [SAMPLES / "bulk" / f"{GDP}.csv.zip"]
    mixed = read_worldbank_snapshot(mixed_files)
    assert mixed[0].drop("source_file").equals(zipped[0].drop("source_file"))
    assert any("!" in f for f in mixed[0]["source_file"]) and any(f.endswith(".json") for f in mixed[0]["source_file"])


def test_duplicates_across_files_are_an_error():
    files = [p for p in API_FILES if p.name.startswith(GDP)] + [SAMPLES / "bulk" / f"{GDP}.csv.zip"]
    err = raises(lambda: read_worldbank_snapshot(files), "also in")
    assert ".csv.zip!API_" in str(err) and ".page-" in str(err)


def zip_of(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member_name, data in members.items():
            archive.writestr(member_name, data)
    return path


def test_snapshot_file_errors(tmp_path, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    raises(lambda: read_worldbank_snapshot([notes]), "not a World Bank file", file="notes.txt")

    data_name, data = member(GDP, "API_")
    odd = zip_of(tmp_path, "odd.zip", {data_name: data, "readme.txt": b"hi"})
    raises(lambda: read_worldbank_snapshot([odd]), "not a World Bank file", file="odd.zip!readme.txt")

    good = (SAMPLES / "bulk" / f"{GDP}.csv.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    raises(lambda: read_worldbank_snapshot([tmp_path / "cut.zip"]), "zip", file="cut.zip")
    (tmp_path / "page.zip").write_bytes(b"<!doctype html><title>Error</title>")
    raises(lambda: read_worldbank_snapshot([tmp_path / "page.zip"]), "HTML", file="page.zip")

    stored = tmp_path / "crc.zip"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(data_name, data)
    blob = bytearray(stored.read_bytes())
    at = bytes(blob).index(b'"Albania"')
    blob[at + 1] = ord("X")  # same length, wrong CRC
    stored.write_bytes(bytes(blob))
    raises(lambda: read_worldbank_snapshot([stored]), "corrupt", file=f"crc.zip!{data_name}")

    monkeypatch.setattr(wb, "_ZIP_LIMITS", ZipLimits(max_member_bytes=1000, max_total_bytes=10**6))
    raises(lambda: read_worldbank_snapshot([SAMPLES / "bulk" / f"{GDP}.csv.zip"]), "over the cap of 1000")


def test_bulk_zip_bombs_and_escaping_members_are_refused_naming_file_and_problem(tmp_path, monkeypatch):
    data_name, data = member(GDP, "API_")
    escaping = zip_of(tmp_path, "escape.zip", {f"../../{data_name}": data})
    raises(lambda: read_worldbank_snapshot([escaping]), "directory part", f"'../../{data_name}'", file="escape.zip")

    big = zip_bomb(tmp_path / "big.zip", data_name, 190 * 1024**2)  # under the old 200 MB cap
    dense = zip_bomb(tmp_path / "dense.zip", data_name, 20 * 1024**2)  # under the cap, but ~1000:1
    assert big.stat().st_size < 300_000
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("decompression started"))
    raises(lambda: read_worldbank_snapshot([big]), "declares 199229440 bytes", "over the cap", file="big.zip")
    raises(lambda: read_worldbank_snapshot([dense]), "compression ratio", "zip bomb", file="dense.zip")


def test_conflicting_aggregate_flags_across_files(tmp_path):
    name, raw = member(GDP, "Metadata_Country")
    (tmp_path / "Metadata_Country_a.csv").write_bytes(raw)
    (tmp_path / "Metadata_Country_b.csv").write_bytes(raw.replace(b'"WLD","",', b'"WLD","Earth",'))
    raises(lambda: read_worldbank_snapshot(sorted(tmp_path.iterdir())), "WLD", file="Metadata_Country_b.csv")
