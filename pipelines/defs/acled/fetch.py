"""Fetching ACLED events: OAuth password grant (refreshed on expiry or a 401), then the paged read API."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.credentials import require_credentials
from pipelines.lib.date_window import iso_date

SOURCE = "acled"
USERNAME_ENV = "THREATWATCH_ACLED_USERNAME"
PASSWORD_ENV = "THREATWATCH_ACLED_PASSWORD"
CLIENT_ID = "acled"
DEFAULT_EXPIRES_IN = 3600  # seconds, when the token answer does not say (ACLED's tokens last longer)
_REFRESH_MARGIN = timedelta(seconds=60)  # renew a token this long before it expires


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AcledAuth:
    """Bearer tokens for ACLED's API from THREATWATCH_ACLED_USERNAME / THREATWATCH_ACLED_PASSWORD.

    The first `headers()` logs in (OAuth password grant at `{base_url}/oauth/token`); an expired token is
    renewed with the refresh token (falling back to a new login if ACLED refuses it), and so is one the
    API answers 401 to (`refresh()`). No credential or token ever appears in a message.
    """

    def __init__(self, client: HttpClient, base_url: str, *, clock: Callable[[], datetime] = _utc_now):
        creds = require_credentials(SOURCE)
        self._username, self._password = creds[USERNAME_ENV], creds[PASSWORD_ENV]
        self._client = client
        self.token_url = f"{base_url.rstrip('/')}/oauth/token"
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at: datetime | None = None

    def __repr__(self) -> str:
        return f"AcledAuth({self.token_url!r}, logged_in={self._access is not None})"

    def headers(self) -> dict[str, str]:
        """The Authorization header with a token that is valid now (logging in or refreshing as needed)."""
        if self._access is None:
            self._login()
        elif self._expires_at is not None and self._now() >= self._expires_at - _REFRESH_MARGIN:
            self.refresh()
        assert self._access is not None
        return {"Authorization": f"Bearer {self._access}"}

    def refresh(self) -> None:
        """Get a new access token now: with the refresh token if there is one, else (or if refused) by logging in."""
        if self._refresh is None:
            self._login()
            return
        try:
            self._grant({"grant_type": "refresh_token", "refresh_token": self._refresh, "client_id": CLIENT_ID},
                        "refresh")
        except FetchError as e:
            if e.status not in (400, 401, 403):
                raise
            self._refresh = None
            self._login()  # an expired or revoked refresh token: log in again

    def scrub(self, text: str) -> str:
        """Text with the credentials and tokens this object holds masked (for quoting server messages)."""
        for secret in (self._password, self._username, self._access, self._refresh):
            if secret:
                text = text.replace(secret, "REDACTED")
        return text

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)

    def _login(self) -> None:
        form = {"username": self._username, "password": self._password, "grant_type": "password",
                "client_id": CLIENT_ID}
        try:
            self._grant(form, "login")
        except FetchError as e:
            if e.status in (400, 401, 403):
                raise FetchError(
                    SOURCE, self.token_url, f"ACLED refused the login (HTTP {e.status}): check {USERNAME_ENV} and "
                    f"{PASSWORD_ENV}, and that the account has API access", status=e.status, method="POST",
                ) from None
            raise

    def _grant(self, form: dict[str, str], what: str) -> None:
        answer = self._client.post_form(SOURCE, self.token_url, form)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            detail = ""
            if isinstance(answer, dict):
                detail = " ".join(str(answer[k]) for k in ("error", "error_description", "message") if answer.get(k))
            raise FetchError(SOURCE, self.token_url, self.scrub(f"ACLED {what} answered without an access_token"
                                                                + (f": {detail}" if detail else "")), method="POST")
        self._access = token
        if isinstance(answer.get("refresh_token"), str) and answer["refresh_token"]:
            self._refresh = answer["refresh_token"]
        try:
            expires_in = int(answer.get("expires_in", DEFAULT_EXPIRES_IN))
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        self._expires_at = self._now() + timedelta(seconds=expires_in)


def acled_api_error(payload: Any) -> str | None:
    """ACLED's error text when a read answer is an error (`success: false` or an `error`), else None."""
    if not isinstance(payload, dict):
        return f"expected a JSON object, got a {type(payload).__name__}"
    if payload.get("success") is not False and not payload.get("error"):
        return None
    parts: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, dict):
            found = [str(item[k]) for k in ("message", "error_description", "detail", "title") if item.get(k)]
            parts.extend(found or [json.dumps(item, ensure_ascii=False)])
        elif isinstance(item, list):
            for x in item:
                collect(x)
        elif item not in (None, "", True, False):
            parts.append(str(item))

    collect(payload.get("error"))
    collect(payload.get("messages"))
    status = f"status {payload['status']}: " if payload.get("status") not in (None, "", 200) else ""
    return status + ("; ".join(parts) or "success is false, without a message")


