"""ACLED fetching against a loopback stand-in: OAuth password grant, refresh, paging, error bodies."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.acled.fetch import AcledAuth, acled_api_error, fetch_acled_events
from pipelines.lib.credentials import MissingCredentialsError
from tests.fetch_fixtures import Clock, base_url

TERMS = dict(publisher="p", licence="l", licence_url="u", citation="c")
ACLED_USER = "analyst@example.org"
ACLED_PASSWORD = "pa55-w0rd-s3cret"


def _no_secret(*texts: str, secrets: tuple[str, ...] = (ACLED_USER, ACLED_PASSWORD)) -> bool:
    return not any(s in t for s in secrets for t in texts)


@pytest.fixture
def acled_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREATWATCH_ACLED_USERNAME", ACLED_USER)
    monkeypatch.setenv("THREATWATCH_ACLED_PASSWORD", ACLED_PASSWORD)



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
    return fetch_acled_events(client, draft, base_url(server), start_date="2024-01-01", end_date="2024-01-31",
                              page_limit=limit, auth=auth)


def test_acled_logs_in_sends_the_bearer_and_pages_until_a_short_page(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    acled = AcledStandIn(server, rows=5)
    auth = AcledAuth(client, base_url(server))
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
        names = _acled(client, draft, server, AcledAuth(client, base_url(server)))
        assert [len(json.loads((draft.dir / n).read_bytes())["data"]) for n in names] == [2, 2, 0]


def test_acled_refreshes_an_expired_token(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None, clock: Clock
) -> None:
    acled = AcledStandIn(server, rows=1, expires_in=3600)
    auth = AcledAuth(client, base_url(server), clock=clock)
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
        assert len(_acled(client, draft, server, AcledAuth(client, base_url(server)))) == 1
    assert [g["grant_type"] for g in acled.grants] == ["password", "refresh_token"]
    assert [b for b, _ in acled.reads] == ["Bearer tok-1", "Bearer tok-2"]


def test_acled_401_after_the_refresh_is_an_error(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, acled_login: None
) -> None:
    acled = AcledStandIn(server, rows=1)
    acled.valid = set()
    with store.draft("acled") as draft:
        with pytest.raises(FetchError, match="HTTP 401 again after renewing the token") as err:
            _acled(client, draft, server, AcledAuth(client, base_url(server)))
        assert list(draft.dir.iterdir()) == []
    assert len(acled.grants) == 2 and len(acled.reads) == 2  # one refresh, one retry
    assert _no_secret(str(err.value)) and "tok-" not in str(err.value) and "ref-" not in str(err.value)


def test_acled_refused_refresh_token_falls_back_to_a_login(
    server: HTTPServer, client: HttpClient, acled_login: None, clock: Clock
) -> None:
    acled = AcledStandIn(server, expires_in=60)
    auth = AcledAuth(client, base_url(server), clock=clock)
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
    auth = AcledAuth(client, base_url(server))
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
            _acled(client, draft, server, AcledAuth(client, base_url(server)))
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
