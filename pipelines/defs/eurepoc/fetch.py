"""Fetching EuRepoC: the bulk release (Global Database plus the long Attribution and Receiver files), or the
incidents of its Strapi REST API page by page (`format: api`).

The API request copies the official wrapper (PyPI `eurepoc`, `data_query_utils.py`): GET
`https://strapi.eurepoc.eu/api/incidents` with `Authorization: Bearer <token>`, `sort=id:asc`, the status filter
below, `populate` and `pagination[pageSize]` / `pagination[page]`, paged until `meta.pagination.pageCount`.
The `populate` list is derived from the record shape in transforms/cyber_incidents/eurepoc_api.py (API_FIELDS),
which says what is evidenced and what is assumed.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from pipelines.lib.http import FetchError, FetchResult, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft
from pipelines.lib.credentials import require_credentials
from transforms.cyber_incidents.eurepoc_api import api_populate

SOURCE = "eurepoc"
TOKEN_ENV = "THREATWATCH_EUREPOC_TOKEN"

# The 1.1 bulk release; THREATWATCH_EUREPOC_URL can point at a newer record or a mirror with the same names.
RELEASE_FILES = ("EuRepoC_Global_Database_1.1.csv", "EuRepoC_Attribution_dataset_1.1.csv", "EuRepoC_Receiver_dataset_1.1.csv")

# The API lives on another host than the bulk files, so it has a variable of its own (a mirror or a test server).
API_URL = "https://strapi.eurepoc.eu"
API_URL_ENV = "THREATWATCH_EUREPOC_API_URL"
API_PATH = "/api/incidents"
# The wrapper's default: incidents fully coded ("Sent to database") or published in the tracker.
API_FILTERS = {
    "filters[$or][0][status][$eq]": "Sent to database",
    "filters[$or][1][tracker_status][$eq]": "Sent to tracker",
}


def fetch_eurepoc_snapshot(client: HttpClient, draft: SnapshotDraft, base_url: str) -> list[str]:
    """The three release CSVs, conditionally; the token (THREATWATCH_EUREPOC_TOKEN) goes in the Authorization header."""
    token = require_credentials(SOURCE)[TOKEN_ENV]
    headers = {"Authorization": f"Bearer {token}"}
    for name in RELEASE_FILES:
        fetch_into_draft(client, draft, SOURCE, f"{base_url.rstrip('/')}/{name}", name, expect="csv",
                         params={"download": 1}, headers=headers)
    return list(RELEASE_FILES)


def eurepoc_api_url() -> str:
    """The API's base URL: THREATWATCH_EUREPOC_API_URL, else EuRepoC's Strapi host."""
    return (os.environ.get(API_URL_ENV) or API_URL).rstrip("/")


def api_page_name(page: int) -> str:
    """The snapshot file name of one API page (the staging step recognises the API path by it)."""
    return f"eurepoc_api_p{page}.json"


def _count(pagination: dict, key: str) -> int | None:
    value = pagination.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _check_page(payload: Any, page: int, first: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """(pageSize, pageCount, total) of a saved page; ValueError with the problem when the page cannot be trusted."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        error = payload.get("error") if isinstance(payload, dict) else None
        raise ValueError("not a Strapi list response (no \"data\" array)"
                         + (f"; the API says {json.dumps(error)[:200]}" if error else ""))
    meta = payload.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(pagination, dict):
        raise ValueError("no meta.pagination: cannot tell how many pages there are")
    numbers = {k: _count(pagination, k) for k in ("page", "pageSize", "pageCount", "total")}
    missing = [k for k, v in numbers.items() if v is None]
    if missing:
        raise ValueError(f"meta.pagination lacks a count for {', '.join(missing)}: {json.dumps(pagination)[:200]}")
    size, pages, total = numbers["pageSize"], numbers["pageCount"], numbers["total"]
    if numbers["page"] != page:
        raise ValueError(f"asked for page {page}, the API answered page {numbers['page']}")
    if size < 1 or pages != math.ceil(total / size):
        raise ValueError(f"meta.pagination does not add up: {total} records in pages of {size} are not {pages} pages")
    if first is not None and (size, pages, total) != first:
        raise ValueError(f"the data changed while paging: page 1 said {first[2]} records in {first[1]} pages of "
                         f"{first[0]}, page {page} says {total} in {pages} pages of {size}; fetch again")
    expected = 0 if pages == 0 else size if page < pages else total - (pages - 1) * size
    found = len(payload["data"])
    if found != expected:
        kind = "short " if found < expected and page < pages else ""
        raise ValueError(f"{kind}page {page} of {pages} has {found} records, expected {expected} "
                         f"({total} records in pages of {size})")
    return size, pages, total


def _refused(error: FetchError, status: int) -> bool:
    return getattr(error, "status", None) == status or error.problem.startswith(f"HTTP {status} ")


def _page_error(error: FetchError, name: str) -> FetchError:
    """The client's error, naming the page file and saying what a refusal most likely means."""
    hint = ""
    if _refused(error, 401) or _refused(error, 403):
        hint = f": the API refused the token in {TOKEN_ENV} (wrong, expired, or without access to incidents)"
    elif _refused(error, 400):
        hint = (": the API rejected the query; a populate or filter key it does not know? "
                "(see API_FIELDS in transforms/cyber_incidents/eurepoc_api.py)")
    named = FetchError(SOURCE, error.url, f"{name}: {error.problem}{hint}")
    for attr in ("status", "method"):  # kept when the client's FetchError has them
        if hasattr(error, attr):
            setattr(named, attr, getattr(error, attr))
    return named


def fetch_eurepoc_api(client: HttpClient, draft: SnapshotDraft, base_url: str, *, page_size: int = 100) -> list[str]:
    """Every API incident page, unchanged, as `eurepoc_api_p<k>.json`; the names in page order.

    The token (THREATWATCH_EUREPOC_TOKEN) travels in the Authorization header only, never in a parameter, so
    neither the manifest nor an error message can show it. A page that does not add up (short before the last
    page, counts that change between pages) is an error naming the page: the data changed while paging.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    token = require_credentials(SOURCE)[TOKEN_ENV]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base_url.rstrip('/')}{API_PATH}"
    params: dict[str, Any] = {"sort[0]": "id:asc", **API_FILTERS}
    params.update({f"populate[{i}]": path for i, path in enumerate(api_populate())})
    params["pagination[pageSize]"] = page_size
    names: list[str] = []
    first: tuple[int, int, int] | None = None
    page = 1
    while True:
        name = api_page_name(page)
        dest = draft.dest(name)
        try:
            result: FetchResult = client.fetch_to_file(
                SOURCE, url, dest, params={**params, "pagination[page]": page}, headers=headers, expect="json")
        except FetchError as e:
            raise _page_error(e, name) from None
        try:
            try:
                counts = _check_page(json.loads(dest.read_bytes().decode("utf-8-sig")), page, first)
            except ValueError as e:  # includes JSON and UTF-8 errors, though fetch_to_file parsed it already
                raise FetchError(SOURCE, result.url, f"{name}: {e}") from None
        except BaseException:
            dest.unlink(missing_ok=True)  # keep the draft consistent if the caller carries on
            raise
        draft.add_fetched(result, name)
        names.append(name)
        first = first or counts
        if page >= counts[1]:
            return names
        page += 1
