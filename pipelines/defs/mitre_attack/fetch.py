"""Fetching MITRE ATT&CK's STIX bundles (enterprise, mobile, ICS) from the ATT&CK data repository."""

from __future__ import annotations

from pipelines.lib.http import HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft

DOMAINS = ("enterprise-attack", "mobile-attack", "ics-attack")


def fetch_mitre_attack_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """One bundle per domain, `<domain>.json`, each fetched conditionally."""
    names = []
    for domain in DOMAINS:
        name = f"{domain}.json"
        fetch_into_draft(client, draft, "mitre_attack", f"{base_url.rstrip('/')}/{domain}/{name}", name, expect="json")
        names.append(name)
    return names
