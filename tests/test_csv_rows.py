"""The shared CSV reader: rows as written, and clear errors naming source and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms.csv_rows import read_csv_rows
from transforms.errors import SourceFormatError


def test_rows_keep_quoted_commas_and_drop_blank_lines(tmp_path: Path):
    f = tmp_path / "a.csv"
    f.write_bytes('\ufeffname,sponsor\r\n"x","Palestine, State of"\r\n\r\ny,Iran\r\n'.encode())
    assert read_csv_rows(f, "cfr", "the export") == [["name", "sponsor"], ["x", "Palestine, State of"], ["y", "Iran"]]


@pytest.mark.parametrize("content, problem", [
    (b"<html><body>Not found</body></html>", "got HTML/XML instead of the export"),
    (b"name\n\xff\xfe\n", "not UTF-8 text"),
    (b"", "empty file"),
])
def test_bad_files_name_source_file_and_problem(tmp_path: Path, content: bytes, problem: str):
    f = tmp_path / "b.csv"
    f.write_bytes(content)
    with pytest.raises(SourceFormatError, match=problem) as err:
        read_csv_rows(f, "cfr", "the export")
    assert "[cfr]" in str(err.value) and "b.csv" in str(err.value)
