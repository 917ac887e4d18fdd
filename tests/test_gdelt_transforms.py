"""GDELT 2.0 staging: export files and zips, file lists and slots, CAMEO lookups, FIPS resolution."""

from __future__ import annotations

import hashlib
import importlib.util
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.reference import load_cameo_event_codes
from tests.gdelt_rows import SAMPLES, GDELT_SAMPLES, SAMPLE_ZIPS, UTC, gdelt_row, export
from transforms.conflict_events.gdelt import (
    EXTRA_SCHEMA,
    GDELT_EVENT_COLUMNS,
    REJECTED_SCHEMA,
    read_gdelt_export,
    read_gdelt_export_zip,
)
from transforms.conflict_events.gdelt_files import FILE_LIST_SCHEMA, parse_gdelt_file_list
from transforms.conflict_events.schema import EVENT_COLUMNS
from transforms.errors import SourceFormatError

# --- the export file ------------------------------------------------------------------------------------

def test_sixty_one_columns_in_codebook_order():
    assert len(GDELT_EVENT_COLUMNS) == 61 == len(set(GDELT_EVENT_COLUMNS))
    assert GDELT_EVENT_COLUMNS[:2] == ("GLOBALEVENTID", "SQLDATE")
    assert GDELT_EVENT_COLUMNS[25:29] == ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode")
    assert GDELT_EVENT_COLUMNS[51:57] == ("ActionGeo_Type", "ActionGeo_FullName", "ActionGeo_CountryCode",
                                         "ActionGeo_ADM1Code", "ActionGeo_ADM2Code", "ActionGeo_Lat")
    assert GDELT_EVENT_COLUMNS[-2:] == ("DATEADDED", "SOURCEURL")


def test_one_row_conformed(crosswalk):
    events, rejected = read_gdelt_export(export(gdelt_row()), crosswalk, "20240601231500.export.CSV")
    assert rejected.is_empty() and rejected.schema == REJECTED_SCHEMA
    assert events.schema == pl.Schema({**EVENT_COLUMNS, **EXTRA_SCHEMA})
    row = events.row(0, named=True)
    assert row["event_id"] == "gdelt:1180000001" and row["source_event_id"] == "1180000001"
    assert (row["source"], row["source_kind"], row["date_precision"]) == ("gdelt", "media_coded", "day")
    assert row["event_date"] == row["event_date_end"] == datetime(2024, 6, 1).date()
    assert row["date_added"] == datetime(2024, 6, 1, 23, 15, tzinfo=UTC)
    assert (row["country_code_published"], row["iso3"], row["admin1"]) == ("UP", "UKR", "UP12")
    assert (row["latitude"], row["longitude"]) == (50.43, 30.52)
    assert (row["source_event_type"], row["source_sub_event_type"]) == ("02", "0211")
    assert (row["event_code"], row["event_base_code"], row["event_root_code"]) == ("0211", "021", "02")
    assert (row["actor1"], row["actor2"], row["actor1_code"], row["actor2_country_code"]) == (
        "WHITE HOUSE", "RUSSIA", "USAGOV", "RUS")
    assert row["fatalities_best"] is None and row["release"] is None and row["country_name"] is None
    assert row["is_root_event"] is True and row["quad_class"] == 1 and row["num_mentions"] == 4
    assert row["action_geo_feature_id"] == "-1044367" and row["source_file"] == "20240601231500.export.CSV"


def test_text_is_never_quoted_and_codes_keep_their_zeros(crosswalk):
    line = gdelt_row(EventCode="010", EventBaseCode="010", EventRootCode="01", QuadClass="1", GoldsteinScale="0.0",
                     Actor1Name='THE "GREEN" PARTY', ActionGeo_FeatureID="NY")
    events, _ = read_gdelt_export(export(line), crosswalk, "x.export.CSV")
    assert events.select("event_code", "event_root_code", "actor1", "action_geo_feature_id").row(0) == (
        "010", "01", 'THE "GREEN" PARTY', "NY")


@pytest.mark.parametrize("fields", [60, 62])
def test_wrong_column_count_names_the_file_and_line(crosswalk, fields):
    bad = "\t".join(gdelt_row().split("\t")[:fields] + [""] * max(0, fields - 61))
    data = export(gdelt_row(), bad, gdelt_row(GLOBALEVENTID="1180000003"))
    with pytest.raises(SourceFormatError, match=rf"20240601000000\.export\.CSV.*line 2 has {fields} .*expected 61"):
        read_gdelt_export(data, crosswalk, "20240601000000.export.CSV")


def test_lines_too_long_and_too_short_that_balance_out_are_still_caught(crosswalk):
    fields = gdelt_row().split("\t")
    data = export("\t".join(fields + ["extra"]), "\t".join(fields[:-1]))
    with pytest.raises(SourceFormatError, match="line 1 has 62"):
        read_gdelt_export(data, crosswalk, "x.export.CSV")


