"""GDELT 2.0 staging: export files and zips, file lists and slots, CAMEO lookups, FIPS resolution."""

from __future__ import annotations

import hashlib
import importlib.util
import struct
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.lib.reference import load_cameo_event_codes
from transforms.conflict_events.cameo import (
    EVENTCODES_SCHEMA,
    build_cameo_eventcodes,
    quad_class_for_root,
    read_cameo_lookup,
)
from transforms.conflict_events.gdelt import (
    EXTRA_SCHEMA,
    GDELT_EVENT_COLUMNS,
    REJECTED_SCHEMA,
    read_gdelt_export,
    read_gdelt_export_zip,
    read_gdelt_export_zips,
)
from transforms.conflict_events.gdelt_files import (
    FILE_LIST_SCHEMA,
    parse_gdelt_file_list,
    read_single_member_zip,
)
from transforms.conflict_events.schema import EVENT_COLUMNS
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_codes
from transforms.reference.country_crosswalk import combine_fips_codes

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
GDELT_SAMPLES = SAMPLES / "gdelt"
SAMPLE_ZIPS = sorted(GDELT_SAMPLES.glob("*.export.CSV.zip"))
UTC = timezone.utc


def gdelt_row(**values: str) -> str:
    """One export line: a plausible event, with `values` (column name -> text) replacing fields."""
    base = dict.fromkeys(GDELT_EVENT_COLUMNS, "")
    base.update({
        "GLOBALEVENTID": "1180000001", "SQLDATE": "20240601", "MonthYear": "202406", "Year": "2024",
        "FractionDate": "2024.4164", "Actor1Code": "USAGOV", "Actor1Name": "WHITE HOUSE", "Actor1CountryCode": "USA",
        "Actor1Type1Code": "GOV", "Actor2Code": "RUS", "Actor2Name": "RUSSIA", "Actor2CountryCode": "RUS",
        "IsRootEvent": "1", "EventCode": "0211", "EventBaseCode": "021", "EventRootCode": "02", "QuadClass": "1",
        "GoldsteinScale": "3.4", "NumMentions": "4", "NumSources": "1", "NumArticles": "4",
        "AvgTone": "-1.25", "ActionGeo_Type": "4", "ActionGeo_FullName": "Kyiv, Kyyiv, Misto, Ukraine",
        "ActionGeo_CountryCode": "UP", "ActionGeo_ADM1Code": "UP12", "ActionGeo_Lat": "50.43",
        "ActionGeo_Long": "30.52", "ActionGeo_FeatureID": "-1044367", "DATEADDED": "20240601231500",
        "SOURCEURL": "https://news.example.org/a",
    })
    unknown = set(values) - set(GDELT_EVENT_COLUMNS)
    assert not unknown, unknown
    base.update(values)
    return "\t".join(base[c] for c in GDELT_EVENT_COLUMNS)


def export(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


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


# --- zip safety ---------------------------------------------------------------------------------------

def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def patch_declared_size(path: Path, size: int) -> None:
    """Rewrite the uncompressed size in the local header and the central directory (a lying header)."""
    blob = bytearray(path.read_bytes())
    local = blob.index(b"PK\x03\x04")
    struct.pack_into("<I", blob, local + 22, size)
    central = blob.index(b"PK\x01\x02")
    struct.pack_into("<I", blob, central + 24, size)
    path.write_bytes(bytes(blob))


def test_zip_with_the_expected_member_reads(tmp_path, crosswalk):
    path = make_zip(tmp_path / "20240601000000.export.CSV.zip", {"20240601000000.export.CSV": export(gdelt_row())})
    events, _ = read_gdelt_export_zip(path, crosswalk)
    assert events["source_file"].to_list() == ["20240601000000.export.CSV.zip"]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../20240601000000.export.CSV": b"x"}, "directory part"),
        ({"/tmp/20240601000000.export.CSV": b"x"}, "directory part"),
        ({"sub/20240601000000.export.CSV": b"x"}, "directory part"),
        ({"20240601000000.export.CSV": b"x", "20240601001500.export.CSV": b"y"}, "exactly one member, found 2"),
        ({}, "exactly one member, found 0"),
        ({"20240601001500.export.CSV": b"x"}, "not the expected '20240601000000.export.CSV'"),
        ({"evil.sh": b"x"}, "not the expected"),
    ],
)
def test_unsafe_or_unexpected_members_are_refused(tmp_path, crosswalk, members, message):
    path = make_zip(tmp_path / "20240601000000.export.CSV.zip", members)
    with pytest.raises(SourceFormatError, match=message) as caught:
        read_gdelt_export_zip(path, crosswalk)
    assert "20240601000000.export.CSV.zip" in str(caught.value)


