"""The HTTP client against loopback servers: retries, timeouts, truncation, conditional GET, body checks."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.http_retry import parse_retry_after
from pipelines.lib.http_settings import USER_AGENT, HttpSettings
from tests.fetch_fixtures import raw_server


@pytest.fixture(scope="module")
def _threaded_server() -> Iterator[HTTPServer]:
    # Threaded, so a handler that stalls (read-timeout tests) does not block the retry behind it.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(_threaded_server: HTTPServer) -> HTTPServer:
    _threaded_server.clear()
    return _threaded_server


@pytest.fixture
def waits() -> list[float]:
    return []


def make_client(waits: list[float], **overrides: float) -> HttpClient:
    settings = HttpSettings(**{"connect_timeout": 2.0, "read_timeout": 2.0, "max_attempts": 3, **overrides})
    return HttpClient(settings, sleep=waits.append)


def _requests(server: HTTPServer, path: str) -> list[Request]:
    return [r for r, _ in server.log if r.path == path]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_429_with_retry_after_is_honoured(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_ordered_request("/data").respond_with_data("slow down", status=429, headers={"Retry-After": "2"})
    server.expect_ordered_request("/data").respond_with_json({"ok": 1}, headers={"ETag": '"e1"'})
    result = make_client(waits).fetch_to_file("t", server.url_for("/data"), tmp_path / "d.json", expect="json")
    assert waits == [2.0]
    body = (tmp_path / "d.json").read_bytes()
    assert result.status == 200 and result.path == tmp_path / "d.json" and result.etag == '"e1"'
    assert result.sha256 == hashlib.sha256(body).hexdigest() and result.bytes == len(body)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result.retrieved_at)
    assert _leftovers(tmp_path) == ["d.json"]


def test_retry_after_is_capped_and_read_as_http_date(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_ordered_request("/d").respond_with_data("", status=503, headers={"Retry-After": "9999"})
    server.expect_ordered_request("/d").respond_with_data("a,b\n")
    make_client(waits, retry_after_max=5.0).fetch_to_file("t", server.url_for("/d"), tmp_path / "d.csv", expect="csv")
    assert waits == [5.0]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("not a date", now) is None


def test_500_then_200_backs_off_with_jitter(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_ordered_request("/d").respond_with_data("oops", status=500)
    server.expect_ordered_request("/d").respond_with_json([1, 2])
    result = make_client(waits).fetch_to_file("t", server.url_for("/d"), tmp_path / "d.json", expect="json")
    assert json.loads(result.path.read_text()) == [1, 2]
    assert len(waits) == 1 and 0.5 <= waits[0] <= 1.0


def test_503_every_time_gives_up_after_max_attempts(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/d").respond_with_data("down", status=503)
    with pytest.raises(FetchError, match=r"HTTP 503; gave up after 3 attempts") as err:
        make_client(waits).fetch_to_file("t", server.url_for("/d"), tmp_path / "d.csv")
    assert err.value.source == "t" and err.value.url == server.url_for("/d")
    assert len(_requests(server, "/d")) == 3
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0  # exponential
    assert _leftovers(tmp_path) == []


def test_404_fails_at_once(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/gone").respond_with_data("no", status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        make_client(waits).fetch_to_file("t", server.url_for("/gone"), tmp_path / "d.csv")
    assert len(_requests(server, "/gone")) == 1 and waits == [] and _leftovers(tmp_path) == []


def _stalling(calls: list[int], stall_first_n: int, release: threading.Event) -> object:
    def handler(request: Request) -> Response:
        calls.append(1)
        if len(calls) <= stall_first_n:
            release.wait(0.25)  # longer than the 0.1 s read timeout below, unless the test releases it
        return Response('{"ok": true}', content_type="application/json")

    return handler


def test_read_timeout_is_retried(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    calls: list[int] = []
    server.expect_request("/slow").respond_with_handler(_stalling(calls, 1, threading.Event()))
    client = make_client(waits, read_timeout=0.1)
    result = client.fetch_to_file("t", server.url_for("/slow"), tmp_path / "s.json", expect="json")
    assert result.status == 200 and len(calls) == 2 and len(waits) == 1


def test_read_timeout_every_time_is_an_error(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    calls: list[int] = []
    release = threading.Event()
    server.expect_request("/slow").respond_with_handler(_stalling(calls, 99, release))
    with pytest.raises(FetchError, match=r"timed out.*gave up after 2 attempts"):
        make_client(waits, read_timeout=0.1, max_attempts=2).fetch_to_file("t", server.url_for("/slow"), tmp_path / "s")
    release.set()  # let the stalled server threads finish now
    assert len(calls) == 2 and len(waits) == 1


TRUNCATED = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\n" + b"x" * 10
COMPLETE = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\na,b\n"


def test_truncated_body_is_retried_then_fails_leaving_nothing(waits: list[float], tmp_path: Path) -> None:
    with raw_server([TRUNCATED] * 3) as base:
        with pytest.raises(FetchError, match=r"truncated: got 10 of 100 bytes; gave up after 3 attempts"):
            make_client(waits).fetch_to_file("t", f"{base}/file.csv", tmp_path / "f.csv")
    assert len(waits) == 2 and _leftovers(tmp_path) == []


def test_truncated_body_then_complete_succeeds(waits: list[float], tmp_path: Path) -> None:
    with raw_server([TRUNCATED, COMPLETE]) as base:
        result = make_client(waits).fetch_to_file("t", f"{base}/file.csv", tmp_path / "f.csv", expect="csv")
    assert (tmp_path / "f.csv").read_bytes() == b"a,b\n" and result.bytes == 4 and len(waits) == 1
    assert _leftovers(tmp_path) == ["f.csv"]


def test_conditional_get_304(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/z", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v1"'}
    )
    result = make_client(waits).fetch_to_file(
        "t", server.url_for("/z"), tmp_path / "z.zip", etag='"v1"', last_modified="Tue, 01 Jul 2025 00:00:00 GMT"
    )
    assert result.status == 304 and result.path is None and result.etag == '"v1"'
    assert _requests(server, "/z")[0].headers["If-Modified-Since"] == "Tue, 01 Jul 2025 00:00:00 GMT"
    assert _leftovers(tmp_path) == []


def test_unasked_304_is_an_error(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/z").respond_with_data("", status=304)
    with pytest.raises(FetchError, match="HTTP 304"):
        make_client(waits).fetch_to_file("t", server.url_for("/z"), tmp_path / "z.zip")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<!DOCTYPE html><html><body>Login</body></html>", "text/html"), ("\n  <html>maintenance</html>", "application/json")],
)
def test_html_where_json_expected(server: HTTPServer, waits: list[float], tmp_path: Path, body: str, content_type: str) -> None:
    server.expect_request("/api").respond_with_data(body, content_type=content_type)
    with pytest.raises(FetchError, match=r"expected JSON, got HTML \(first bytes: '<"):
        make_client(waits).fetch_to_file("t", server.url_for("/api"), tmp_path / "a.json", expect="json")
    with pytest.raises(FetchError, match="expected JSON, got HTML"):
        make_client(waits).post_form("t", server.url_for("/api"), {})  # the in-memory JSON path
    assert len(_requests(server, "/api")) == 2  # not retried
    assert _leftovers(tmp_path) == []


def test_unparseable_json_and_non_zip_are_rejected(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/api").respond_with_data('{"rows": [1, 2', content_type="application/json")
    server.expect_request("/bulk").respond_with_data("a,b\n1,2\n", content_type="application/zip")
    with pytest.raises(FetchError, match="does not parse"):
        make_client(waits).fetch_to_file("t", server.url_for("/api"), tmp_path / "a.json", expect="json")
    with pytest.raises(FetchError, match="no PK signature"):
        make_client(waits).fetch_to_file("t", server.url_for("/bulk"), tmp_path / "b.zip", expect="zip")
    assert _leftovers(tmp_path) == []


def test_max_bytes_declared_and_streamed(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/big").respond_with_data(b"x" * 1000)
    # A generator body is sent chunked, without Content-Length: the cap must hold while streaming.
    server.expect_request("/stream").respond_with_handler(lambda r: Response(iter([b"y" * 600] * 2)))
    client = make_client(waits, max_bytes=500)
    with pytest.raises(FetchError, match="Content-Length 1000 exceeds the 500 byte limit"):
        client.fetch_to_file("t", server.url_for("/big"), tmp_path / "big.bin")
    with pytest.raises(FetchError, match="exceeds the 500 byte limit"):
        client.fetch_to_file("t", server.url_for("/stream"), tmp_path / "s.bin")
    assert waits == [] and _leftovers(tmp_path) == []


def test_credentials_never_reach_messages_or_logs(
    server: HTTPServer, waits: list[float], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.expect_request("/q").respond_with_data("boom", status=500)
    url = server.url_for("/q") + "?Token=tok123&page=2"
    with caplog.at_level(logging.WARNING, logger="threatwatch.http"):
        with pytest.raises(FetchError) as err:
            make_client(waits, max_attempts=2).fetch_to_file(
                "t", url, tmp_path / "q.json", params={"api_key": "key456", "password": "pw789"},
                headers={"Authorization": "Bearer hdr000"},
            )
    text = str(err.value) + caplog.text
    for secret in ("tok123", "key456", "pw789", "hdr000"):
        assert secret not in text
    assert "page=2" in str(err.value) and "Token=REDACTED" in str(err.value)
    assert "retry 2/2" in caplog.text and "HTTP 500" in caplog.text
    assert _requests(server, "/q")[0].args["api_key"] == "key456"  # redaction is for messages only


def test_connection_error_message_is_redacted(waits: list[float], tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused, fast
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=r"connection failed.*gave up after 2 attempts") as err:
        make_client(waits, max_attempts=2).fetch_to_file("t", f"http://127.0.0.1:{port}/x?access_token=abc999",
                                                         tmp_path / "x")
    assert "abc999" not in str(err.value) and len(waits) == 1


def test_user_agent_is_sent(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/ua", headers={"User-Agent": USER_AGENT}).respond_with_json({})
    make_client(waits).fetch_to_file("t", server.url_for("/ua"), tmp_path / "ua.json")
    assert _requests(server, "/ua")[0].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("ThreatWatch/0.1 (+https://github.com/threatwatch/threatwatch")


def test_result_url_includes_query(server: HTTPServer, waits: list[float], tmp_path: Path) -> None:
    server.expect_request("/p", query_string={"format": "json", "page": "3"}).respond_with_json([])
    result = make_client(waits).fetch_to_file(
        "t", server.url_for("/p"), tmp_path / "p.json", params={"format": "json", "page": 3}, expect="json"
    )
    assert result.url == server.url_for("/p") + "?format=json&page=3"
    assert result.params == {"format": "json", "page": 3}
