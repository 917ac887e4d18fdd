"""World Bank files that are not what they should be: every error names the source, the file and the problem."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.zip_bombs import zip_bomb
from transforms.defense_spending import worldbank as wb
from transforms.defense_spending.worldbank import (
    WORLDBANK_MEASURES,
    parse_worldbank_api_countries,
    parse_worldbank_api_pages,
    parse_worldbank_bulk_csv,
    parse_worldbank_country_metadata_csv,
    read_worldbank_snapshot,
)
from transforms.zip_member import ZipLimits
from tests.worldbank_samples import (
    API_FILES,
    BULK_FILES,
    GDP,
    SAMPLES,
    drop_column,
    member,
    page_doc,
    pages,
    raises,
    set_cell,
    with_page,
)


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
