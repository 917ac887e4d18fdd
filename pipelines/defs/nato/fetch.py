"""Fetching NATO's defence-expenditure Excel tables, found by their link on the topic page, into a snapshot draft."""

from __future__ import annotations

import re

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.landing_page import fetch_linked_workbook, link_file_name, page_links

SOURCE = "nato"
TOPIC_PATH = "/cps/en/natohq/topics_49198.htm"
# Seen: 240617-def-exp-2024-TABLES-en.xlsx, def-exp-2025-en.xlsx, def-exp-2026-en.xlsx
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_DATE = re.compile(r"(\d{6})-")
_ENGLISH = re.compile(r"[-_]en[-_.]", re.I)


def _edition(name: str) -> tuple[int, int, bool]:
    """Sort key of a workbook name: edition year, leading yymmdd date (two editions in one year), English."""
    years = [int(y) for y in _YEAR.findall(name)]  # the latest, should a name ever carry a range (2014-2026)
    date = _DATE.match(name)
    # Both language versions may be linked; the parsers read the English tables.
    return (max(years, default=0), int(date.group(1)) if date else 0, bool(_ENGLISH.search(name)))


def discover_nato_workbook_url(html: str, page_url: str) -> str:
    """The newest edition's Excel tables linked from the topic page (edition year, then leading yymmdd date)."""
    best: tuple[tuple[int, int, bool], str] | None = None
    links = page_links(html, page_url)
    for url in links:
        name = link_file_name(url)
        if name is None or not name.lower().endswith(".xlsx") or "def-exp" not in name.lower():
            continue
        key = _edition(name)
        if best is None or key > best[0]:  # ties keep the first link on the page
            best = (key, url)
    if best is None:
        raise FetchError(SOURCE, page_url, f"the topic page has no def-exp .xlsx link ({len(links)} links seen)")
    return best[1]


def fetch_nato_snapshot(
    client: HttpClient, draft: SnapshotDraft, base_url: str, *, topic_path: str = TOPIC_PATH
) -> list[str]:
    """The newest edition's Excel tables under their published name; a 304 reuses the previous snapshot's file."""
    page_url = f"{base_url.rstrip('/')}/{topic_path.lstrip('/')}"
    return fetch_linked_workbook(client, draft, SOURCE, page_url, discover_nato_workbook_url)
