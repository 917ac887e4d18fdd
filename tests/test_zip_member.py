"""The one checked zip reader: names stay inside, sizes and ratios are bounded, lying headers stop at the cap."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.zip_bombs import deflated_zeros, write_zip, zip_bomb
from transforms.defense_spending.nato import read_nato_workbook
from transforms.errors import SourceFormatError
from transforms.zip_member import WORKBOOK_LIMITS, ZipLimits, check_zip_container, read_zip_members

LIMITS = ZipLimits(max_member_bytes=32 * 1024**2, max_total_bytes=64 * 1024**2)
GB = 1024**3


def plain_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def no_decompressing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("decompression started"))


def test_members_are_read_in_order_and_folders_inside_are_allowed(tmp_path):
    path = plain_zip(tmp_path / "a.zip", {"one.csv": b"1\n", "sub/two.csv": b"2\n", "sub/": b""})
    assert read_zip_members(path, source="worldbank", limits=LIMITS) == [("one.csv", b"1\n"), ("sub/two.csv", b"2\n")]


@pytest.mark.parametrize("name", ["../../evil", "../evil.csv", "sub/../../evil.csv", "/etc/passwd", "C:/evil.csv",
                                  "sub\\..\\evil.csv"])
def test_member_names_that_leave_the_folder_are_refused_before_reading(tmp_path, monkeypatch, name):
    path = write_zip(tmp_path / "a.zip", [("ok.csv", deflated_zeros(10), 10), (name, deflated_zeros(10), 10)])
    no_decompressing(monkeypatch)
    with pytest.raises(SourceFormatError, match="directory part, '..' or an absolute path") as caught:
        read_zip_members(path, source="worldbank", limits=LIMITS)
    assert caught.value.source == "worldbank" and caught.value.file == "a.zip" and repr(name) in str(caught.value)


def test_a_declared_size_over_the_cap_is_refused_before_decompressing(tmp_path, monkeypatch):
    path = zip_bomb(tmp_path / "bomb.zip", "API_x.csv", 3 * GB)
    assert path.stat().st_size < 4 * 1024**2  # 3 GB of zeros, ~3 MB on disk
    no_decompressing(monkeypatch)
    with pytest.raises(SourceFormatError, match=f"declares {3 * GB} bytes uncompressed, over the cap"):
        read_zip_members(path, source="worldbank", limits=LIMITS)


def test_a_ratio_beyond_the_bound_is_refused_before_decompressing(tmp_path, monkeypatch):
    path = zip_bomb(tmp_path / "bomb.zip", "API_x.csv", 20 * 1024**2)  # under the size cap, ~1000:1
    no_decompressing(monkeypatch)
    with pytest.raises(SourceFormatError, match="compression ratio of .* over the bound of 100:1"):
        read_zip_members(path, source="worldbank", limits=LIMITS)


def test_members_together_over_the_total_cap_are_refused(tmp_path, monkeypatch):
    data = deflated_zeros(20 * 1024**2)
    # Each header declares 20 MB at a plausible ratio (the compressed size is what it is), 4 of them: 80 MB.
    members = [(f"m{i}.csv", data + bytes(300_000), 20 * 1024**2) for i in range(4)]
    path = write_zip(tmp_path / "many.zip", members)
    no_decompressing(monkeypatch)
    with pytest.raises(SourceFormatError, match="together, over the cap of 67108864"):
        read_zip_members(path, source="worldbank", limits=LIMITS)


def test_a_header_understating_the_size_stops_at_the_declared_size(tmp_path):
    # 2 GB of zeros behind a header that declares 1000 bytes: a plausible size and ratio, a lying stream.
    path = zip_bomb(tmp_path / "liar.zip", "API_x.csv", 2 * GB, declared=1000)
    with pytest.raises(SourceFormatError, match="corrupt|past its declared size") as caught:
        read_zip_members(path, source="worldbank", limits=LIMITS)
    assert caught.value.file == "liar.zip!API_x.csv"


def test_a_workbook_bomb_is_refused_before_the_excel_reader_inflates_it(tmp_path, monkeypatch):
    bomb = zip_bomb(tmp_path / "tables.xlsx", "xl/worksheets/sheet1.xml", 300 * 1024**2).read_bytes()
    no_decompressing(monkeypatch)
    with pytest.raises(SourceFormatError, match="over the cap") as caught:
        read_nato_workbook(bomb, "tables.xlsx")
    assert caught.value.source == "nato" and caught.value.file == "tables.xlsx"
    with pytest.raises(SourceFormatError, match="directory part"):
        check_zip_container(write_zip(tmp_path / "t.xlsx", [("../x.xml", deflated_zeros(10), 10)]),
                            source="sipri", file="t.xlsx", limits=WORKBOOK_LIMITS)


def test_an_unreadable_zip_names_the_file(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "x" * 1000)
    (tmp_path / "cut.zip").write_bytes(buffer.getvalue()[:60])
    with pytest.raises(SourceFormatError, match="not a readable zip") as caught:
        read_zip_members(tmp_path / "cut.zip", source="worldbank", limits=LIMITS)
    assert caught.value.file == "cut.zip"
