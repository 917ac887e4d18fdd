"""Fetching EuRepoC's bulk release (Global Database plus the long Attribution and Receiver files)."""

from __future__ import annotations

from pipelines.http import HttpClient
from pipelines.snapshots import SnapshotDraft
from pipelines.sources.conditional_get import fetch_into_draft
from pipelines.sources.credentials import require_credentials

# The 1.1 bulk release; THREATWATCH_EUREPOC_URL can point at a newer record or a mirror with the same names.
RELEASE_FILES = ("EuRepoC_Global_Database_1.1.csv", "EuRepoC_Attribution_dataset_1.1.csv", "EuRepoC_Receiver_dataset_1.1.csv")


def fetch_eurepoc_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """The three release CSVs, conditionally; the token (THREATWATCH_EUREPOC_TOKEN) goes in the Authorization header."""
    token = require_credentials("eurepoc")["THREATWATCH_EUREPOC_TOKEN"]
    headers = {"Authorization": f"Bearer {token}"}
    for name in RELEASE_FILES:
        fetch_into_draft(client, draft, "eurepoc", f"{base_url.rstrip('/')}/{name}", name, expect="csv",
                         params={"download": 1}, headers=headers)
    return list(RELEASE_FILES)
