"""Conflict-event fetching against loopback stand-ins: UCDP (token, paging, quota, bulk), ACLED (OAuth), GDELT (md5)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import polars as pl
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.acled.fetch import AcledAuth, acled_api_error, fetch_acled_events
from pipelines.lib.credentials import MissingCredentialsError
from pipelines.defs.gdelt.fetch import (
    fetch_gdelt_export,
    fetch_gdelt_file_list,
    gdelt_exports_between,
)
from pipelines.defs.ucdp_ged.fetch import (
    QuotaExceededError,
    UcdpQuota,
    fetch_ucdp_bulk,
    fetch_ucdp_ged_api,
    ucdp_bulk_url,
)
from tests.fetch_fixtures import raw_server
from transforms.conflict_events.gdelt_files import parse_gdelt_file_list

TERMS = dict(publisher="p", licence="l", licence_url="u", citation="c")
TOKEN = "ucdp-T0ken-s3cret"
ACLED_USER = "analyst@example.org"
ACLED_PASSWORD = "pa55-w0rd-s3cret"
GED = "/api/gedevents/25.1"
ZIP = "application/zip"


def _base(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def _no_secret(*texts: str, secrets: tuple[str, ...] = (TOKEN, ACLED_USER, ACLED_PASSWORD)) -> bool:
    return not any(s in t for s in secrets for t in texts)


@pytest.fixture
def ucdp_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("THREATWATCH_UCDP_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def acled_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREATWATCH_ACLED_USERNAME", ACLED_USER)
    monkeypatch.setenv("THREATWATCH_ACLED_PASSWORD", ACLED_PASSWORD)


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 1, 23, 0, tzinfo=timezone.utc))


@pytest.fixture
def quota(tmp_path: Path, clock: Clock) -> UcdpQuota:
    return UcdpQuota(tmp_path / ".ucdp-api-quota.json", clock=clock)


# --------------------------------------------------------------------------- UCDP API


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
    base = _base(server) if host is None else f"http://{host}:{server.port}"
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
        names = _fetch_ged(client, draft, _base(server), quota)
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
            _fetch_ged(client, draft, _base(server), quota)
        assert list(draft.dir.iterdir()) == []
    assert err.value.status == 401 and "THREATWATCH_UCDP_TOKEN" in str(err.value) and _no_secret(str(err.value))
    assert len(server.log) == 1  # a 401 is not retried


def test_ucdp_without_a_token_is_missing_credentials(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("THREATWATCH_UCDP_TOKEN", raising=False)
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(MissingCredentialsError, match="THREATWATCH_UCDP_TOKEN"):
            _fetch_ged(client, draft, _base(server), quota)
    assert server.log == [] and used_today(quota) == 0


def test_ucdp_next_page_url_on_another_host_is_refused(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    # "localhost" reaches the same loopback server, so a request sent there would show up in its log.
    _serve_ged(server, [_ged_page(4, 2, 2, _ged_url(server, 1, host="localhost"))])
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(FetchError, match="page 0: NextPageUrl leads to .*localhost.*refused") as err:
            _fetch_ged(client, draft, _base(server), quota)
        assert list(draft.dir.iterdir()) == []
    assert len(server.log) == 1 and _no_secret(str(err.value))


def test_a_redirect_off_origin_never_carries_the_token(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    elsewhere = _ged_url(server, 0, host="localhost")
    server.expect_request(GED).respond_with_data("", status=302, headers={"Location": elsewhere})
    with store.draft("ucdp_ged") as draft:
        with pytest.raises(FetchError, match="refused a redirect to .*localhost.*credential header") as err:
            _fetch_ged(client, draft, _base(server), quota)
    assert len(server.log) == 1 and _no_secret(str(err.value))


def test_a_redirect_on_the_same_origin_is_followed(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, quota: UcdpQuota, ucdp_token: str
) -> None:
    server.expect_request("/old" + GED).respond_with_data("", status=301, headers={"Location": _ged_url(server, 0)})
    _serve_ged(server, [_ged_page(1, 1, 1, "")])
    with store.draft("ucdp_ged") as draft:
        assert len(_fetch_ged(client, draft, _base(server) + "/old", quota)) == 1
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
            _fetch_ged(client, draft, _base(server), quota)
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
        assert len(_fetch_ged(client, draft, _base(server), quota)) == 2
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
            _fetch_ged(client, draft, _base(server), quota)
    assert len(server.log) == 2  # the third request was never sent


def _zip(member: str, text: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, text)
    return buf.getvalue()


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
    payload = _zip("GEDEvent_v25_1.csv", b"id,relid,year\n1,X,2024\n")
    path = "/downloads/ged/ged251-csv.zip"
    server.expect_ordered_request(path).respond_with_data(payload, content_type="application/zip",
                                                          headers={"ETag": '"ged-251"'})
    server.expect_ordered_request(path, headers={"If-None-Match": '"ged-251"'}).respond_with_data(
        "", status=304, headers={"ETag": '"ged-251"'})
    with store.draft("ucdp_ged") as draft:
        assert fetch_ucdp_bulk(client, draft, _base(server), dataset="ged", version="25.1") == ["ged251-csv.zip"]
        first = draft.commit("http", **TERMS)
    assert store.file_path(first, "ged251-csv.zip").read_bytes() == payload  # the zip stays a zip
    assert first.file("ged251-csv.zip").params == {"dataset": "ged", "version": "25.1"}
    with store.draft("ucdp_ged") as draft:
        fetch_ucdp_bulk(client, draft, _base(server), dataset="ged", version="25.1")
        assert draft.commit("http", **TERMS) is None
    server.check_assertions()
    assert store.list("ucdp_ged") == [first]


def test_ucdp_candidate_csv_and_acd_zip(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    server.expect_request("/downloads/candidateged/GEDEvent_v26_0_7.csv").respond_with_data(
        "id,relid\n1,X\n", content_type="text/csv")
    server.expect_request("/downloads/ucdpprio/ucdp-prio-acd-251-csv.zip").respond_with_data(
        _zip("UcdpPrioConflict_v25_1.csv", b"conflict_id\n1\n"), content_type="application/zip")
    with store.draft("ucdp_ged") as draft:
        assert fetch_ucdp_bulk(client, draft, _base(server), dataset="candidate", version="26.0.7") == \
            ["GEDEvent_v26_0_7.csv"]
    with store.draft("ucdp_acd") as draft:
        assert fetch_ucdp_bulk(client, draft, _base(server), dataset="acd", version="25.1") == \
            ["ucdp-prio-acd-251-csv.zip"]


# --------------------------------------------------------------------------- ACLED


class AcledStandIn:
    """An OAuth token endpoint and read API: tokens tok-1, tok-2, ... ; `valid` says which the API accepts."""

    def __init__(self, server: HTTPServer, rows: int = 3, expires_in: int = 86400):
        self.grants: list[dict[str, str]] = []
        self.valid: set[str] | None = None  # None: every token issued
        self.rows = rows
        self.expires_in = expires_in
        self.reads: list[tuple[str, dict[str, str]]] = []
        server.expect_request("/oauth/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/api/acled/read", method="GET").respond_with_handler(self.read)

    def token(self, request: Request) -> Response:
        form = {k: v for k, v in request.form.items()}
        self.grants.append(form)
        ok = (form.get("grant_type") == "password" and form.get("password") == ACLED_PASSWORD) or \
             (form.get("grant_type") == "refresh_token" and form.get("refresh_token", "").startswith("ref-"))
        if not ok or form.get("client_id") != "acled":
            return Response(json.dumps({"error": "invalid_grant"}), status=400, content_type="application/json")
        n = len(self.grants)
        body = {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": f"tok-{n}",
                "refresh_token": f"ref-{n}"}
        return Response(json.dumps(body), content_type="application/json")

    def read(self, request: Request) -> Response:
        bearer = request.headers.get("Authorization", "")
        args = {k: v for k, v in request.args.items()}
        self.reads.append((bearer, args))
        issued = {f"tok-{i}" for i in range(1, len(self.grants) + 1)}
        if bearer.removeprefix("Bearer ") not in (self.valid if self.valid is not None else issued):
            return Response('{"message": "Unauthorized"}', status=401, content_type="application/json")
        limit, page = int(args["limit"]), int(args["page"])
        start = (page - 1) * limit
        ids = range(start, min(self.rows, start + limit))
        data = [{"event_id_cnty": f"BEN{i}", "event_date": "2024-01-02"} for i in ids]
        return Response(json.dumps({"status": 200, "success": True, "count": len(data), "data": data}),
                        content_type="application/json")


def _acled(client: HttpClient, draft: SnapshotDraft, server: HTTPServer, auth: AcledAuth, limit: int = 2) -> list[str]:
    return fetch_acled_events(client, draft, _base(server), start_date="2024-01-01", end_date="2024-01-31",
                              page_limit=limit, auth=auth)


def test_acled_logs_in_sends_the_bearer_and_pages_until_a_short_page(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    acled = AcledStandIn(server, rows=5)
    auth = AcledAuth(client, _base(server))
    with store.draft("acled") as draft:
        names = _acled(client, draft, server, auth)
        manifest = draft.commit("http", **TERMS)
    assert names == ["acled_2024-01-01_2024-01-31_p1.json", "acled_2024-01-01_2024-01-31_p2.json",
                     "acled_2024-01-01_2024-01-31_p3.json"]
    assert acled.grants == [{"username": ACLED_USER, "password": ACLED_PASSWORD, "grant_type": "password",
                             "client_id": "acled"}]
    assert [b for b, _ in acled.reads] == ["Bearer tok-1"] * 3
    assert acled.reads[0][1] == {"_format": "json", "event_date": "2024-01-01|2024-01-31",
                                 "event_date_where": "BETWEEN", "limit": "2", "page": "1"}
    assert [len(json.loads(store.file_path(manifest, n).read_bytes())["data"]) for n in names] == [2, 2, 1]
    assert manifest.file(names[1]).params["page"] == 2
    assert _no_secret(manifest.to_json(), caplog.text, secrets=(ACLED_USER, ACLED_PASSWORD, "tok-1", "ref-1"))


def test_acled_stops_after_a_full_page_followed_by_an_empty_one(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None
) -> None:
    AcledStandIn(server, rows=4)
    with store.draft("acled") as draft:
        names = _acled(client, draft, server, AcledAuth(client, _base(server)))
        assert [len(json.loads((draft.dir / n).read_bytes())["data"]) for n in names] == [2, 2, 0]


def test_acled_refreshes_an_expired_token(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None, clock: Clock
) -> None:
    acled = AcledStandIn(server, rows=1, expires_in=3600)
    auth = AcledAuth(client, _base(server), clock=clock)
    assert auth.headers() == {"Authorization": "Bearer tok-1"}
    clock.now += timedelta(minutes=30)
    assert auth.headers() == {"Authorization": "Bearer tok-1"}  # still valid: no new grant
    clock.now += timedelta(minutes=30)  # expired
    with store.draft("acled") as draft:
        _acled(client, draft, server, auth)
    assert [g["grant_type"] for g in acled.grants] == ["password", "refresh_token"]
    assert acled.grants[1] == {"grant_type": "refresh_token", "refresh_token": "ref-1", "client_id": "acled"}
    assert [b for b, _ in acled.reads] == ["Bearer tok-2"]


def test_acled_401_refreshes_once_and_retries(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None
) -> None:
    acled = AcledStandIn(server, rows=1)
    acled.valid = {"tok-2"}  # tok-1 is revoked as soon as it is issued
    with store.draft("acled") as draft:
        assert len(_acled(client, draft, server, AcledAuth(client, _base(server)))) == 1
    assert [g["grant_type"] for g in acled.grants] == ["password", "refresh_token"]
    assert [b for b, _ in acled.reads] == ["Bearer tok-1", "Bearer tok-2"]


def test_acled_401_after_the_refresh_is_an_error(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None
) -> None:
    acled = AcledStandIn(server, rows=1)
    acled.valid = set()
    with store.draft("acled") as draft:
        with pytest.raises(FetchError, match="HTTP 401 again after renewing the token") as err:
            _acled(client, draft, server, AcledAuth(client, _base(server)))
        assert list(draft.dir.iterdir()) == []
    assert len(acled.grants) == 2 and len(acled.reads) == 2  # one refresh, one retry
    assert _no_secret(str(err.value)) and "tok-" not in str(err.value) and "ref-" not in str(err.value)


def test_acled_refused_refresh_token_falls_back_to_a_login(
    server: HTTPServer, client: HttpClient, acled_login: None, clock: Clock
) -> None:
    acled = AcledStandIn(server, expires_in=60)
    auth = AcledAuth(client, _base(server), clock=clock)
    auth.headers()
    auth._refresh = "revoked"  # noqa: SLF001 - a refresh token ACLED no longer accepts
    clock.now += timedelta(hours=1)
    assert auth.headers() == {"Authorization": "Bearer tok-3"}
    assert [g["grant_type"] for g in acled.grants] == ["password", "refresh_token", "password"]


def test_acled_refused_login_names_the_variables_not_their_values(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("THREATWATCH_ACLED_USERNAME", ACLED_USER)
    monkeypatch.setenv("THREATWATCH_ACLED_PASSWORD", "wrong-" + ACLED_PASSWORD)
    acled = AcledStandIn(server)
    auth = AcledAuth(client, _base(server))
    with store.draft("acled") as draft:
        with pytest.raises(FetchError, match="ACLED refused the login \\(HTTP 400\\)") as err:
            _acled(client, draft, server, auth)
    message = str(err.value)
    assert message.startswith("[acled] POST ") and "THREATWATCH_ACLED_PASSWORD" in message
    assert _no_secret(message, repr(auth), caplog.text) and acled.reads == []


def test_acled_without_credentials_is_missing_credentials(client: HttpClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THREATWATCH_ACLED_USERNAME", raising=False)
    monkeypatch.setenv("THREATWATCH_ACLED_PASSWORD", ACLED_PASSWORD)
    with pytest.raises(MissingCredentialsError, match="THREATWATCH_ACLED_USERNAME") as err:
        AcledAuth(client, "http://127.0.0.1:9")
    assert ACLED_PASSWORD not in str(err.value)


def test_acled_error_body_is_quoted(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None
) -> None:
    server.expect_request("/oauth/token", method="POST").respond_with_json(
        {"access_token": "tok-x", "refresh_token": "ref-x", "expires_in": 86400})
    server.expect_request("/api/acled/read").respond_with_json(
        {"status": 400, "success": False, "error": {"message": "Invalid date range for this access level"}})
    with store.draft("acled") as draft:
        message = "ACLED API error: status 400: Invalid date range for this access level"
        with pytest.raises(FetchError, match=message) as e:
            _acled(client, draft, server, AcledAuth(client, _base(server)))
        assert list(draft.dir.iterdir()) == []
    assert "page=1" in e.value.url and "tok-x" not in str(e.value)


def test_acled_api_error_shapes() -> None:
    assert acled_api_error({"status": 200, "success": True, "count": 0, "data": []}) is None
    denied = {"success": False, "error": [{"status": 403, "message": "Access denied"}]}
    assert acled_api_error(denied) == "Access denied"
    assert acled_api_error({"error": "Invalid token"}) == "Invalid token"
    assert acled_api_error({"success": False}) == "success is false, without a message"
    assert "list" in acled_api_error([1, 2])


def test_post_form_retries_5xx_and_keeps_the_form_out_of_errors(
    server: HTTPServer, client: HttpClient, sleeps: list[float]
) -> None:
    server.expect_ordered_request("/t", method="POST").respond_with_data("busy", status=503)
    server.expect_ordered_request("/t", method="POST").respond_with_json({"ok": 1})
    assert client.post_form("x", server.url_for("/t"), {"password": ACLED_PASSWORD}) == {"ok": 1}
    assert len(sleeps) == 1 and parse_qs(server.log[1][0].get_data(as_text=True)) == {"password": [ACLED_PASSWORD]}
    server.expect_request("/u", method="POST").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(FetchError, match=r"^\[x\] POST http://.*/u: expected JSON, got HTML") as err:
        client.post_form("x", server.url_for("/u"), {"password": ACLED_PASSWORD})
    server.expect_request("/v", method="POST").respond_with_data("no", status=403)
    with pytest.raises(FetchError, match="POST .*HTTP 403") as denied:
        client.post_form("x", server.url_for("/v") + "?api_key=k3y", {"password": ACLED_PASSWORD})
    assert denied.value.status == 403 and "k3y" not in str(denied.value)
    assert _no_secret(str(err.value), str(denied.value))


# --------------------------------------------------------------------------- GDELT


def _export_zip(ts: str) -> bytes:
    return _zip(f"{ts}.export.CSV", f"1217480000\t{ts[:8]}\t202501\n".encode())


def _file_list(server: HTTPServer, entries: list[tuple[str, bytes]], host: str | None = None) -> str:
    base = _base(server) if host is None else f"http://{host}:{server.port}"
    return "".join(f"{len(b)} {hashlib.md5(b).hexdigest()} {base}/gdeltv2/{name}\n" for name, b in entries)


def test_gdelt_lastupdate_is_saved_and_parsed(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    export = _export_zip("20250104170000")
    text = _file_list(server, [("20250104170000.export.CSV.zip", export),
                               ("20250104170000.mentions.CSV.zip", b"m" * 10),
                               ("20250104170000.gkg.csv.zip", b"g" * 20)])
    server.expect_request("/gdeltv2/lastupdate.txt").respond_with_data(text, content_type="text/plain")
    with store.draft("gdelt") as draft:
        name, frame = fetch_gdelt_file_list(client, draft, _base(server))
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
                                  expected_size=len(body), expected_md5=md5.upper(), base_url=_base(server))
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
                               expected_size=len(body) + size_delta, expected_md5=md5 or real, base_url=_base(server))
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
                                   expected_md5=hashlib.md5(body).hexdigest(), base_url=_base(server))
        with pytest.raises(FetchError, match="is not a <YYYYMMDDHHMMSS>.export.CSV.zip file"):
            fetch_gdelt_export(client, draft, server.url_for("/gdeltv2/20250104164500.gkg.csv.zip"),
                               expected_size=1, expected_md5="0" * 32, base_url=_base(server))
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
            fetch_gdelt_file_list(client, draft, _base(server), "masterfilelist")
        with pytest.raises(ValueError, match="which must be one of"):
            fetch_gdelt_file_list(client, draft, _base(server), "translation")
