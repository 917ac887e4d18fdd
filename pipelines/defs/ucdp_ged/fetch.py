"""Fetching UCDP: GED events from the token-protected API (paged, within the daily quota) and the bulk files."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from pipelines.lib.files import atomic_write_text, file_lock
from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.redaction import redact_params
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft
from pipelines.lib.credentials import require_credentials
from pipelines.lib.date_window import iso_date

SOURCE = "ucdp_ged"
TOKEN_ENV = "THREATWATCH_UCDP_TOKEN"
TOKEN_HEADER = "x-ucdp-access-token"
UCDP_DAILY_LIMIT = 5000  # requests per day and token (UCDP's OpenAPI description)
MAX_PAGESIZE = 1000  # the API's largest page (client docs)
BULK_BASE_URL = "https://ucdp.uu.se"
BULK_DATASETS = ("ged", "candidate", "acd")
_LEDGER_DAYS = 31  # days of history kept in the quota ledger
_RELEASE = re.compile(r"^(\d{2})\.(\d{1,2})$")  # yearly "25.1"
_CANDIDATE = re.compile(r"^(\d{2})\.0\.(\d{1,2})$")  # monthly candidate "26.0.7"


class QuotaExceededError(FetchError):
    """The UCDP API's daily request quota would be crossed; the pipeline keeps the last snapshot."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class UcdpQuota:
    """A small JSON ledger of UCDP API requests per UTC day, shared by every process that uses one token.

    `take()` before each request: it counts the request, or raises QuotaExceededError when the day's
    limit is already reached. Only requests ThreatWatch sends itself are counted, one per page; an
    attempt the HTTP client repeats after a 429/5xx is not, so keep `limit` a little under the real quota
    when other clients share the token.
    """

    def __init__(self, path: Path, limit: int = UCDP_DAILY_LIMIT, *, clock: Callable[[], datetime] = _utc_now):
        if limit < 1:
            raise ValueError(f"quota limit must be at least 1, got {limit}")
        self.path = Path(path)
        self.limit = limit
        self._clock = clock

    def today(self) -> str:
        """The current UTC day, YYYY-MM-DD (a naive clock reading is taken as UTC)."""
        now = self._clock()
        if now.tzinfo is not None:
            now = now.astimezone(timezone.utc)
        return now.date().isoformat()

    def take(self, url: str = "") -> int:
        """Count one request about to be sent to `url`; the day's count after it. Raises before the limit is crossed."""
        day = self.today()
        with self._locked():
            counts = self._read()
            used = counts.get(day, 0)
            if used >= self.limit:
                raise QuotaExceededError(
                    SOURCE, url or "(UCDP API)",
                    f"UCDP API daily quota reached: {used} of {self.limit} requests already sent on {day} (UTC), "
                    f"ledger {self.path}; not sending more before 00:00 UTC",
                )
            counts[day] = used + 1
            oldest = (date.fromisoformat(day) - timedelta(days=_LEDGER_DAYS)).isoformat()
            self._write({d: n for d, n in counts.items() if d >= oldest})
            return used + 1

    def _read(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            counts = data["requests"]
            if not isinstance(counts, dict):
                raise TypeError("'requests' is not an object")
            return {str(d): int(n) for d, n in counts.items()}
        except (OSError, ValueError, KeyError, TypeError) as e:
            # Guessing zero could overrun the quota and get the token blocked: stop and say so.
            raise QuotaExceededError(
                SOURCE, "(UCDP API)", f"quota ledger {self.path} is unreadable ({e}); fix or delete it"
            ) from None

    def _write(self, counts: dict[str, int]) -> None:
        text = json.dumps({"limit": self.limit, "requests": dict(sorted(counts.items()))}, indent=2) + "\n"
        atomic_write_text(self.path, text)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-count-write across processes sharing the ledger."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            yield


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def _page_problem(payload: Any, page: int, pagesize: int, first: tuple[int, int] | None) -> str | None:
    """What is wrong with one API page, or None; `first` is (TotalCount, TotalPages) of page 0."""
    if not isinstance(payload, dict):
        return f"page {page} is not a UCDP API page (a JSON {type(payload).__name__})"
    missing = [k for k in ("TotalCount", "TotalPages", "NextPageUrl", "Result") if k not in payload]
    if missing:
        return f"page {page} is not a UCDP API page (no {', '.join(missing)})"
    count, pages, result = payload["TotalCount"], payload["TotalPages"], payload["Result"]
    if not (isinstance(count, int) and isinstance(pages, int) and count >= 0 and pages >= 0):
        return f"page {page}: TotalCount {count!r} / TotalPages {pages!r} are not counts"
    if not isinstance(result, list):
        return f"page {page}: Result is a {type(result).__name__}, not a list"
    if first is None:
        expected = math.ceil(count / pagesize)
        if pages != expected and not (count == 0 and pages in (0, 1)):
            return f"page {page}: TotalPages {pages} disagrees with TotalCount {count} at pagesize {pagesize} " \
                   f"(expected {expected} pages)"
    elif (count, pages) != first:
        return f"page {page} says TotalCount {count}, TotalPages {pages}; page 0 said {first[0]}, {first[1]}"
    if page >= max(pages, 1):
        return f"page {page} is past the last page (TotalPages {pages})"
    last = page == max(pages, 1) - 1
    expected_rows = count - pagesize * page if last else pagesize
    if len(result) != expected_rows:
        how = "shorter than" if len(result) < expected_rows else "longer than"
        where = "the last page" if last else f"page {page} of {pages}"
        return f"page {page}: Result has {len(result)} events, {how} the {expected_rows} promised for {where} " \
               f"(TotalCount {count}, pagesize {pagesize})"
    next_url = payload["NextPageUrl"] or ""
    if not isinstance(next_url, str):
        return f"page {page}: NextPageUrl is a {type(next_url).__name__}"
    if last and next_url:
        return f"page {page} is the last of {pages} but NextPageUrl points on"
    if not last and not next_url:
        return f"page {page} of {pages} has an empty NextPageUrl"
    return None


def fetch_ucdp_ged_api(
    client: HttpClient,
    draft: SnapshotDraft,
    base_url: str,
    *,
    version: str,
    start_date: date | str,
    end_date: date | str,
    pagesize: int = MAX_PAGESIZE,
    quota: UcdpQuota,
) -> list[str]:
    """GED events dated [start_date, end_date] from the API, one file per page: `gedevents_<v>_<start>_<end>_p<k>.json`.

    Sends THREATWATCH_UCDP_TOKEN as `x-ucdp-access-token`, follows NextPageUrl only on base_url's own
    origin (the token never goes elsewhere), cross-checks TotalCount / TotalPages / Result lengths, and
    takes one request from `quota` before every page. Pages are saved unchanged.
    """
    if not (_RELEASE.match(version) or _CANDIDATE.match(version)):
        raise ValueError(f"UCDP version must look like '25.1' or '26.0.7', got {version!r}")
    start, end = iso_date(start_date, "start_date"), iso_date(end_date, "end_date")
    if start > end:
        raise ValueError(f"start_date {start} is after end_date {end}")
    if not 1 <= pagesize <= MAX_PAGESIZE:
        raise ValueError(f"pagesize must be between 1 and {MAX_PAGESIZE}, got {pagesize}")
    token = require_credentials(SOURCE)[TOKEN_ENV]
    headers = {TOKEN_HEADER: token}
    base = base_url.rstrip("/")
    home = _origin(base)
    query = {"pagesize": pagesize, "page": 0, "StartDate": start, "EndDate": end}
    url = f"{base}/api/gedevents/{version}?{urlencode(query)}"
    names: list[str] = []
    first: tuple[int, int] | None = None
    page = 0
    while True:
        name = f"gedevents_{version}_{start}_{end}_p{page}.json"
        dest = draft.dest(name)
        quota.take(url)
        try:
            result = client.fetch_to_file(SOURCE, url, dest, headers=headers, expect="json")
        except FetchError as e:
            if e.status == 401:
                raise FetchError(
                    SOURCE, url, f"HTTP 401: the UCDP API refused the request: its access token is missing, "
                    f"expired or not accepted (set {TOKEN_ENV}; UCDP issues tokens on request)", status=401,
                ) from None
            raise
        try:
            payload = json.loads(dest.read_bytes().decode("utf-8-sig"))
            problem = _page_problem(payload, page, pagesize, first)
            next_url = ""
            if problem is None:
                first = first or (payload["TotalCount"], payload["TotalPages"])
                next_url = urljoin(url, payload["NextPageUrl"]) if payload["NextPageUrl"] else ""
                if next_url and _origin(next_url) != home:
                    shown_home = f"{home[0]}://{home[1]}:{home[2]}"
                    problem = (f"page {page}: NextPageUrl leads to {next_url!r}, off {shown_home}; "
                               "refused: the access token is only sent to the configured UCDP API")
                elif next_url and dict(parse_qsl(urlsplit(next_url).query)).get("page", str(page + 1)) != str(page + 1):
                    problem = f"page {page}: NextPageUrl {next_url!r} does not lead to page {page + 1}"
            if problem is not None:
                raise FetchError(SOURCE, result.url, f"UCDP API: {problem}")
        except BaseException:
            dest.unlink(missing_ok=True)  # keep the draft consistent if the caller carries on
            raise
        recorded = redact_params(dict(parse_qsl(urlsplit(url).query)))
        draft.add_fetched(dataclasses.replace(result, params=recorded), name)
        names.append(name)
        if not next_url:
            return names
        url, page = next_url, page + 1


def ucdp_bulk_url(base_url: str, dataset: str, version: str) -> str:
    """Where UCDP publishes a bulk file: GED / ACD zips of a yearly release, or a monthly candidate CSV."""
    base = base_url.rstrip("/")
    if dataset not in BULK_DATASETS:
        raise ValueError(f"dataset must be one of {BULK_DATASETS}, got {dataset!r}")
    if dataset == "candidate":
        m = _CANDIDATE.match(version)
        if not m:
            raise ValueError(f"a candidate version looks like '26.0.7' (YY.0.M), got {version!r}")
        return f"{base}/downloads/candidateged/GEDEvent_v{m[1]}_0_{int(m[2])}.csv"
    m = _RELEASE.match(version)
    if not m:
        raise ValueError(f"a yearly release looks like '25.1', got {version!r}")
    code = f"{m[1]}{m[2]}"
    if dataset == "ged":
        return f"{base}/downloads/ged/ged{code}-csv.zip"
    return f"{base}/downloads/ucdpprio/ucdp-prio-acd-{code}-csv.zip"


def fetch_ucdp_bulk(
    client: HttpClient, draft: SnapshotDraft, base_url: str = BULK_BASE_URL, *, dataset: str, version: str
) -> list[str]:
    """One bulk file (no token needed), stored as fetched under its published name, with conditional GET."""
    url = ucdp_bulk_url(base_url, dataset, version)
    name = url.rsplit("/", 1)[1]
    source = "ucdp_acd" if dataset == "acd" else SOURCE
    fetch_into_draft(client, draft, source, url, name, expect="csv" if dataset == "candidate" else "zip",
                     recorded_params={"dataset": dataset, "version": version})
    return [name]
