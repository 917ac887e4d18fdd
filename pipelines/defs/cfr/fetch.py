"""Fetching the CFR Cyber Operations Tracker's CSV export."""

from __future__ import annotations

from pipelines.lib.http import HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft

EXPORT_PATH = "/interactive/cyber-operations/export-incidents"


def fetch_cfr_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """The tracker's export as cyber-operations-incidents.csv (the name CFR gives it), conditionally."""
    name = "cyber-operations-incidents.csv"
    fetch_into_draft(client, draft, "cfr", f"{base_url.rstrip('/')}{EXPORT_PATH}", name, expect="csv",
                     params={"_format": "csv"})
    return [name]
