"""GDELT fetching against a loopback stand-in: lastupdate and master lists, md5-checked export zips."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.gdelt.fetch import (
    fetch_gdelt_export,
    fetch_gdelt_file_list,
    gdelt_exports_between,
)
from tests.fetch_fixtures import base_url, one_member_zip
from transforms.conflict_events.gdelt_files import parse_gdelt_file_list

TERMS = dict(publisher="p", licence="l", licence_url="u", citation="c")
ZIP = "application/zip"



def _export_zip(ts: str) -> bytes:
    return one_member_zip(f"{ts}.export.CSV", f"1217480000\t{ts[:8]}\t202501\n".encode())


def _file_list(server: HTTPServer, entries: list[tuple[str, bytes]], host: str | None = None) -> str:
    base = base_url(server) if host is None else f"http://{host}:{server.port}"
    return "".join(f"{len(b)} {hashlib.md5(b).hexdigest()} {base}/gdeltv2/{name}\n" for name, b in entries)


def test_gdelt_lastupdate_is_saved_and_parsed(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    export = _export_zip("20250104170000")
    text = _file_list(server, [("20250104170000.export.CSV.zip", export),
                               ("20250104170000.mentions.CSV.zip", b"m" * 10),
                               ("20250104170000.gkg.csv.zip", b"g" * 20)])
    server.expect_request("/gdeltv2/lastupdate.txt").respond_with_data(text, content_type="text/plain")
    with store.draft("gdelt") as draft:
        name, frame = fetch_gdelt_file_list(client, draft, base_url(server))
        manifest = draft.commit("http", **TERMS)
    assert name == "lastupdate.txt" and store.file_path(manifest, name).read_text() == text
    assert frame.height == 3 and {"size", "md5", "url", "file_name", "timestamp", "kind"} <= set(frame.columns)
    assert frame.schema["size"] == pl.Int64
    row = frame.filter(pl.col("kind") == "export").to_dicts()[0]
    assert row["file_name"] == "20250104170000.export.CSV.zip" and row["size"] == len(export)
    assert row["md5"] == hashlib.md5(export).hexdigest()


def test_gdelt_export_with_matching_size_and_md5_is_recorded(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    body = _export_zip("20250104161500")
    server.expect_request("/gdeltv2/20250104161500.export.CSV.zip").respond_with_data(body, content_type=ZIP)
    md5 = hashlib.md5(body).hexdigest()
    with store.draft("gdelt") as draft:
        name = fetch_gdelt_export(client, draft, server.url_for("/gdeltv2/20250104161500.export.CSV.zip"),
                                  expected_size=len(body), expected_md5=md5.upper(), base_url=base_url(server))
        manifest = draft.commit("http", **TERMS)
    assert name == "20250104161500.export.CSV.zip" and store.file_path(manifest, name).read_bytes() == body
    assert manifest.file(name).params == {"expected_size": len(body), "expected_md5": md5, "md5": md5}


@pytest.mark.parametrize(
    ("size_delta", "md5", "message"),
    [
        (0, "0" * 32, "expected {n} bytes md5 0{{32}}, got {n} bytes md5 {md5}"),
        (5, None, "expected {n5} bytes md5 {md5}, got {n} bytes md5 {md5}"),
    ],
)
def test_gdelt_export_mismatch_is_refused_and_leaves_the_draft_clean(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, size_delta: int, md5: str | None, message: str
) -> None:
    body = _export_zip("20250104163000")
    real = hashlib.md5(body).hexdigest()
    server.expect_request("/gdeltv2/20250104163000.export.CSV.zip").respond_with_data(body, content_type=ZIP)
    with store.draft("gdelt") as draft:
        with pytest.raises(FetchError) as err:
            fetch_gdelt_export(client, draft, server.url_for("/gdeltv2/20250104163000.export.CSV.zip"),
                               expected_size=len(body) + size_delta, expected_md5=md5 or real, base_url=base_url(server))
        assert list(draft.dir.iterdir()) == []
        with pytest.raises(ValueError, match="no files"):
            draft.commit("http", **TERMS)
    expected = message.format(n=len(body), n5=len(body) + 5, md5=real)
    assert "20250104163000.export.CSV.zip does not match the file list" in str(err.value)
    assert re.search(expected, str(err.value))


def test_gdelt_export_on_a_foreign_host_is_refused(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    body = _export_zip("20250104164500")
    server.expect_request("/gdeltv2/20250104164500.export.CSV.zip").respond_with_data(body)
    with store.draft("gdelt") as draft:
        for url in (f"http://localhost:{server.port}/gdeltv2/20250104164500.export.CSV.zip",
                    "file:///etc/20250104164500.export.CSV.zip"):
            with pytest.raises(FetchError, match="refused: .* is not on 127.0.0.1"):
                fetch_gdelt_export(client, draft, url, expected_size=len(body),
                                   expected_md5=hashlib.md5(body).hexdigest(), base_url=base_url(server))
        with pytest.raises(FetchError, match="is not a <YYYYMMDDHHMMSS>.export.CSV.zip file"):
            fetch_gdelt_export(client, draft, server.url_for("/gdeltv2/20250104164500.gkg.csv.zip"),
                               expected_size=1, expected_md5="0" * 32, base_url=base_url(server))
        assert list(draft.dir.iterdir()) == []
    assert server.log == []


def _list_frame(server: HTTPServer) -> pl.DataFrame:
    entries = []
    for ts in ("20250104161500", "20250104163000", "20250104164500", "20250104170000"):
        entries += [(f"{ts}.export.CSV.zip", b"e" + ts.encode()), (f"{ts}.mentions.CSV.zip", b"m")]
    return parse_gdelt_file_list(_file_list(server, entries), "masterfilelist.txt")


def test_gdelt_exports_between_is_half_open_and_exports_only(server: HTTPServer) -> None:
    frame = _list_frame(server)
    start, end = datetime(2025, 1, 4, 16, 30), datetime(2025, 1, 4, 17, 0, tzinfo=timezone.utc)  # naive is UTC
    picked = gdelt_exports_between(frame, start, end)
    assert picked["file_name"].to_list() == ["20250104163000.export.CSV.zip", "20250104164500.export.CSV.zip"]
    assert gdelt_exports_between(frame, "20250104170000", "2025-01-05")["file_name"].to_list() == \
        ["20250104170000.export.CSV.zip"]
    local = timezone(timedelta(hours=1))  # 17:15+01:00 is 16:15 UTC
    assert gdelt_exports_between(frame, datetime(2025, 1, 4, 17, 15, tzinfo=local),
                                 datetime(2025, 1, 4, 17, 30, tzinfo=local)).height == 1


def test_gdelt_unreadable_file_list_is_a_fetch_error(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    server.expect_request("/gdeltv2/masterfilelist.txt").respond_with_data("150383 297a16b4 http://x/y.zip\n")
    with store.draft("gdelt") as draft:
        with pytest.raises(FetchError, match="unreadable file list masterfilelist.txt: line 1: expected"):
            fetch_gdelt_file_list(client, draft, base_url(server), "masterfilelist")
        with pytest.raises(ValueError, match="which must be one of"):
            fetch_gdelt_file_list(client, draft, base_url(server), "translation")
