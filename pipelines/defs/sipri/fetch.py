"""Fetching the SIPRI Milex workbook, found by its link on the landing page, into a snapshot draft."""

from __future__ import annotations

import re

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.landing_page import fetch_linked_workbook, link_file_name, page_links

SOURCE = "sipri"
LANDING_PATH = "/databases/milex"
# Seen: SIPRI-Milex-data-1949-2025_v1.2.xlsx, …1949-2024_2.xlsx, …1948-2023.xlsx, …1949-2020_0.xlsx
WORKBOOK_NAME = re.compile(r"SIPRI-Milex-data-(\d{4})-(\d{4})(?:_v?([\d.]+)|_(\d+))?\.xlsx", re.I)


def _version(text: str | None) -> tuple[int, ...]:
    # "1.2" -> (1, 2); no suffix sorts below any suffix, and "_2" (2,) above "_v1.2" (1, 2)
    return tuple(int(p) for p in (text or "").split(".") if p)


def discover_sipri_workbook_url(html: str, page_url: str) -> str:
    """The current Milex workbook linked from the landing page: highest end year, then highest version suffix."""
    links = page_links(html, page_url)
    best: tuple[tuple[int, tuple[int, ...]], str] | None = None
    for url in links:
        m = WORKBOOK_NAME.fullmatch(link_file_name(url) or "")
        if m is None:
            continue
        key = (int(m.group(2)), _version(m.group(3) or m.group(4)))
        if best is None or key > best[0]:  # ties keep the first link on the page
            best = (key, url)
    if best is None:
        raise FetchError(SOURCE, page_url, f"the landing page has no Milex workbook link ({len(links)} links seen)")
    return best[1]


def fetch_sipri_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """The current Milex workbook under its published name; a 304 reuses the previous snapshot's file."""
    page_url = f"{base_url.rstrip('/')}{LANDING_PATH}"
    return fetch_linked_workbook(client, draft, SOURCE, page_url, discover_sipri_workbook_url)
