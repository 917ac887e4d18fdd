"""Fixtures for fetch tests on loopback: an IPv4 server, a client whose retries sleep into a list, a store.

Loaded for every test module through `pytest_plugins` in conftest.py; a module may still define its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.http import HttpClient, HttpSettings
from pipelines.snapshots import SnapshotStore


@pytest.fixture
def server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> HttpClient:
    return HttpClient(HttpSettings(max_attempts=3), sleep=sleeps.append)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")