def fetch_acled_events(
    client: HttpClient,
    draft: SnapshotDraft,
    base_url: str,
    *,
    start_date: date | str,
    end_date: date | str,
    page_limit: int = 5000,
    auth: AcledAuth,
) -> list[str]:
    """Events dated [start_date, end_date], page by page until one has fewer than page_limit rows.

    Each page is saved unchanged as `acled_<start>_<end>_p<k>.json` (k from 1). A 401 renews the token
    and repeats the request once; an error answer is a FetchError quoting ACLED's message.
    """
    start, end = iso_date(start_date, "start_date"), iso_date(end_date, "end_date")
    if start > end:
        raise ValueError(f"start_date {start} is after end_date {end}")
    if page_limit < 1:
        raise ValueError(f"page_limit must be at least 1, got {page_limit}")
    url = f"{base_url.rstrip('/')}/api/acled/read"
    names: list[str] = []
    previous_sha: str | None = None
    page = 1
    while True:
        name = f"acled_{start}_{end}_p{page}.json"
        dest = draft.dest(name)
        params = {"_format": "json", "event_date": f"{start}|{end}", "event_date_where": "BETWEEN",
                  "limit": page_limit, "page": page}
        headers = auth.headers()  # a refused login fails here, before the request
        try:
            result = client.fetch_to_file(SOURCE, url, dest, params=params, headers=headers, expect="json")
        except FetchError as e:
            if e.status != 401:
                raise
            auth.refresh()  # the token was revoked or expired early: renew it and ask once more
            try:
                result = client.fetch_to_file(SOURCE, url, dest, params=params, headers=auth.headers(), expect="json")
            except FetchError as again:
                if again.status == 401:
                    raise FetchError(SOURCE, again.url, "HTTP 401 again after renewing the token: ACLED refuses this "
                                     "account's API access", status=401) from None
                raise
        try:
            payload = json.loads(dest.read_bytes().decode("utf-8-sig"))
            problem = acled_api_error(payload)
            rows = payload.get("data") if problem is None else None
            if problem is None and not isinstance(rows, list):
                problem = f"page {page} has no data list"
            elif problem is None and isinstance(payload.get("count"), int) and payload["count"] != len(rows):
                problem = f"page {page} says count {payload['count']} but holds {len(rows)} rows"
            elif problem is None and len(rows) > page_limit:
                problem = f"page {page} holds {len(rows)} rows, more than the limit {page_limit}"
            elif problem is None and rows and result.sha256 == previous_sha:
                problem = f"page {page} repeats page {page - 1} (is the page parameter ignored?)"
            if problem is not None:
                raise FetchError(SOURCE, result.url, auth.scrub(f"ACLED API error: {problem}"))
        except BaseException:
            dest.unlink(missing_ok=True)  # keep the draft consistent if the caller carries on
            raise
        draft.add_fetched(result, name)
        names.append(name)
        if len(rows) < page_limit:
            return names
        previous_sha, page = result.sha256, page + 1
