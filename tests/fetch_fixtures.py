"""Fixtures for fetch tests on loopback: an IPv4 server, a client whose retries sleep into a list, a store.

Loaded for every test module through `pytest_plugins` in conftest.py; a module may still define its own.
"""

from __future__ import annotations

import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.http import HttpClient
from pipelines.lib.http_settings import HttpSettings
from pipelines.lib.snapshots import SnapshotStore


@pytest.fixture
def server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


@pytest.fixture
def clock() -> "Clock":
    return Clock(datetime(2026, 3, 1, 23, 0, tzinfo=timezone.utc))


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def base_url(server: HTTPServer) -> str:
    """The loopback server's base URL, without the trailing slash."""
    return server.url_for("/").rstrip("/")


def one_member_zip(member: str, text: bytes) -> bytes:
    """A zip holding one file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, text)
    return buf.getvalue()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> HttpClient:
    return HttpClient(HttpSettings(max_attempts=3), sleep=sleeps.append)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")


@contextmanager
def raw_server(replies: list[bytes]) -> Iterator[str]:
    """A socket server that sends each reply verbatim on its own connection, then closes it; yields its base URL.

    For what an HTTP server library will not send: truncated bodies, lying Content-Length headers.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(2.0)

    def serve() -> None:
        for reply in replies:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
