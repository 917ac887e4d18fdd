"""UCDP fetching against loopback stand-ins: the API (token, paging, daily quota) and the bulk files."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.credentials import MissingCredentialsError
from pipelines.defs.ucdp_ged.fetch import (
    QuotaExceededError,
    UcdpQuota,
    fetch_ucdp_bulk,
    fetch_ucdp_ged_api,
    ucdp_bulk_url,
)
from tests.fetch_fixtures import Clock, base_url, one_member_zip, raw_server

TERMS = dict(publisher="p", licence="l", licence_url="u", citation="c")
TOKEN = "ucdp-T0ken-s3cret"
GED = "/api/gedevents/25.1"


def _no_secret(*texts: str, secrets: tuple[str, ...] = (TOKEN,)) -> bool:
    return not any(s in t for s in secrets for t in texts)


@pytest.fixture
def ucdp_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("THREATWATCH_UCDP_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def quota(tmp_path: Path, clock: Clock) -> UcdpQuota:
    return UcdpQuota(tmp_path / ".ucdp-api-quota.json", clock=clock)



def used_today(quota: UcdpQuota) -> int:
    """Requests the quota's ledger file counts for today, as another process would read it."""
    if not quota.path.exists():
        return 0
    return json.loads(quota.path.read_text())["requests"].get(quota.today(), 0)


def _ged_page(count: int, pages: int, rows: int, next_url: str, first_id: int = 1) -> bytes:
    result = [{"id": first_id + i, "country": "Côte d'Ivoire", "best": i} for i in range(rows)]
    body = {"TotalCount": count, "TotalPages": pages, "PreviousPageUrl": "", "NextPageUrl": next_url, "Result": result}
    return json.dumps(body, ensure_ascii=False).encode() + b"\n"


def _ged_url(server: HTTPServer, page: int, pagesize: int = 2, host: str | None = None) -> str:
    base = base_url(server) if host is None else f"http://{host}:{server.port}"
    return f"{base}{GED}?pagesize={pagesize}&page={page}&StartDate=2024-01-01&EndDate=2024-12-31"


def _serve_ged(server: HTTPServer, bodies: list[bytes], pagesize: int = 2) -> None:
    for page, body in enumerate(bodies):
        query = {"pagesize": str(pagesize), "page": str(page), "StartDate": "2024-01-01", "EndDate": "2024-12-31"}
        server.expect_request(GED, query_string=query).respond_with_data(body, content_type="application/json")


def _fetch_ged(client: HttpClient, draft: SnapshotDraft, base: str, quota: UcdpQuota, pagesize: int = 2) -> list[str]:
    return fetch_ucdp_ged_api(client, draft, base, version="25.1", start_date="2024-01-01", end_date="2024-12-31",
                              pagesize=pagesize, quota=quota)