def test_many_zips_read_together_equal_each_read_alone(tmp_path, crosswalk):
    # the same id in two files is two events; repeated within a file, the second row is quarantined
    first = make_zip(tmp_path / "20240601000000.export.CSV.zip", {"20240601000000.export.CSV": export(
        gdelt_row(GLOBALEVENTID="5"), gdelt_row(GLOBALEVENTID="5", Actor1Name="AGAIN"), gdelt_row(QuadClass="9"))})
    empty = make_zip(tmp_path / "20240601001500.export.CSV.zip", {"20240601001500.export.CSV": b""})
    rejected_only = make_zip(tmp_path / "20240601003000.export.CSV.zip",
                             {"20240601003000.export.CSV": export(gdelt_row(SQLDATE="2024"))})
    last = make_zip(tmp_path / "20240601004500.export.CSV.zip", {"20240601004500.export.CSV": export(
        gdelt_row(GLOBALEVENTID="5"), gdelt_row(GLOBALEVENTID="6", ActionGeo_CountryCode="QQ"))})
    paths = [first, empty, rejected_only, last]
    together = read_gdelt_export_zips(paths, crosswalk)
    for path, (events, rejected) in zip(paths, together, strict=True):
        alone_events, alone_rejected = read_gdelt_export_zip(path, crosswalk)
        assert_frame_equal(events, alone_events)
        assert_frame_equal(rejected, alone_rejected)
    assert [e.height for e, _ in together] == [1, 0, 0, 1]
    assert [r["line"].to_list() for _, r in together] == [[2, 3], [], [1], [2]]


def test_a_bad_zip_among_many_names_itself(tmp_path, crosswalk):
    good = make_zip(tmp_path / "20240601000000.export.CSV.zip", {"20240601000000.export.CSV": export(gdelt_row())})
    bad = make_zip(tmp_path / "20240601001500.export.CSV.zip",
                   {"20240601001500.export.CSV": export(gdelt_row(), gdelt_row() + "\textra")})
    with pytest.raises(SourceFormatError, match=r"20240601001500\.export\.CSV\.zip.*line 2 has 62"):
        read_gdelt_export_zips([good, bad], crosswalk)


def test_not_a_zip_is_refused(tmp_path, crosswalk):
    path = tmp_path / "20240601000000.export.CSV.zip"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(SourceFormatError, match="not a readable zip"):
        read_gdelt_export_zip(path, crosswalk)


def test_zip_bomb_is_refused_before_decompressing(tmp_path, crosswalk, monkeypatch):
    path = make_zip(tmp_path / "20240601000000.export.CSV.zip", {"20240601000000.export.CSV": bytes(20_000_000)})
    assert path.stat().st_size < 100_000  # 20 MB of zeros, ~20 KB on disk
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("decompression started"))
    with pytest.raises(SourceFormatError, match="compression ratio of .* over the bound"):
        read_gdelt_export_zip(path, crosswalk)


def test_declared_size_over_the_cap_is_refused(tmp_path, crosswalk, monkeypatch):
    path = make_zip(tmp_path / "20240601000000.export.CSV.zip", {"20240601000000.export.CSV": export(gdelt_row())})
    with pytest.raises(SourceFormatError, match="over the cap of 100"):
        read_gdelt_export_zip(path, crosswalk, max_uncompressed_bytes=100)
    patch_declared_size(path, 3_000_000_000)  # a header claiming 3 GB, refused on the default cap
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("decompression started"))
    with pytest.raises(SourceFormatError, match="declares 3000000000 bytes uncompressed"):
        read_gdelt_export_zip(path, crosswalk)


