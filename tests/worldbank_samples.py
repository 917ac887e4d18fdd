"""The World Bank samples and how the tests break copies of them: members, pages, cells, columns."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from transforms.errors import SourceFormatError

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
