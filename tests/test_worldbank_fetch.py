"""World Bank fetching against a loopback API: paging, 200-with-error bodies, HTML, conditional bulk zips."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.http_settings import HttpSettings
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.worldbank.fetch import (
    WORLDBANK_INDICATORS,
    fetch_worldbank_bulk,
    fetch_worldbank_countries,
    fetch_worldbank_indicator,
    fetch_worldbank_snapshot,
    worldbank_api_error,
)
from tests.fetch_fixtures import base_url

TERMS = dict(publisher="World Bank", licence="CC BY 4.0", licence_url="https://example.org/l", citation="WDI")
IND = "MS.MIL.XPND.GD.ZS"
PATH = f"/v2/country/all/indicator/{IND}"
ERROR_BODY = b'[{"message":[{"id":"120","key":"Invalid value","value":"The provided parameter value is not valid"}]}]'


@pytest.fixture
def server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


@pytest.fixture
def client() -> HttpClient:
    return HttpClient(HttpSettings(max_attempts=2), sleep=lambda s: None)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")


def _page(page: int, pages: int, rows: list[dict] | None = None) -> bytes:
    """A page as the API writes it; odd spacing and raw UTF-8 so 'unchanged' is checkable."""
    meta = {"page": page, "pages": pages, "per_page": "2", "total": 2 * pages, "lastupdated": "2026-07-13"}
    row = {"country": {"id": "CI", "value": "Côte d'Ivoire"}, "countryiso3code": "CIV", "date": str(2020 - page)}
    rows = rows if rows is not None else [{**row, "value": page * 1.5}]
    return json.dumps([meta, rows], ensure_ascii=False, separators=(",", ":")).encode() + b"\r\n"


def _serve_pages(server: HTTPServer, path: str, bodies: list[bytes], per_page: int) -> None:
    for i, body in enumerate(bodies, start=1):
        query = {"format": "json", "per_page": str(per_page), "page": str(i)}
        server.expect_request(path, query_string=query).respond_with_data(body, content_type="application/json;charset=utf-8")


def test_all_pages_are_saved_unchanged(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    bodies = [_page(p, 3) for p in (1, 2, 3)]
    _serve_pages(server, PATH, bodies, per_page=2)
    with store.draft("worldbank") as draft:
        names = fetch_worldbank_indicator(client, draft, base_url(server), IND, per_page=2)
        manifest = draft.commit("http", **TERMS)
    assert names == [f"{IND}.page-001.json", f"{IND}.page-002.json", f"{IND}.page-003.json"]
    assert [store.file_path(manifest, n).read_bytes() for n in names] == bodies
    record = manifest.file(f"{IND}.page-002.json")
    assert record.url.endswith(f"{PATH}?format=json&per_page=2&page=2") and record.http_status == 200
    assert record.params == {"format": "json", "per_page": 2, "page": 2}


def test_countries_pages(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    body = _page(1, 1, [{"id": "WLD", "region": {"id": "NA", "value": "Aggregates"}}])
    _serve_pages(server, "/v2/country", [body], per_page=1000)
    with store.draft("worldbank") as draft:
        assert fetch_worldbank_countries(client, draft, base_url(server)) == ["countries.page-001.json"]
        assert (draft.dir / "countries.page-001.json").read_bytes() == body


@pytest.mark.parametrize(
    ("bodies", "message"),
    [
        ([ERROR_BODY], "World Bank API error: 120 Invalid value The provided parameter value is not valid"),
        ([b'{"not": "a list"}'], "expected a \\[meta, rows\\] array"),
        ([_page(1, 3), _page(2, 4)], "page 2 says 4 pages, page 1 said 3"),
        ([b'[{"page":1,"pages":0,"per_page":"2","total":0},null]'], "empty result"),
    ],
)
def test_api_errors_are_fetch_errors(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, bodies: list[bytes], message: str
) -> None:
    _serve_pages(server, PATH, bodies, per_page=20000)
    with store.draft("worldbank") as draft:
        with pytest.raises(FetchError, match=message) as err:
            fetch_worldbank_indicator(client, draft, base_url(server), IND)
        bad_page = f"{IND}.page-{len(bodies):03d}.json"
        assert not (draft.dir / bad_page).exists()  # the bad page is not left in the draft
    assert err.value.source == "worldbank" and f"page={len(bodies)}" in err.value.url


def test_html_body_is_a_fetch_error(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    server.expect_request(PATH).respond_with_data("<html><body>Service Unavailable</body></html>", content_type="text/html")
    with store.draft("worldbank") as draft:
        with pytest.raises(FetchError, match="expected JSON, got HTML"):
            fetch_worldbank_indicator(client, draft, base_url(server), IND)
        assert list(draft.dir.iterdir()) == []


def test_worldbank_api_error_shapes() -> None:
    assert worldbank_api_error(json.loads(ERROR_BODY)) == "120 Invalid value The provided parameter value is not valid"
    assert worldbank_api_error(json.loads(_page(1, 1))) is None
    assert "list of 1" in worldbank_api_error([{"page": 1}])
    assert "dict" in worldbank_api_error({"page": 1})


def _zip(csv: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"API_{IND}_DS2_en_csv_v2_1.csv", csv)
    return buf.getvalue()


def test_bulk_zip_304_on_second_run_makes_no_snapshot(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    path = f"/v2/en/indicator/{IND}"
    payload = _zip(b'"Country Name","Country Code"\r\n"Aruba","ABW"\r\n')
    server.expect_ordered_request(path, query_string={"downloadformat": "csv"}).respond_with_data(
        payload, content_type="application/zip", headers={"ETag": '"wdi-1"', "Last-Modified": "Tue, 24 Feb 2026 00:00:00 GMT"}
    )
    server.expect_ordered_request(path, headers={"If-None-Match": '"wdi-1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"wdi-1"'}
    )
    with store.draft("worldbank") as draft:
        assert fetch_worldbank_bulk(client, draft, base_url(server), IND) == f"{IND}.csv.zip"
        first = draft.commit("http", **TERMS)
    assert first.file(f"{IND}.csv.zip").etag == '"wdi-1"'
    assert store.file_path(first, f"{IND}.csv.zip").read_bytes() == payload

    with store.draft("worldbank") as draft:
        fetch_worldbank_bulk(client, draft, base_url(server), IND)
        assert draft.commit("http", **TERMS) is None
    server.check_assertions()
    second_request = server.log[1][0]
    assert second_request.headers["If-Modified-Since"] == "Tue, 24 Feb 2026 00:00:00 GMT"
    assert store.list("worldbank") == [first]


def test_snapshot_fetches_countries_and_every_indicator(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    _serve_pages(server, "/v2/country", [_page(1, 1)], per_page=1000)
    for ind in WORLDBANK_INDICATORS:
        _serve_pages(server, f"/v2/country/all/indicator/{ind}", [_page(1, 1)], per_page=50)
    with store.draft("worldbank") as draft:
        names = fetch_worldbank_snapshot(client, draft, base_url(server), fmt="api", per_page=50)
        manifest = draft.commit("http", **TERMS)
    assert names == ["countries.page-001.json"] + [f"{i}.page-001.json" for i in WORLDBANK_INDICATORS]
    assert sorted(f.name for f in manifest.files) == sorted(names)