def test_stream_longer_than_declared_is_refused(tmp_path):
    data = export(*(gdelt_row(GLOBALEVENTID=str(i)) for i in range(50)))
    path = make_zip(tmp_path / "20240601000000.export.CSV.zip", {"20240601000000.export.CSV": data})
    compressed = zipfile.ZipFile(path).infolist()[0].compress_size
    patch_declared_size(path, compressed * 2)  # plausible ratio, but the stream is far longer
    with pytest.raises(SourceFormatError, match="corrupt|past its declared size"):
        read_single_member_zip(path, r"\d{14}\.export\.CSV")


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


# --- CAMEO lookups ------------------------------------------------------------------------------------

def write_lookup(path: Path, header: str, *lines: str, newline: str = "\r\n") -> Path:
    path.write_bytes(newline.join([header, *lines, ""]).encode("utf-8"))
    return path


def test_glued_eventcodes_line_is_split_and_its_goldstein_fills_the_gap(tmp_path):
    events = read_cameo_lookup(write_lookup(
        tmp_path / "CAMEO.eventcodes.txt", "CAMEOEVENTCODE\tEVENTDESCRIPTION",
        "10\tDEMAND", "105\tDemand mediation",
        "1056\tDemand de-escalation of military engagement106:[-5.0] Demand withdrawal",
        "107\tDemand ceasefire", "14\tPROTEST", "1451\tProtest violently, riot1452:[-7.5] Engage in violent protest",
    ), "eventcodes")
    assert events.rows() == [
        ("10", "DEMAND", None), ("105", "Demand mediation", None),
        ("1056", "Demand de-escalation of military engagement", None), ("106", "Demand withdrawal", -5.0),
        ("107", "Demand ceasefire", None), ("14", "PROTEST", None),
        ("1451", "Protest violently, riot", None), ("1452", "Engage in violent protest", -7.5),
    ]
    goldstein = read_cameo_lookup(write_lookup(
        tmp_path / "CAMEO.goldsteinscale.txt", "CAMEOEVENTCODE\tGOLDSTEINSCALE",
        "10\t-5.0", "105\t-5.0", "1056\t-5.0", "107\t-5.0", "14\t-6.5", "1451\t-7.5", "1452\t-7.5", newline="\n",
    ), "goldsteinscale")
    table = build_cameo_eventcodes(events, goldstein)
    assert table.schema == EVENTCODES_SCHEMA
    assert table.filter(pl.col("code") == "106").row(0) == ("106", "Demand withdrawal", "10", "base", -5.0, 3)
    assert table.filter(pl.col("code") == "1452").row(0)[2:] == ("14", "event", -7.5, 4)


def test_a_glued_looking_label_with_a_foreign_root_is_left_alone(tmp_path):
    events = read_cameo_lookup(write_lookup(
        tmp_path / "e.txt", "CAMEOEVENTCODE\tEVENTDESCRIPTION", "040\tConsult about 190:[1.0] things"), "eventcodes")
    assert events.rows() == [("040", "Consult about 190:[1.0] things", None)]