def test_path_input_and_empty_file(tmp_path, crosswalk):
    path = tmp_path / "20240601000000.export.CSV"
    path.write_bytes(export(gdelt_row()))
    events, _ = read_gdelt_export(path, crosswalk)
    assert events["source_file"].to_list() == ["20240601000000.export.CSV"]
    empty = tmp_path / "20240601001500.export.CSV"
    empty.write_bytes(b"")
    events, rejected = read_gdelt_export(empty, crosswalk)
    assert events.is_empty() and events.schema == pl.Schema({**EVENT_COLUMNS, **EXTRA_SCHEMA}) and rejected.is_empty()
    with pytest.raises(ValueError, match="file_name"):
        read_gdelt_export(b"x", crosswalk)


def test_geo_type_zero_has_no_coordinates_and_no_country(crosswalk):
    line = gdelt_row(ActionGeo_Type="0", ActionGeo_FullName="", ActionGeo_CountryCode="", ActionGeo_ADM1Code="",
                     ActionGeo_Lat="", ActionGeo_Long="", ActionGeo_FeatureID="")
    events, rejected = read_gdelt_export(export(line), crosswalk, "x.export.CSV")
    assert rejected.is_empty()
    assert events.select("latitude", "longitude", "iso3", "country_code_published", "location").row(0) == (
        None, None, None, None, None)


def test_fips_codes_resolve_and_no_country_codes_are_kept(crosswalk):
    lines = [
        gdelt_row(GLOBALEVENTID="1", ActionGeo_CountryCode="GZ"),
        gdelt_row(GLOBALEVENTID="2", ActionGeo_CountryCode="OS", ActionGeo_Type="1"),
        gdelt_row(GLOBALEVENTID="3", ActionGeo_CountryCode="UK"),
        gdelt_row(GLOBALEVENTID="4", ActionGeo_CountryCode="QQ"),
    ]
    events, rejected = read_gdelt_export(export(*lines), crosswalk, "x.export.CSV")
    assert events.select("source_event_id", "country_code_published", "iso3").rows() == [
        ("1", "GZ", "PSE"), ("2", "OS", None), ("3", "UK", "GBR")]
    assert rejected["reason"].to_list() == ["unknown FIPS country code 'QQ' in ActionGeo_CountryCode"]
    assert rejected["GLOBALEVENTID"].to_list() == ["4"] and rejected["line"].to_list() == [4]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"GLOBALEVENTID": "12x"}, "unreadable GLOBALEVENTID '12x'"),
        ({"GLOBALEVENTID": ""}, "unreadable GLOBALEVENTID ''"),
        ({"SQLDATE": "20241301"}, "unreadable SQLDATE '20241301'"),
        ({"DATEADDED": "2024060123"}, "unreadable DATEADDED '2024060123'"),
        ({"ActionGeo_Lat": "95.5"}, "ActionGeo_Lat 95.5 out of range"),
        ({"ActionGeo_Long": "-181"}, "ActionGeo_Long -181.0 out of range"),
        ({"ActionGeo_Lat": "north"}, "unreadable ActionGeo_Lat 'north'"),
        ({"QuadClass": "5"}, "QuadClass '5' not in 1..4"),
        ({"QuadClass": ""}, "QuadClass '' not in 1..4"),
        ({"GoldsteinScale": "12.5"}, "GoldsteinScale '12.5' unreadable or outside -10..10"),
        ({"GoldsteinScale": "big"}, "GoldsteinScale 'big' unreadable"),
        ({"ActionGeo_Type": "x"}, "unreadable ActionGeo_Type 'x'"),
    ],
)
def test_row_rules_quarantine_with_a_reason(crosswalk, values, reason):
    events, rejected = read_gdelt_export(export(gdelt_row(GLOBALEVENTID="7"), gdelt_row(**values)), crosswalk, "f")
    assert events.height == 1 and rejected.height == 1
    assert rejected["reason"][0].startswith(reason)
    assert rejected["source_file"][0] == "f" and rejected["line"][0] == 2


def test_out_of_range_coordinates_are_ignored_without_geography(crosswalk):
    line = gdelt_row(ActionGeo_Type="0", ActionGeo_CountryCode="", ActionGeo_Lat="999")
    events, rejected = read_gdelt_export(export(line), crosswalk, "f")
    assert rejected.is_empty() and events["latitude"].to_list() == [None]


def test_duplicate_global_event_id_keeps_the_first(crosswalk):
    data = export(gdelt_row(GLOBALEVENTID="5", Actor1Name="FIRST"), gdelt_row(GLOBALEVENTID="5", Actor1Name="SECOND"))
    events, rejected = read_gdelt_export(data, crosswalk, "f")
    assert events["actor1"].to_list() == ["FIRST"]
    assert rejected["reason"].to_list() == ["duplicate GLOBALEVENTID 5 (the first row is kept)"]


# --- the sample zips ----------------------------------------------------------------------------------

