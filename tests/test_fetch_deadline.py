"""One source's fetch has a total deadline across requests, retries, waits and reads, and names the source."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.lib.fetch_deadline import DEFAULT_FETCH_DEADLINE
from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.http_settings import HttpSettings
from pipelines.lib.resources import HttpClientResource
from tests.fetch_fixtures import raw_server

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n"


@contextmanager
def silent_server(first_bytes: bytes = b"", drip: bytes = b"") -> Iterator[str]:
    """Accepts every connection, sends `first_bytes`, then `drip` every 0.1 s (or nothing) for at most 30 s."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop, held = threading.Event(), []

    def hold(conn: socket.socket) -> None:
        try:
            conn.sendall(first_bytes)
            while drip and not stop.wait(0.1):
                conn.sendall(drip)
        except OSError:
            pass
        stop.wait(30)
        conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            held.append(threading.Thread(target=hold, args=(conn,), daemon=True))
            held[-1].start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        sock.close()


def client(deadline: float, waits: list[float] | None = None, **settings: float) -> HttpClient:
    # Read timeouts well above the deadline: only the deadline can end these fetches in time.
    merged = {"connect_timeout": 5.0, "read_timeout": 5.0, "max_attempts": 3, **settings, "fetch_deadline": deadline}
    return HttpClient(HttpSettings(**merged), sleep=(waits if waits is not None else []).append)


def test_a_server_that_accepts_and_never_answers_is_cut_off_naming_the_source(tmp_path: Path):
    with silent_server() as base:
        with pytest.raises(FetchError) as caught:
            client(0.5).fetch_to_file("worldbank", f"{base}/v2/indicator", tmp_path / "p.json")
    assert caught.value.source == "worldbank"
    assert str(caught.value).startswith(f"[worldbank] GET {base}/v2/indicator: timed out")
    assert "fetch deadline of 0.5 s passed" in str(caught.value) and "THREATWATCH_FETCH_DEADLINE_SECONDS" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_body_that_trickles_in_forever_is_cut_off_while_reading(tmp_path: Path):
    with silent_server(HEADERS, drip=b"x" * 10) as base:
        with pytest.raises(FetchError, match=r"fetch deadline of 0.5 s passed \(while reading the body"):
            client(0.5).fetch_to_file("acled", f"{base}/export", tmp_path / "e.csv")
    assert list(tmp_path.iterdir()) == []


def test_the_deadline_spans_every_request_of_one_client(tmp_path: Path):
    one = client(1.0)
    with raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\na,b\n"]) as base:
        assert one.fetch_to_file("sipri", f"{base}/a.csv", tmp_path / "a.csv").status == 200
    with silent_server() as base:  # the second request has what is left of the same second, not a fresh one
        with pytest.raises(FetchError, match="fetch deadline of 1 s passed"):
            one.fetch_to_file("sipri", f"{base}/b.csv", tmp_path / "b.csv")


def test_a_retry_that_would_start_after_the_deadline_is_not_waited_for(tmp_path: Path):
    waits: list[float] = []
    busy = b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with raw_server([busy]) as base:
        with pytest.raises(FetchError, match=r"fetch deadline of 30 s passed \(HTTP 503, after 1 attempt\)"):
            client(30.0, waits).fetch_to_file("ucdp_ged", f"{base}/ged.zip", tmp_path / "g.zip")
    assert waits == []  # a 120 s Retry-After would outlast the deadline: give up now, say why


def test_the_resource_takes_the_deadline_from_its_field_or_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("THREATWATCH_FETCH_DEADLINE_SECONDS", raising=False)
    assert HttpClientResource().client().settings.fetch_deadline == DEFAULT_FETCH_DEADLINE
    monkeypatch.setenv("THREATWATCH_FETCH_DEADLINE_SECONDS", "7.5")
    assert HttpClientResource().client().settings.fetch_deadline == 7.5
    assert HttpClientResource(fetch_deadline_seconds=3).client().settings.fetch_deadline == 3
    for bad in ("soon", "0", "-1", "nan"):
        monkeypatch.setenv("THREATWATCH_FETCH_DEADLINE_SECONDS", bad)
        with pytest.raises(ValueError, match=f"THREATWATCH_FETCH_DEADLINE_SECONDS='{bad}' is not a positive"):
            HttpClientResource().client()


def test_a_source_that_never_answers_fails_its_fetch_check_naming_it(tw_home: Path, monkeypatch: pytest.MonkeyPatch):
    from pipelines.run import run_pipeline

    monkeypatch.setenv("THREATWATCH_FETCH_DEADLINE_SECONDS", "1")
    with silent_server() as base:
        monkeypatch.setenv("THREATWATCH_CISA_KEV_URL", base)
        summary = run_pipeline(offline=False, select='key:"snapshot/cisa_kev"')
    failed = [c for c in summary.checks if c[1] == "fetch_succeeded" and not c[2]]
    assert failed and "[cisa_kev]" in failed[0][3] and "fetch deadline of 1 s passed" in failed[0][3]