def test_ucdp_follows_next_page_url_with_the_token_and_records_no_token(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = [_ged_page(5, 3, 2, _ged_url(server, 1)), _ged_page(5, 3, 2, _ged_url(server, 2), 3),
              _ged_page(5, 3, 1, "", 5)]
    _serve_ged(server, bodies)
    with store.draft("ucdp_ged") as draft:
        names = _fetch_ged(client, draft, base_url(server), quota)
        manifest = draft.commit("http", **TERMS)
    stem = "gedevents_25.1_2024-01-01_2024-12-31"
    assert names == [f"{stem}_p0.json", f"{stem}_p1.json", f"{stem}_p2.json"]
    assert [store.file_path(manifest, n).read_bytes() for n in names] == bodies  # saved unchanged
    assert [r.headers.get("x-ucdp-access-token") for r, _ in server.log] == [TOKEN] * 3
    record = manifest.file(f"{stem}_p1.json")
    assert record.url == _ged_url(server, 1) and record.http_status == 200
    assert record.params == {"pagesize": "2", "page": "1", "StartDate": "2024-01-01", "EndDate": "2024-12-31"}
    assert _no_secret(manifest.to_json(), caplog.text, *names)
    assert used_today(quota) == 3


def test_ucdp_401_says_the_token_was_refused_without_quoting_it(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    server.expect_request(GED).respond_with_data("API token required. Add header: x-ucdp-access-token", status=401)
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(FetchError, match="access token is missing, expired or not accepted") as err:
            _fetch_ged(client, draft, base_url(server), quota)
        assert list(draft.dir.iterdir()) == []
    assert err.value.status == 401 and "THREATWATCH_UCDP_TOKEN" in str(err.value) and _no_secret(str(err.value))
    assert len(server.log) == 1  # a 401 is not retried


def test_ucdp_without_a_token_is_missing_credentials(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("THREATWATCH_UCDP_TOKEN", raising=False)
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(MissingCredentialsError, match="THREATWATCH_UCDP_TOKEN"):
            _fetch_ged(client, draft, base_url(server), quota)
    assert server.log == [] and used_today(quota) == 0


def test_ucdp_next_page_url_on_another_host_is_refused(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    # "localhost" reaches the same loopback server, so a request sent there would show up in its log.
    _serve_ged(server, [_ged_page(4, 2, 2, _ged_url(server, 1, host="localhost"))])
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(FetchError, match="page 0: NextPageUrl leads to .*localhost.*refused") as err:
            _fetch_ged(client, draft, base_url(server), quota)
        assert list(draft.dir.iterdir()) == []
    assert len(server.log) == 1 and _no_secret(str(err.value))


def test_a_redirect_off_origin_never_carries_the_token(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    elsewhere = _ged_url(server, 0, host="localhost")
    server.expect_request(GED).respond_with_data("", status=302, headers={"Location": elsewhere})
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(FetchError, match="refused a redirect to .*localhost.*credential header") as err:
            _fetch_ged(client, draft, base_url(server), quota)
    assert len(server.log) == 1 and _no_secret(str(err.value))


def test_a_redirect_on_the_same_origin_is_followed(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    server.expect_request("/old" + GED).respond_with_data("", status=301, headers={"Location": _ged_url(server, 0)})
    _serve_ged(server, [_ged_page(1, 1, 1, "")])
    with store.draft("ucdp_ged") as draft:
        assert len(_fetch_ged(client, draft, base_url(server) + "/old", quota)) == 1
    assert [r.headers.get("x-ucdp-access-token") for r, _ in server.log] == [TOKEN, TOKEN]


def test_a_redirect_off_origin_without_credential_headers_is_still_followed(
    server: HTTPServer, client: HttpClient, tmp_path: Path
) -> None:
    elsewhere = f"http://localhost:{server.port}/b"
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": elsewhere})
    server.expect_request("/b").respond_with_json({"ok": True})
    result = client.fetch_to_file("t", server.url_for("/a"), tmp_path / "a.json", headers={"Accept": "application/json"})
    assert json.loads(result.path.read_text()) == {"ok": True}
    with pytest.raises(FetchError, match="refused a redirect") as err:
        client.fetch_to_file("t", server.url_for("/a"), tmp_path / "b.json", headers={"X-Api-Key": "k3y"})
    assert err.value.status is None and "k3y" not in str(err.value)


@pytest.mark.parametrize(
    ("bodies", "message", "bad_page"),
    [
        (lambda s: [_ged_page(5, 4, 2, _ged_url(s, 1))],
         "page 0: TotalPages 4 disagrees with TotalCount 5 at pagesize 2 \\(expected 3 pages\\)", 0),
        (lambda s: [_ged_page(5, 3, 2, _ged_url(s, 1)), _ged_page(5, 3, 1, _ged_url(s, 2))],
         "page 1: Result has 1 events, shorter than the 2 promised for page 1 of 3", 1),
        (lambda s: [_ged_page(5, 3, 2, _ged_url(s, 1)), _ged_page(7, 4, 2, _ged_url(s, 2))],
         "page 1 says TotalCount 7, TotalPages 4; page 0 said 5, 3", 1),
        (lambda s: [_ged_page(5, 3, 2, "")], "page 0 of 3 has an empty NextPageUrl", 0),
        (lambda s: [_ged_page(2, 1, 2, _ged_url(s, 1))], "page 0 is the last of 1 but NextPageUrl points on", 0),
        (lambda s: [_ged_page(5, 3, 2, _ged_url(s, 0))], "does not lead to page 1", 0),
        (lambda s: [b'{"Message": "An error has occurred."}'], "page 0 is not a UCDP API page", 0),
    ],
)
def test_ucdp_page_counts_are_cross_checked(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str,
    bodies, message: str, bad_page: int,
) -> None:
    _serve_ged(server, bodies(server))
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(FetchError, match=message) as err:
            _fetch_ged(client, draft, base_url(server), quota)
        assert not (draft.dir / f"gedevents_25.1_2024-01-01_2024-12-31_p{bad_page}.json").exists()
        assert len(list(draft.dir.iterdir())) == bad_page  # the good pages before it stay, the bad one does not
    assert f"page={bad_page}" in err.value.url


def test_ucdp_429_retry_after_is_honoured_and_5xx_retried(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str,
    sleeps: list[float],
) -> None:
    server.expect_ordered_request(GED).respond_with_data("slow down", status=429, headers={"Retry-After": "7"})
    server.expect_ordered_request(GED).respond_with_data(_ged_page(3, 2, 2, _ged_url(server, 1)))
    server.expect_ordered_request(GED).respond_with_data("busy", status=503)
    server.expect_ordered_request(GED).respond_with_data(_ged_page(3, 2, 1, "", 3))
    with store.draft("ucdp_ged") as draft:
        assert len(_fetch_ged(client, draft, base_url(server), quota)) == 2
    server.check_assertions()
    assert sleeps[0] == 7.0 and len(sleeps) == 2 and 0.5 <= sleeps[1] <= 1.0
    assert used_today(quota) == 2  # one per page: the ledger counts pages, not the client's retries


def test_ucdp_truncated_body_is_retried(
    client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str, sleeps: list[float]
) -> None:
    body = _ged_page(1, 1, 1, "")
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n"
    truncated = head.format(len(body)).encode() + body[:20]
    complete = head.format(len(body)).encode() + body
    with raw_server([truncated, complete]) as base:
        with store.draft("ucdp_ged") as draft:
            names = _fetch_ged(client, draft, base, quota)
            assert (draft.dir / names[0]).read_bytes() == body
    assert len(sleeps) == 1
    with raw_server([truncated] * 3) as base:
        with store.draft("ucdp_ged") as draft:
            with pytest.raises(FetchError, match=f"truncated: got 20 of {len(body)} bytes; gave up after 3 attempts"):
                _fetch_ged(client, draft, base, quota)
            assert list(draft.dir.iterdir()) == []


def test_quota_ledger_stops_before_the_limit_persists_and_resets_daily(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "ledger" / ".ucdp-api-quota.json"
    quota = UcdpQuota(path, limit=2, clock=clock)
    assert [quota.take(), quota.take()] == [1, 2]
    with pytest.raises(QuotaExceededError, match="quota reached: 2 of 2 requests already sent on 2026-03-01") as err:
        quota.take("https://ucdpapi.example/api/gedevents/25.1")
    assert isinstance(err.value, FetchError) and err.value.source == "ucdp_ged"
    again = UcdpQuota(path, limit=2, clock=clock)  # another process, later
    assert json.loads(path.read_text())["requests"] == {"2026-03-01": 2}
    with pytest.raises(QuotaExceededError):
        again.take()
    clock.now += timedelta(hours=1)  # 00:00 UTC on the next day
    assert again.take() == 1
    assert json.loads(path.read_text())["requests"] == {"2026-03-01": 2, "2026-03-02": 1}
    clock.now += timedelta(days=40)
    again.take()
    assert list(json.loads(path.read_text())["requests"]) == ["2026-04-11"]  # old days are pruned
    # A clock in another zone still counts UTC days.
    local = Clock(datetime(2026, 4, 12, 1, 0, tzinfo=timezone(timedelta(hours=3))))
    assert UcdpQuota(path, limit=2, clock=local).today() == "2026-04-11"


def test_quota_ledger_that_cannot_be_read_stops_requests(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "ledger.json"
    path.write_text("{not json")
    with pytest.raises(QuotaExceededError, match="unreadable.*fix or delete it"):
        UcdpQuota(path, clock=clock).take()


def test_ucdp_fetch_stops_when_the_quota_runs_out(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, tmp_path: Path, clock: Clock, ucdp_token: str
) -> None:
    quota = UcdpQuota(tmp_path / "q.json", limit=2, clock=clock)
    _serve_ged(server, [_ged_page(5, 3, 2, _ged_url(server, 1)), _ged_page(5, 3, 2, _ged_url(server, 2), 3)])
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(QuotaExceededError, match="page=2"):
            _fetch_ged(client, draft, base_url(server), quota)
    assert len(server.log) == 2  # the third request was never sent


def test_ucdp_bulk_urls() -> None:
    assert ucdp_bulk_url("https://ucdp.uu.se", "ged", "25.1") == "https://ucdp.uu.se/downloads/ged/ged251-csv.zip"
    assert ucdp_bulk_url("https://ucdp.uu.se/", "candidate", "26.0.7") == \
        "https://ucdp.uu.se/downloads/candidateged/GEDEvent_v26_0_7.csv"
    assert ucdp_bulk_url("https://ucdp.uu.se", "acd", "26.1") == \
        "https://ucdp.uu.se/downloads/ucdpprio/ucdp-prio-acd-261-csv.zip"
    for dataset, version in [("ged", "26.0.7"), ("candidate", "25.1"), ("brd", "25.1"), ("ged", "../x")]:
        with pytest.raises(ValueError):
            ucdp_bulk_url("https://ucdp.uu.se", dataset, version)


def test_ucdp_bulk_zip_is_stored_as_fetched_and_a_304_reuses_it(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("THREATWATCH_UCDP_TOKEN", raising=False)  # bulk files need none
    payload = one_member_zip("GEDEvent_v25_1.csv", b"id,relid,year\n1,X,2024\n")
    path = "/downloads/ged/ged251-csv.zip"
    server.expect_ordered_request(path).respond_with_data(payload, content_type="application/zip",
                                                          headers={"ETag": '"ged-251"'})
    server.expect_ordered_request(path, headers={"If-None-Match": '"ged-251"'}).respond_with_data(
        "", status=304, headers={"ETag": '"ged-251"'})
    with store.draft("ucdp_ged") as draft:
        assert fetch_ucdp_bulk(client, draft, base_url(server), dataset="ged", version="25.1") == ["ged251-csv.zip"]
        first = draft.commit("http", **TERMS)
    assert store.file_path(first, "ged251-csv.zip").read_bytes() == payload  # the zip stays a zip
    assert first.file("ged251-csv.zip").params == {"dataset": "ged", "version": "25.1"}
    with store.draft("ucdp_ged") as draft:
        fetch_ucdp_bulk(client, draft, base_url(server), dataset="ged", version="25.1")
        assert draft.commit("http", **TERMS) is None
    server.check_assertions()
    assert store.list("ucdp_ged") == [first]


def test_ucdp_candidate_csv_and_acd_zip(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    server.expect_request("/downloads/candidateged/GEDEvent_v26_0_7.csv").respond_with_data(
        "id,relid\n1,X\n", content_type="text/csv")
    server.expect_request("/downloads/ucdpprio/ucdp-prio-acd-251-csv.zip").respond_with_data(
        one_member_zip("UcdpPrioConflict_v25_1.csv", b"conflict_id\n1\n"), content_type="application/zip")
    with store.draft("ucdp_ged") as draft:
        assert fetch_ucdp_bulk(client, draft, base_url(server), dataset="candidate", version="26.0.7") == \
            ["GEDEvent_v26_0_7.csv"]
    with store.draft("ucdp_acd") as draft:
        assert fetch_ucdp_bulk(client, draft, base_url(server), dataset="acd", version="25.1") == \
            ["ucdp-prio-acd-251-csv.zip"]