def member_lines(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    return [line.split("\t") for line in text.split("\n") if line]


@pytest.mark.parametrize("path", SAMPLE_ZIPS, ids=lambda p: p.name[:14])
def test_sample_zips_stage_completely(crosswalk, path):
    events, rejected = read_gdelt_export_zip(path, crosswalk)
    lines = member_lines(path)
    assert rejected.is_empty() and events.height == len(lines)
    ids = events["global_event_id"]
    assert ids.to_list() == list(range(ids.min(), ids.min() + events.height))
    assert events["source_file"].unique().to_list() == [path.name]
    zeros = sum(1 for r in lines if r[26].startswith("0"))
    assert events.filter(pl.col("event_code").str.starts_with("0")).height == zeros
    no_geo = events.filter(pl.col("action_geo_type") == 0)
    assert no_geo.height and no_geo["latitude"].is_null().all() and no_geo["longitude"].is_null().all()
    stamp = datetime.strptime(path.name[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert events["date_added"].unique().to_list() == [stamp]


def test_samples_cover_the_quirks(crosswalk):
    staged = pl.concat([read_gdelt_export_zip(p, crosswalk)[0] for p in SAMPLE_ZIPS])
    assert len(SAMPLE_ZIPS) == 6 and 38 * 6 <= staged.height <= 42 * 6
    assert {"OS", "GZ", "WE", "US", "UK", "IS"} <= set(staged["country_code_published"].drop_nulls())
    assert staged.filter(pl.col("country_code_published") == "OS")["iso3"].is_null().all()
    assert (staged["event_date"] < staged["date_added"].dt.date()).any()
    assert staged["location"].str.contains("São Paulo").any()
    codes = load_cameo_event_codes().select("code", "quad_class", "goldstein_scale")
    joined = staged.join(codes, left_on="event_code", right_on="code", how="left")
    assert (joined["quad_class"] == joined["quad_class_right"]).all()


def test_sample_generator_is_deterministic_and_up_to_date(tmp_path):
    spec = importlib.util.spec_from_file_location("gen", SAMPLES / "generate_conflict_acled_gdelt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written and all((SAMPLES / p).read_bytes() == (tmp_path / p).read_bytes() for p in written), \
        "run `python data/samples/generate_conflict_acled_gdelt.py` and commit the samples"


# --- file lists and slots -----------------------------------------------------------------------------

def test_sample_file_lists_match_the_shipped_zips():
    master = parse_gdelt_file_list((GDELT_SAMPLES / "masterfilelist.txt").read_text(), "masterfilelist.txt")
    assert master.schema == FILE_LIST_SCHEMA
    assert master["kind"].value_counts().sort("kind").rows() == [("export", 6), ("gkg", 6), ("mentions", 6)]
    exports = master.filter(pl.col("kind") == "export")
    assert exports["file_name"].to_list() == [p.name for p in SAMPLE_ZIPS]
    for row in exports.iter_rows(named=True):
        blob = (GDELT_SAMPLES / row["file_name"]).read_bytes()
        assert (row["size"], row["md5"]) == (len(blob), hashlib.md5(blob).hexdigest())
        assert row["url"].endswith("/" + row["file_name"])
    assert master.filter(pl.col("kind") == "gkg")["file_name"].str.ends_with(".gkg.csv.zip").all()
    last = parse_gdelt_file_list((GDELT_SAMPLES / "lastupdate.txt").read_bytes(), "lastupdate.txt")
    assert last.height == 3 and last["timestamp"].unique().to_list() == [datetime(2024, 6, 2, 0, 30, tzinfo=UTC)]


def test_file_list_parses_sizes_hashes_and_case():
    text = (
        "150383 297A16B493DE7CF6CA809A7CC31D0B93 http://example.org/gdeltv2/20150218230000.export.CSV.zip\r\n"
        "10768507 ea8dde0beb0ba98810a92db068c0ce99 http://example.org/gdeltv2/20150218230000.gkg.csv.zip\r\n\r\n"
    )
    parsed = parse_gdelt_file_list(text, "lastupdate.txt")
    assert parsed.select("size", "md5", "kind").rows() == [
        (150383, "297a16b493de7cf6ca809a7cc31d0b93", "export"), (10768507, "ea8dde0beb0ba98810a92db068c0ce99", "gkg")]
    assert parsed["timestamp"][0] == datetime(2015, 2, 18, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        "150383 http://example.org/20150218230000.export.CSV.zip",  # md5 lost
        "x 297a16b493de7cf6ca809a7cc31d0b93 http://example.org/20150218230000.export.CSV.zip",
        "150383 297a16b493de7cf6ca809a7cc31d0b93 http://example.org/20150218230000.events.CSV.zip",
        "150383 297a16b493de7cf6ca809a7cc31d0b93 http://example.org/20151318230000.export.CSV.zip",  # month 13
    ],
)
def test_malformed_list_line_names_its_number(bad):
    good = "1 297a16b493de7cf6ca809a7cc31d0b93 http://example.org/20150218230000.export.CSV.zip"
    with pytest.raises(SourceFormatError, match=r"masterfilelist\.txt.*line 3:"):
        parse_gdelt_file_list(f"{good}\n{good}\n{bad}\n", "masterfilelist.txt")