def test_lookup_kinds_headers_and_bad_lines(tmp_path):
    country = read_cameo_lookup(write_lookup(tmp_path / "c.txt", "CODE\tLABEL", "WSB\tWest Bank", "USA\tUnited States"),
                                "country")
    assert country.columns == ["code", "label"] and country["code"].to_list() == ["WSB", "USA"]
    with pytest.raises(SourceFormatError, match="header"):
        read_cameo_lookup(write_lookup(tmp_path / "g.txt", "CODE\tLABEL", "01\t0.0"), "goldsteinscale")
    with pytest.raises(SourceFormatError, match="line 3"):
        read_cameo_lookup(write_lookup(tmp_path / "r.txt", "CODE\tLABEL", "ADR\tA", "BUD Buddhism"), "religion")
    with pytest.raises(SourceFormatError, match="line 3: code '010' repeats line 2"):
        read_cameo_lookup(write_lookup(tmp_path / "d.txt", "CAMEOEVENTCODE\tEVENTDESCRIPTION", "010\tA", "010\tB"),
                          "eventcodes")
    repeated = read_cameo_lookup(
        write_lookup(tmp_path / "k.txt", "CODE\tLABEL", "CEM\tOne ", "UIS\tX", "CEM\tTwo", "UIS\tX"), "knowngroup")
    assert repeated.rows() == [("CEM", "One | Two"), ("UIS", "X")]
    with pytest.raises(SourceFormatError, match="not a number"):
        read_cameo_lookup(write_lookup(tmp_path / "n.txt", "CAMEOEVENTCODE\tGOLDSTEINSCALE", "01\tzero"),
                          "goldsteinscale")
    with pytest.raises(ValueError, match="unknown CAMEO lookup kind"):
        read_cameo_lookup(tmp_path / "c.txt", "verbs")


def test_missing_goldstein_without_a_glued_value_fails(tmp_path):
    events = pl.DataFrame({"code": ["01", "010"], "label": ["A", "B"], "goldstein_in_label": [None, None]},
                          schema={"code": pl.Utf8, "label": pl.Utf8, "goldstein_in_label": pl.Float64})
    goldstein = pl.DataFrame({"code": ["01"], "goldstein_scale": [0.0]})
    with pytest.raises(ValueError, match="without a Goldstein value: \\['010'\\]"):
        build_cameo_eventcodes(events, goldstein)


def test_quad_class_by_root():
    assert [quad_class_for_root(f"{r:02d}") for r in range(1, 21)] == [1] * 5 + [2] * 3 + [3] * 5 + [4] * 7
    assert quad_class_for_root("21") is None and quad_class_for_root("1") is None


def test_committed_cameo_eventcodes_are_consistent():
    table = load_cameo_event_codes()
    assert table["code"].is_unique().all() and table.null_count().sum_horizontal()[0] == 0
    assert set(table.filter(pl.col("level") == "root")["code"]) == {f"{r:02d}" for r in range(1, 21)}
    assert (table["code"].str.slice(0, 2) == table["root_code"]).all()
    assert table.filter(pl.col("goldstein_scale").abs() > 10).is_empty()
    parents = set(table["code"])
    assert all(code[:3] in parents for code in table.filter(pl.col("level") == "event")["code"])
    assert table.filter(pl.col("code") == "106")["goldstein_scale"].to_list() == [-5.0]


# --- FIPS in the crosswalk ------------------------------------------------------------------------------

def test_fips_scheme_resolves_every_code_of_an_entity(crosswalk):
    frame = pl.DataFrame({"c": ["WE", "GZ", " us ", "uk", "KV", "OD", "OS", "QQ", None, ""]})
    got = resolve_country_codes(frame, "c", crosswalk, "fips")["iso3"].to_list()
    assert got == ["PSE", "PSE", "USA", "GBR", "XKX", "SSD", None, None, None, None]


def test_hand_fips_codes_override_geonames_and_must_list_the_no_country_codes():
    geonames = pl.DataFrame({"fips_code": ["US", "NT"], "iso3": ["USA", "ANT"]})
    hand = pl.DataFrame({
        "fips_code": ["NT", "OS", "PF", "PG", "AX", "DX", "GZ"], "iso3": ["", "", "", "", "", "", "PSE"],
        "name": ["x"] * 7, "note": ["x"] * 7,
    })
    combined = combine_fips_codes(geonames, hand)
    assert dict(combined.select("fips_code", "iso3").iter_rows())["NT"] is None
    assert combined.filter(pl.col("fips_code") == "US")["origin"].to_list() == ["geonames"]
    with pytest.raises(ValueError, match="FIPS_WITHOUT_COUNTRY"):
        combine_fips_codes(geonames, hand.filter(pl.col("fips_code") != "OS"))
