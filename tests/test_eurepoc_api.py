"""EuRepoC REST API path: paging against a loopback stand-in, and the API pages conforming like the bulk CSVs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.defs.eurepoc.assets import eurepoc_sample_files, stage_eurepoc_files
from pipelines.lib.source_spec import SnapshotConfig
from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.credentials import MissingCredentialsError
from pipelines.defs.eurepoc.fetch import API_PATH, api_page_name, fetch_eurepoc_api
from pipelines.lib.staged_tables import STG_EUREPOC
from transforms.cyber_incidents.eurepoc import read_eurepoc_snapshot, stage_eurepoc
from transforms.cyber_incidents.eurepoc_api import (
    API_FIELDS,
    api_populate,
    is_api_page,
    read_eurepoc_api_pages,
    read_eurepoc_api_snapshot,
)
from transforms.errors import SourceFormatError

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples" / "eurepoc"
API_SAMPLES = sorted((SAMPLES / "api").glob("eurepoc_api_p*.json"))
BULK_SAMPLES = sorted(SAMPLES.glob("*.csv"))
TOKEN = "s3cret-eurepoc-token"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("THREATWATCH_EUREPOC_TOKEN", TOKEN)
    return TOKEN


def sample_records() -> list[dict]:
    return [r for path in API_SAMPLES for r in json.loads(path.read_text(encoding="utf-8"))["data"]]


def strapi_page(records: list[dict], page: int, size: int, total: int) -> dict:
    count = -(-total // size)
    pagination = {"page": page, "pageSize": size, "pageCount": count, "total": total}
    return {"data": records, "meta": {"pagination": pagination}}


def serve_pages(server: HTTPServer, pages: dict[int, dict | bytes | Response]) -> None:
    """Answer GET /api/incidents with the body registered for its pagination[page]."""

    def handler(request: Request) -> Response:
        body = pages[int(request.args["pagination[page]"])]
        if isinstance(body, Response):
            return body
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return Response(data, content_type="application/json")

    server.expect_request(API_PATH).respond_with_handler(handler)


def commit(draft):
    return draft.commit(origin="http", publisher="p", licence="l", licence_url="u", citation="c")


def fetch(client: HttpClient, store: SnapshotStore, server: HTTPServer, **kwargs):
    with store.draft("eurepoc") as draft:
        names = fetch_eurepoc_api(client, draft, server.url_for("/"), **kwargs)
        return names, commit(draft)


def test_pages_are_fetched_until_the_last_and_the_token_stays_in_the_header(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, caplog: pytest.LogCaptureFixture
):
    records = sample_records()[:5]
    pages = {k: strapi_page(records[(k - 1) * 2:k * 2], k, 2, 5) for k in (1, 2, 3)}
    serve_pages(server, pages)
    names, manifest = fetch(client, store, server, page_size=2)
    assert names == ["eurepoc_api_p1.json", "eurepoc_api_p2.json", "eurepoc_api_p3.json"]
    assert [f.name for f in manifest.files] == names
    for k, name in enumerate(names, 1):
        assert json.loads(store.file_path(manifest, name).read_bytes()) == pages[k]
    requests = [req for req, _ in server.log]
    assert [req.args["pagination[page]"] for req in requests] == ["1", "2", "3"]
    assert {req.headers.get("Authorization") for req in requests} == {f"Bearer {TOKEN}"}
    first = requests[0].args
    assert first["pagination[pageSize]"] == "2" and first["sort[0]"] == "id:asc"
    assert sorted(v for k, v in first.items() if k.startswith("populate[")) == sorted(api_populate())
    assert all(TOKEN not in req.query_string.decode() for req in requests)
    stored = "".join(p.read_text(encoding="utf-8") for p in (store.root / "eurepoc").rglob("*") if p.is_file())
    assert TOKEN not in manifest.to_json() and TOKEN not in stored and TOKEN not in caplog.text


def test_bundled_sample_pages_round_trip_through_a_fetch(server: HTTPServer, client: HttpClient, store: SnapshotStore):
    bodies = {k: path.read_bytes() for k, path in enumerate(API_SAMPLES, 1)}
    serve_pages(server, bodies)
    names, manifest = fetch(client, store, server, page_size=6)
    assert names == [p.name for p in API_SAMPLES]
    fetched = read_eurepoc_api_snapshot([store.file_path(manifest, n) for n in names])
    assert fetched.incidents.equals(read_eurepoc_api_snapshot(API_SAMPLES).incidents)


def test_an_empty_result_is_one_empty_page(server: HTTPServer, client: HttpClient, store: SnapshotStore):
    serve_pages(server, {1: strapi_page([], 1, 100, 0)})
    names, _ = fetch(client, store, server)
    assert names == ["eurepoc_api_p1.json"] and len(server.log) == 1


def test_a_refused_token_is_a_clear_error_without_the_token(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
):
    server.expect_request(API_PATH).respond_with_data("Unauthorized", status=401)
    with store.draft("eurepoc") as draft:
        with pytest.raises(FetchError) as e:
            fetch_eurepoc_api(client, draft, server.url_for("/"))
        assert list(draft.dir.iterdir()) == []
    message = str(e.value)
    assert "HTTP 401" in message and "THREATWATCH_EUREPOC_TOKEN" in message and "eurepoc_api_p1.json" in message
    assert TOKEN not in message
    assert len(server.log) == 1  # not retried


def test_retry_after_of_a_429_is_honoured(server: HTTPServer, client: HttpClient, store: SnapshotStore,
                                          sleeps: list[float]):
    page = strapi_page(sample_records()[:1], 1, 100, 1)
    server.expect_ordered_request(API_PATH).respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "7"}))
    server.expect_ordered_request(API_PATH).respond_with_json(page)
    names, _ = fetch(client, store, server)
    assert names == ["eurepoc_api_p1.json"] and sleeps == [7.0]


def test_a_short_page_before_the_last_is_an_error_naming_the_page(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
):
    records = sample_records()[:5]
    serve_pages(server, {1: strapi_page(records[:2], 1, 2, 5), 2: strapi_page(records[2:3], 2, 2, 5),
                         3: strapi_page(records[4:], 3, 2, 5)})
    with store.draft("eurepoc") as draft:
        with pytest.raises(FetchError, match=r"eurepoc_api_p2\.json: short page 2 of 3 has 1 records, expected 2"):
            fetch_eurepoc_api(client, draft, server.url_for("/"), page_size=2)
        assert [p.name for p in draft.dir.iterdir()] == ["eurepoc_api_p1.json"]


def test_counts_that_change_between_pages_are_an_error(server: HTTPServer, client: HttpClient, store: SnapshotStore):
    records = sample_records()[:4]
    serve_pages(server, {1: strapi_page(records[:2], 1, 2, 4), 2: strapi_page(records[2:4], 2, 2, 5)})
    with store.draft("eurepoc") as draft, pytest.raises(FetchError, match="changed while paging"):
        fetch_eurepoc_api(client, draft, server.url_for("/"), page_size=2)


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b'{"data": [', "expected JSON, body does not parse"),
     (json.dumps({"data": None, "error": {"status": 403, "name": "ForbiddenError"}}).encode(), "ForbiddenError"),
     (json.dumps({"data": []}).encode(), "no meta.pagination")],
)
def test_a_page_that_is_not_a_strapi_list_is_an_error_naming_it(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, body: bytes, problem: str
):
    serve_pages(server, {1: strapi_page(sample_records()[:1], 1, 1, 2), 2: body})
    with store.draft("eurepoc") as draft:
        with pytest.raises(FetchError) as e:
            fetch_eurepoc_api(client, draft, server.url_for("/"), page_size=1)
    assert "eurepoc_api_p2.json" in str(e.value) and problem in str(e.value)


def test_missing_credentials_stop_before_any_request(server: HTTPServer, client: HttpClient, store: SnapshotStore,
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("THREATWATCH_EUREPOC_TOKEN")
    with store.draft("eurepoc") as draft, pytest.raises(MissingCredentialsError, match="THREATWATCH_EUREPOC_TOKEN"):
        fetch_eurepoc_api(client, draft, server.url_for("/"))
    assert server.log == []


# --- parser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def countries() -> dict[str, pl.DataFrame]:
    return {"crosswalk": load_country_crosswalk(), "aliases": load_country_aliases()}


def without_source_file(frame: pl.DataFrame) -> list[tuple]:
    return sorted(frame.drop("source_file", strict=False).rows(), key=repr)


def test_api_pages_conform_exactly_like_the_bulk_release(countries):
    api = read_eurepoc_api_pages(API_SAMPLES, **countries)
    bulk = stage_eurepoc(read_eurepoc_snapshot(BULK_SAMPLES), countries["aliases"], countries["crosswalk"])
    ids = api.incidents["incident_id"].to_list()
    assert len(ids) == 10 and "eurepoc:104" in ids  # the sample holds 11 incidents of the bulk sample; 113 is bad
    for name in ("incidents", "initiators", "targets"):
        api_frame, bulk_frame = getattr(api, name), getattr(bulk, name)
        assert api_frame.schema == bulk_frame.schema, name
        assert without_source_file(api_frame) == without_source_file(
            bulk_frame.filter(pl.col("incident_id").is_in(ids))), name
    assert set(api.incidents["source_file"]) == {"eurepoc_api_p1.json", "eurepoc_api_p2.json"}
    prk = api.initiators.filter(pl.col("country_raw") == "Korea, Democratic People's Republic of")
    assert prk["iso3"].to_list() == ["PRK"]
    # the unreadable date (2021-02-30) is quarantined in both paths
    assert api.quarantine.select("source_file", "reason").rows() == [
        ("eurepoc_api_p2.json", "unreadable date '2021-02-30' (not YYYY-MM-DD)")]
    assert json.loads(api.quarantine["record"][0])["id"] == 113


def write_pages(tmp_path: Path, *pages: list[dict]) -> list[Path]:
    paths = []
    for k, records in enumerate(pages, 1):
        path = tmp_path / api_page_name(k)
        path.write_text(json.dumps(strapi_page(records, k, 100, sum(map(len, pages)))), encoding="utf-8")
        paths.append(path)
    return paths


def flatten(value):
    """A record with every Strapi v4 wrapper removed (the flat shape of Strapi v5)."""
    if isinstance(value, dict):
        if set(value) <= {"data", "meta"} and "data" in value:
            return flatten(value["data"])
        if isinstance(value.get("attributes"), dict) and set(value) <= {"id", "attributes"}:
            return {"id": value.get("id"), **flatten(value["attributes"])}
        return {k: flatten(v) for k, v in value.items()}
    return [flatten(v) for v in value] if isinstance(value, list) else value


def test_unwrapped_records_and_datetimes_read_the_same(tmp_path: Path):
    records = sample_records()
    flat = [flatten(r) for r in records]
    for r in flat:
        if r["start_date"]:
            r["start_date"] += "T00:00:00.000Z"
    expected = read_eurepoc_api_snapshot(API_SAMPLES)
    got = read_eurepoc_api_snapshot(write_pages(tmp_path, flat))
    for name in ("incidents", "initiators", "targets"):
        assert without_source_file(getattr(got, name)) == without_source_file(getattr(expected, name)), name


def test_repeated_ids_across_pages_are_quarantined(tmp_path: Path):
    records = sample_records()
    changed = copy.deepcopy(records[1])
    changed["attributes"]["name"] = "Another name"
    t = read_eurepoc_api_snapshot(write_pages(tmp_path, records[:3], [records[0], changed, {"id": "x1"}, "junk"]))
    reasons = sorted(t.quarantine["reason"])
    assert reasons.count("duplicate of an earlier row with the same ID") == 1
    assert reasons.count("ID repeated with different content") == 2
    assert "id is not a whole number" in reasons and "not a record (a JSON object)" in reasons
    kept = t.incidents["source_incident_id"].to_list()
    assert "101" in kept and "102" not in kept


def test_shape_drift_and_malformed_pages_are_format_errors_naming_the_file(tmp_path: Path):
    record = copy.deepcopy(sample_records()[0])
    del record["attributes"]["receiver"]
    with pytest.raises(SourceFormatError, match=r"eurepoc_api_p1\.json.*incident 101: no attribute 'receiver'"):
        read_eurepoc_api_snapshot(write_pages(tmp_path, [record]))
    record = copy.deepcopy(sample_records()[0])
    record["attributes"]["receiver"][0]["country"] = {"data": {"id": 1, "attributes": {"name": {"en": "Estonia"}}}}
    with pytest.raises(SourceFormatError, match="receiver_country .* is not text"):
        read_eurepoc_api_snapshot(write_pages(tmp_path, [record]))
    broken = tmp_path / "eurepoc_api_p2.json"
    broken.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"'eurepoc_api_p2\.json': not valid JSON"):
        read_eurepoc_api_snapshot([*write_pages(tmp_path, sample_records()[:1]), broken])
    with pytest.raises(SourceFormatError, match="not an EuRepoC API page"):
        read_eurepoc_api_snapshot([*API_SAMPLES, BULK_SAMPLES[0]])


def test_populate_covers_every_relation_the_reader_walks():
    assert api_populate() == [
        "attributes.incident_type.code", "receiver.country", "receiver.category.code",
        "attributions.attribution_basis.code", "attributions.initiators.countries",
        "attributions.initiators.category.code",
    ]
    assert set(API_FIELDS) >= {"start_date", "receiver_country", "initiator_country", "incident_type"}


# --- asset wiring ------------------------------------------------------------------------------------------


def test_staging_picks_the_reader_by_the_snapshot_files():
    api = stage_eurepoc_files(API_SAMPLES, "s1")
    bulk = stage_eurepoc_files(BULK_SAMPLES, "s1")
    incidents = STG_EUREPOC[0].name
    assert set(api[incidents][0]["source_file"]) == {p.name for p in API_SAMPLES}
    assert set(bulk[incidents][0]["source_file"]) == {"EuRepoC_Global_Database_1.1.csv"}
    assert all(is_api_page(p) for p in API_SAMPLES) and not any(is_api_page(p) for p in BULK_SAMPLES)


def test_offline_samples_stay_the_csvs_unless_the_api_format_is_asked_for():
    assert eurepoc_sample_files(SnapshotConfig()) == BULK_SAMPLES
    assert eurepoc_sample_files(SnapshotConfig(format="bulk")) == BULK_SAMPLES
    assert eurepoc_sample_files(SnapshotConfig(format="api")) == API_SAMPLES
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        eurepoc_sample_files(SnapshotConfig(format="xml"))
