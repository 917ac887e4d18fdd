"""Fetching World Bank WDI military indicators (API v2 JSON pages and bulk CSV zips) into a snapshot draft."""

from __future__ import annotations

import json
from typing import Any, Literal

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft

SOURCE = "worldbank"
WORLDBANK_INDICATORS = ("MS.MIL.XPND.GD.ZS", "MS.MIL.XPND.CD", "MS.MIL.XPND.ZS", "MS.MIL.TOTL.P1")


def worldbank_api_error(payload: Any) -> str | None:
    """The API's error text when payload is its error shape (or not `[meta, rows]` at all), else None."""
    # Errors arrive as HTTP 200 with [{"message": [{"id": "120", "key": "Invalid value", "value": "..."}]}].
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) and "message" in payload[0]:
        messages = payload[0]["message"]
        if not isinstance(messages, list):
            messages = [messages]
        parts = []
        for m in messages:
            if isinstance(m, dict):
                parts.append(" ".join(str(m[k]) for k in ("id", "key", "value") if m.get(k) not in (None, "")))
            else:
                parts.append(str(m))
        return "; ".join(parts) or "error message without text"
    if not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[0], dict):
        shape = f"a list of {len(payload)}" if isinstance(payload, list) else type(payload).__name__
        return f"expected a [meta, rows] array, got {shape}"
    return None


def _page_count(meta: dict[str, Any]) -> int | None:
    # The API has served numbers both as JSON numbers and as strings ("per_page": "50").
    try:
        return int(meta["pages"])
    except (KeyError, TypeError, ValueError):
        return None


def _fetch_pages(client: HttpClient, draft: SnapshotDraft, url: str, stem: str, per_page: int) -> list[str]:
    """Save every page of a paged API v2 listing unchanged as `{stem}.page-NNN.json`; return the names."""
    names: list[str] = []
    pages: int | None = None
    page = 1
    while pages is None or page <= pages:
        name = f"{stem}.page-{page:03d}.json"
        dest = draft.dest(name)
        result = client.fetch_to_file(
            SOURCE, url, dest, params={"format": "json", "per_page": per_page, "page": page}, expect="json"
        )
        try:
            payload = json.loads(dest.read_bytes().decode("utf-8-sig"))
            problem = worldbank_api_error(payload)
            if problem is None:
                count = _page_count(payload[0])
                if count is None or count < 1 or not payload[1]:
                    problem = f"empty result (meta {payload[0]})"
                elif pages is not None and count != pages:
                    problem = f"page {page} says {count} pages, page 1 said {pages}"
                pages = count
            if problem is not None:
                raise FetchError(SOURCE, result.url, f"World Bank API error: {problem}")
        except BaseException:
            dest.unlink(missing_ok=True)  # keep the draft consistent if the caller carries on
            raise
        draft.add_fetched(result, name)
        names.append(name)
        page += 1
    return names


def fetch_worldbank_indicator(
    client: HttpClient, draft: SnapshotDraft, base_url: str, indicator: str, *, per_page: int = 20000
) -> list[str]:
    """All pages of one indicator for all countries and aggregates, as `{indicator}.page-NNN.json`."""
    url = f"{base_url.rstrip('/')}/v2/country/all/indicator/{indicator}"
    return _fetch_pages(client, draft, url, indicator, per_page)


def fetch_worldbank_countries(
    client: HttpClient, draft: SnapshotDraft, base_url: str, *, per_page: int = 1000
) -> list[str]:
    """The country list (regions, income groups; aggregates have region "Aggregates") as `countries.page-NNN.json`."""
    return _fetch_pages(client, draft, f"{base_url.rstrip('/')}/v2/country", "countries", per_page)


def fetch_worldbank_bulk(client: HttpClient, draft: SnapshotDraft, base_url: str, indicator: str) -> str:
    """The bulk CSV zip of one indicator as `{indicator}.csv.zip`, conditionally; a 304 reuses the previous file."""
    name = f"{indicator}.csv.zip"
    fetch_into_draft(client, draft, SOURCE, f"{base_url.rstrip('/')}/v2/en/indicator/{indicator}", name,
                     params={"downloadformat": "csv"}, expect="zip")
    return name


def fetch_worldbank_snapshot(
    client: HttpClient, draft: SnapshotDraft, base_url: str, *, fmt: Literal["api", "bulk"] = "api", per_page: int = 20000
) -> list[str]:
    """Every indicator into one draft: API pages plus the country list, or one bulk zip per indicator."""
    if fmt == "bulk":  # each zip carries its own Metadata_Country file
        return [fetch_worldbank_bulk(client, draft, base_url, ind) for ind in WORLDBANK_INDICATORS]
    if fmt != "api":
        raise ValueError(f"fmt must be 'api' or 'bulk', got {fmt!r}")
    names = fetch_worldbank_countries(client, draft, base_url)
    for ind in WORLDBANK_INDICATORS:
        names += fetch_worldbank_indicator(client, draft, base_url, ind, per_page=per_page)
    return names
