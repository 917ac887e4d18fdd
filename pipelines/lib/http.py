"""The one HTTP client: timeouts, retries with backoff, conditional GET, streamed atomic downloads."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Literal, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import IncompleteRead

from pipelines.lib.files import atomic_output
from pipelines.lib.fetch_deadline import DEFAULT_FETCH_DEADLINE, Watchdog

log = logging.getLogger("threatwatch.http")

USER_AGENT = "ThreatWatch/0.1 (+https://github.com/threatwatch/threatwatch; open-source threat-indicator warehouse)"
Expect = Literal["json", "zip", "csv"]
T = TypeVar("T")

_CHUNK = 1 << 16
_HEAD = 256  # bytes kept from the start of a body, to sniff its type and quote it in errors
# A query parameter whose name contains one of these is treated as a credential.
_SECRET_NAME = re.compile(r"token|key|passw|secret|signature|credential", re.I)
_SECRET_PAIR = re.compile(
    r"(?<![^?&;\s])([^=&?;\s]*(?:token|key|passw|secret|signature|credential)[^=&?;\s]*)=([^&#\s'\"]*)", re.I
)
_USERINFO = re.compile(r"(?<=//)([^/@\s:]+):([^/@\s]+)@")


def redact(text: str) -> str:
    """Text (a URL or an error message) with credential-looking query values and URL passwords masked."""
    return _USERINFO.sub(r"\1:REDACTED@", _SECRET_PAIR.sub(r"\1=REDACTED", text))


def redact_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of request parameters with credential-looking values masked."""
    return {k: ("REDACTED" if _SECRET_NAME.search(k) else v) for k, v in (params or {}).items()}


class FetchError(Exception):
    """A download failed for good; the message names the source, the (redacted) URL and the problem.

    `status` is the HTTP status of an answer that was refused without retrying (401, 404, ...), else None.
    """

    def __init__(self, source: str, url: str, problem: str, *, status: int | None = None, method: str = "GET"):
        self.source = source
        self.url = redact(url)
        self.problem = redact(problem)
        self.status = status
        self.method = method
        super().__init__(f"[{source}] {method} {self.url}: {self.problem}")


class CredentialRedirectError(requests.exceptions.RequestException):
    """A redirect would carry a credential header to another origin (requests strips only Authorization)."""


