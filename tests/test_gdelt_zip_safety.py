"""GDELT export zips read safely: members, bombs, lying headers and streams longer than declared."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from tests.gdelt_rows import gdelt_row, export
from transforms.conflict_events.gdelt import read_gdelt_export_zip, read_gdelt_export_zips
from transforms.conflict_events.gdelt_files import read_single_member_zip
from transforms.errors import SourceFormatError

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
