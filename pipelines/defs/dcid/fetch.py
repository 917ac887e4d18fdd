"""Fetching DCID 2.0: the authors publish an xlsx behind a web page with no stable link."""

from __future__ import annotations

from urllib.parse import urlsplit

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft


def fetch_dcid_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """The workbook at THREATWATCH_DCID_URL when it names an .xlsx; otherwise say how to get it."""
    name = urlsplit(base_url).path.rsplit("/", 1)[-1]
    if not name.lower().endswith(".xlsx"):
        raise FetchError("dcid", base_url, "no stable download link: set THREATWATCH_DCID_URL to the .xlsx, "
                                           "or `threatwatch snapshot import dcid FILE`")
    fetch_into_draft(client, draft, "dcid", base_url, name, expect="zip")
    return [name]