def _refuse_credential_redirects(resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Session response hook: refuse a redirect off the request's origin when a credential header was sent."""
    location = resp.headers.get("Location") if resp.is_redirect else None
    if location and any(_SECRET_NAME.search(name) for name in resp.request.headers):
        here, there = urlsplit(resp.request.url or ""), urlsplit(urljoin(resp.request.url or "", location))
        if (here.scheme, here.netloc.lower()) != (there.scheme, there.netloc.lower()):
            resp.close()
            problem = f"refused a redirect to {redact(location)}: it would carry a credential header"
            raise CredentialRedirectError(problem)
    return resp


class _Retryable(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, cause: str, retry_after: float | None = None):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts, retry policy and limits for every request ThreatWatch makes."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 300.0
    max_bytes: int = 2 * 1024**3
    user_agent: str = USER_AGENT
    # One source's whole fetch (every request, retry, wait and read of one client) must end within this many
    # seconds, or a server that accepts and never answers holds a run for attempts x read_timeout. None: no bound.
    fetch_deadline: float | None = DEFAULT_FETCH_DEADLINE

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.fetch_deadline is not None and not self.fetch_deadline > 0:
            raise ValueError(f"fetch_deadline must be a positive number of seconds, got {self.fetch_deadline}")


@dataclass(frozen=True)
class FetchResult:
    """What one download produced; `path` is None on a 304 (nothing new was sent)."""

    source: str
    url: str
    params: dict[str, Any]
    status: int
    path: Path | None
    bytes: int
    sha256: str | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    retrieved_at: str


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _shown_url(url: str, params: dict[str, Any] | None) -> str:
    """The full URL a GET will request (query string included), redacted for messages and manifests."""
    try:
        return redact(requests.Request("GET", url, params=params).prepare().url or url)
    except requests.exceptions.RequestException:  # a malformed URL is reported by the GET itself
        return redact(url)


def _bytes_read(error: BaseException) -> int:
    """Bytes urllib3 had read when it found a body shorter than Content-Length (0 if it does not say)."""
    stack: list[Any] = [error]
    while stack:
        item = stack.pop()
        if isinstance(item, IncompleteRead) and isinstance(item.partial, int):
            return item.partial
        if isinstance(item, BaseException):
            stack.extend(item.args)
    return 0


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote_head(head: bytes) -> str:
    return repr(head.lstrip()[:60].decode("utf-8", "replace"))


def _looks_like_html(content_type: str, head: bytes) -> bool:
    # Proxies, captive portals and error pages answer 200 with HTML where data was expected.
    if content_type.split(";")[0].strip().lower() == "text/html":
        return True
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _check_body(expect: Expect | None, content_type: str, head: bytes, body: Callable[[], bytes]) -> Any:
    """Reject a body that is not what the caller expects; for JSON, return it parsed."""
    if expect is None:
        return None
    label = {"json": "JSON", "zip": "a zip archive", "csv": "CSV"}[expect]
    if _looks_like_html(content_type, head):
        raise ValueError(f"expected {label}, got HTML (first bytes: {_quote_head(head)})")
    if expect == "zip" and not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ValueError(f"expected a zip archive, no PK signature (first bytes: {_quote_head(head)})")
    if expect == "json":
        try:
            return json.loads(body().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"expected JSON, body does not parse: {e}") from e
    return None


class HttpClient:
    """GETs with timeouts, retries on 429/5xx/connection trouble, conditional requests and a size cap.

    One client serves one source's fetch: its `fetch_deadline` counts from the client's creation.
    """

    def __init__(
        self,
        settings: HttpSettings = HttpSettings(),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.hooks["response"].append(_refuse_credential_redirects)
        self._sleep = sleep
        self._deadline = None if settings.fetch_deadline is None else time.monotonic() + settings.fetch_deadline

    def fetch_to_file(
        self,
        source: str,
        url: str,
        dest: Path,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        expect: Expect | None = None,
    ) -> FetchResult:
        """Download url to dest atomically (temp file + rename); a 304 to a conditional GET writes nothing."""
        shown = _shown_url(url, params)
        sent = dict(headers or {})
        if etag:
            sent["If-None-Match"] = etag
        if last_modified:
            sent["If-Modified-Since"] = last_modified

        def once() -> FetchResult:
            with self._open(source, url, params, sent, shown, conditional=bool(etag or last_modified)) as resp:
                retrieved_at = _utc_now()
                fresh = resp.status_code == 200
                size, sha256 = self._download(source, shown, resp, dest, expect) if fresh else (0, None)
                return FetchResult(
                    source=source, url=shown, params=redact_params(params), status=resp.status_code,
                    path=dest if fresh else None, bytes=size, sha256=sha256,
                    # a 304 may omit the validators: they are still the ones we sent
                    etag=resp.headers.get("ETag") or (None if fresh else etag),
                    last_modified=resp.headers.get("Last-Modified") or (None if fresh else last_modified),
                    content_type=resp.headers.get("Content-Type"), retrieved_at=retrieved_at,
                )

        return self._retrying(source, shown, once)

    def post_form(
        self, source: str, url: str, form: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> Any:
        """POST a form (e.g. an OAuth token request) and return the JSON answer, with fetch_to_file's retries and checks.

        The form travels in the body only: its values (passwords) never reach a message, a log line or a URL.
        """
        shown, method = redact(url), "POST"

        def once() -> Any:
            with self._open(source, url, None, dict(headers or {}), shown, conditional=False, form=form) as resp:
                buf = bytearray()
                size, _, head = self._stream(resp, buf.extend, source, shown, method)
                self._check_length(resp, size)
                try:
                    return _check_body("json", resp.headers.get("Content-Type", ""), head, lambda: bytes(buf))
                except ValueError as e:
                    raise FetchError(source, shown, str(e), method=method) from None

        return self._retrying(source, shown, once, method)

    def _open(
        self,
        source: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        shown: str,
        *,
        conditional: bool,
        form: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send one GET (or a POST of `form`); return a 200 (or a 304 to a conditional GET), else raise."""
        s = self.settings
        method = "GET" if form is None else "POST"
        timeout = (s.connect_timeout, s.read_timeout)
        if self._deadline is not None:  # no single wait may outlast what is left of the deadline
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise self._past_deadline(source, shown, method, "before the request was sent")
            timeout = (min(s.connect_timeout, left), min(s.read_timeout, left))
        try:
            resp = self.session.request(
                method, url, params=params, data=form, headers=headers, stream=True, timeout=timeout,
            )
        except requests.exceptions.SSLError as e:  # a certificate problem will not fix itself
            raise FetchError(source, shown, f"TLS error: {e}", method=method) from None
        except requests.exceptions.Timeout as e:
            raise _Retryable(f"timed out ({type(e).__name__})") from None
        except requests.exceptions.ConnectionError as e:
            raise _Retryable(f"connection failed: {e}") from None
        except requests.exceptions.RequestException as e:
            raise FetchError(source, shown, f"request failed: {e}", method=method) from None
        status = resp.status_code
        if status == 200 or (status == 304 and conditional):
            return resp
        resp.close()
        if status in (408, 429) or 500 <= status <= 599:
            raise _Retryable(f"HTTP {status}", parse_retry_after(resp.headers.get("Retry-After")))
        problem = f"HTTP {status} {resp.reason or ''}".rstrip() + " (not retried)"
        raise FetchError(source, shown, problem, status=status, method=method)

    def _download(
        self, source: str, shown: str, resp: requests.Response, dest: Path, expect: Expect | None
    ) -> tuple[int, str]:
        """Stream the body to a temp file next to dest, check it, rename it into place."""
        declared = self._declared_length(resp)
        if declared is not None and declared > self.settings.max_bytes:
            problem = f"Content-Length {declared} exceeds the {self.settings.max_bytes} byte limit"
            raise FetchError(source, shown, problem)
        with atomic_output(dest, suffix=".part") as tmp:
            with tmp.open("wb") as out:
                size, sha256, head = self._stream(resp, out.write, source, shown)
            self._check_length(resp, size)
            try:
                _check_body(expect, resp.headers.get("Content-Type", ""), head, tmp.read_bytes)
            except ValueError as e:
                raise FetchError(source, shown, str(e)) from None
        return size, sha256

    def _stream(
        self, resp: requests.Response, write: Callable[[bytes], Any], source: str, shown: str, method: str = "GET"
    ) -> tuple[int, str, bytes]:
        """Copy the body through write(); return (size, sha256, first bytes), enforcing max_bytes and the deadline."""
        digest, size, head = hashlib.sha256(), 0, b""
        watchdog = self._watchdog(resp)
        try:
            for chunk in resp.iter_content(_CHUNK):
                size += len(chunk)
                if size > self.settings.max_bytes:
                    problem = f"body exceeds the {self.settings.max_bytes} byte limit"
                    raise FetchError(source, shown, problem, method=method)
                digest.update(chunk)
                if len(head) < _HEAD:
                    head += chunk[: _HEAD - len(head)]
                write(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                requests.exceptions.ContentDecodingError) as e:
            if watchdog is not None and watchdog.fired:  # the cut, not the short body, is the news
                raise self._past_deadline(source, shown, method, f"while reading the body, {size} bytes in") from None
            raise self._body_error(e, resp, size, source, shown, method) from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
        if watchdog is not None and watchdog.fired:  # a body without Content-Length just ends when cut
            raise self._past_deadline(source, shown, method, f"while reading the body, {size} bytes in")
        return size, digest.hexdigest(), head

    def _body_error(self, e: requests.exceptions.RequestException, resp: requests.Response, size: int,
                    source: str, shown: str, method: str) -> Exception:
        """A broken or short body is worth another attempt; one that cannot be decoded is not."""
        if isinstance(e, requests.exceptions.ContentDecodingError):
            return FetchError(source, shown, f"cannot decode the body: {e}", method=method)
        if isinstance(e, requests.exceptions.ChunkedEncodingError):  # urllib3 saw fewer bytes than Content-Length
            declared = self._declared_length(resp)
            if declared is not None:
                return _Retryable(f"truncated: got {max(size, _bytes_read(e))} of {declared} bytes")
            return _Retryable(f"connection broken while reading the body: {e}")
        return _Retryable(f"connection failed while reading the body: {e}")  # includes read timeouts mid-body

    def _watchdog(self, resp: requests.Response) -> Watchdog | None:
        """A timer that cuts this response's connection at the deadline (None without a deadline or socket)."""
        sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
        if self._deadline is None or sock is None:
            return None
        return Watchdog(sock, self._deadline - time.monotonic())

    @staticmethod
    def _declared_length(resp: requests.Response) -> int | None:
        """Content-Length in body bytes, or None when absent or when it counts compressed bytes."""
        if resp.headers.get("Content-Encoding", "identity").lower() != "identity":
            return None
        try:
            return int(resp.headers["Content-Length"])
        except (KeyError, ValueError):
            return None

    def _check_length(self, resp: requests.Response, size: int) -> None:
        declared = self._declared_length(resp)
        if declared is not None and size != declared:
            raise _Retryable(f"truncated: got {size} of {declared} bytes")

    def _retrying(self, source: str, shown: str, attempt: Callable[[], T], method: str = "GET") -> T:
        """Run attempt() until it succeeds, fails for good, or max_attempts is reached."""
        s = self.settings
        for n in range(1, s.max_attempts + 1):
            try:
                return attempt()
            except _Retryable as e:
                tries = f"{n} attempt{'s' if n > 1 else ''}"
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    raise self._past_deadline(source, shown, method, f"{e.cause}, after {tries}")
                if n == s.max_attempts:
                    raise FetchError(source, shown, f"{e.cause}; gave up after {tries}", method=method) from None
                wait = self._wait(n, e.retry_after)
                if self._deadline is not None and time.monotonic() + wait >= self._deadline:
                    raise self._past_deadline(source, shown, method, f"{e.cause}, after {tries}")
                log.warning(
                    "[%s] %s %s: %s; retry %d/%d in %.1fs",
                    source, method, shown, redact(e.cause), n + 1, s.max_attempts, wait,
                )
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _past_deadline(self, source: str, shown: str, method: str, when: str) -> FetchError:
        problem = (f"timed out: the fetch deadline of {self.settings.fetch_deadline:g} s passed ({when}); "
                   "THREATWATCH_FETCH_DEADLINE_SECONDS sets it")
        return FetchError(source, shown, problem, method=method)

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server gave one (capped), else capped exponential backoff with jitter."""
        s = self.settings
        if retry_after is not None:
            return min(retry_after, s.retry_after_max)
        cap = min(s.backoff_max, s.backoff_base * 2 ** (attempt - 1))
        return cap / 2 + random.uniform(0, cap / 2)  # jitter spreads out clients that failed together
