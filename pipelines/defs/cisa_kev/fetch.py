"""Fetching CISA's Known Exploited Vulnerabilities catalog (JSON feed, updated on weekdays, CC0)."""

from __future__ import annotations

from pipelines.lib.http import HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft

FEED_PATH = "/sites/default/files/feeds/known_exploited_vulnerabilities.json"


def fetch_cisa_kev_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """The current catalog as known_exploited_vulnerabilities.json; unchanged content creates no snapshot."""
    name = "known_exploited_vulnerabilities.json"
    fetch_into_draft(client, draft, "cisa_kev", f"{base_url.rstrip('/')}{FEED_PATH}", name, expect="json")
    return [name]
