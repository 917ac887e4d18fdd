"""Dagster resources: the HTTP client, the snapshot store, the lake and the warehouse."""

from __future__ import annotations

from typing import Optional

from dagster import ConfigurableResource

from pipelines.lib.config import Paths, paths_from_env
from pipelines.lib.fetch_deadline import fetch_deadline_from_env
from pipelines.lib.http import HttpClient
from pipelines.lib.http_settings import HttpSettings
from pipelines.lib.lake import Lake
from pipelines.lib.snapshots import SnapshotStore


class OfflineError(RuntimeError):
    """A network fetch was attempted in offline mode."""


class HttpClientResource(ConfigurableResource):
    """The one HTTP client every source fetches through; `offline` forbids the network entirely."""

    offline: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    # Seconds one source's fetch may take in all; None: THREATWATCH_FETCH_DEADLINE_SECONDS, else the default.
    fetch_deadline_seconds: Optional[float] = None

    def client(self) -> HttpClient:
        """A fresh client for one source's fetch: its deadline starts now."""
        if self.offline:
            raise OfflineError("offline mode: no network access is allowed")
        return HttpClient(HttpSettings(
            connect_timeout=self.connect_timeout, read_timeout=self.read_timeout, max_attempts=self.max_attempts,
            fetch_deadline=self.fetch_deadline_seconds or fetch_deadline_from_env(),
        ))


class _HomeResource(ConfigurableResource):
    # None means: read THREATWATCH_HOME (and THREATWATCH_CATALOG / _DATA_PATH) when used, so one Definitions
    # object serves every home (tests point it at a temp folder through the environment).
    home: Optional[str] = None

    def paths(self) -> Paths:
        return paths_from_env(self.home)


class SnapshotStoreResource(_HomeResource):
    """The immutable snapshot store under <home>/snapshots."""

    def store(self) -> SnapshotStore:
        return SnapshotStore(self.paths().snapshots)


class LakeResource(_HomeResource):
    """Staged Parquet under <home>/lake."""

    def lake(self) -> Lake:
        return Lake(self.paths().lake)


class WarehouseResource(_HomeResource):
    """The DuckLake warehouse (THREATWATCH_CATALOG, default sqlite:<home>/catalog.sqlite, data in <home>/warehouse/)."""
