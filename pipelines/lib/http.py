"""The one HTTP client: timeouts, retries with backoff, conditional GET, streamed atomic downloads."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

import requests

from pipelines.lib.fetch_deadline import Watchdog
from pipelines.lib.files import atomic_output
from pipelines.lib.http_body import Expect, bytes_read, check_body, declared_length
from pipelines.lib.http_retry import Retryable, parse_retry_after, retry_wait
from pipelines.lib.http_settings import HttpSettings
from pipelines.lib.redaction import redact, redact_params, refuse_credential_redirects

log = logging.getLogger("threatwatch.http")

T = TypeVar("T")

_CHUNK = 1 << 16
_HEAD = 256  # bytes kept from the start of a body, to sniff its type and quote it in errors


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


def _shown_url(url: str, params: dict[str, Any] | None) -> str:
    """The full URL a GET will request (query string included), redacted for messages and manifests."""
    try:
        return redact(requests.Request("GET", url, params=params).prepare().url or url)
    except requests.exceptions.RequestException:  # a malformed URL is reported by the GET itself
        return redact(url)


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self.session.hooks["response"].append(refuse_credential_redirects)
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
                    return check_body("json", resp.headers.get("Content-Type", ""), head, lambda: bytes(buf))
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
            raise Retryable(f"timed out ({type(e).__name__})") from None
        except requests.exceptions.ConnectionError as e:
            raise Retryable(f"connection failed: {e}") from None
        except requests.exceptions.RequestException as e:
            raise FetchError(source, shown, f"request failed: {e}", method=method) from None
        status = resp.status_code
        if status == 200 or (status == 304 and conditional):
            return resp
        resp.close()
        if status in (408, 429) or 500 <= status <= 599:
            raise Retryable(f"HTTP {status}", parse_retry_after(resp.headers.get("Retry-After")))
        problem = f"HTTP {status} {resp.reason or ''}".rstrip() + " (not retried)"
        raise FetchError(source, shown, problem, status=status, method=method)

    def _download(
        self, source: str, shown: str, resp: requests.Response, dest: Path, expect: Expect | None
    ) -> tuple[int, str]:
        """Stream the body to a temp file next to dest, check it, rename it into place."""
        declared = declared_length(resp)
        if declared is not None and declared > self.settings.max_bytes:
            problem = f"Content-Length {declared} exceeds the {self.settings.max_bytes} byte limit"
            raise FetchError(source, shown, problem)
        with atomic_output(dest, suffix=".part") as tmp:
            with tmp.open("wb") as out:
                size, sha256, head = self._stream(resp, out.write, source, shown)
            self._check_length(resp, size)
            try:
                check_body(expect, resp.headers.get("Content-Type", ""), head, tmp.read_bytes)
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
            declared = declared_length(resp)
            if declared is not None:
                return Retryable(f"truncated: got {max(size, bytes_read(e))} of {declared} bytes")
            return Retryable(f"connection broken while reading the body: {e}")
        return Retryable(f"connection failed while reading the body: {e}")  # includes read timeouts mid-body

    def _watchdog(self, resp: requests.Response) -> Watchdog | None:
        """A timer that cuts this response's connection at the deadline (None without a deadline or socket)."""
        sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
        if self._deadline is None or sock is None:
            return None
        return Watchdog(sock, self._deadline - time.monotonic())

    def _check_length(self, resp: requests.Response, size: int) -> None:
        declared = declared_length(resp)
        if declared is not None and size != declared:
            raise Retryable(f"truncated: got {size} of {declared} bytes")

    def _retrying(self, source: str, shown: str, attempt: Callable[[], T], method: str = "GET") -> T:
        """Run attempt() until it succeeds, fails for good, or max_attempts is reached."""
        s = self.settings
        for n in range(1, s.max_attempts + 1):
            try:
                return attempt()
            except Retryable as e:
                tries = f"{n} attempt{'s' if n > 1 else ''}"
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    raise self._past_deadline(source, shown, method, f"{e.cause}, after {tries}")
                if n == s.max_attempts:
                    raise FetchError(source, shown, f"{e.cause}; gave up after {tries}", method=method) from None
                wait = retry_wait(n, e.retry_after, base=s.backoff_base, cap=s.backoff_max,
                                  retry_after_max=s.retry_after_max)
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
