"""What a response body must be: its declared length, the bytes urllib3 read, and a type sniffed from its head."""

from __future__ import annotations

import json
from typing import Any, Callable, Literal

import requests
from urllib3.exceptions import IncompleteRead

Expect = Literal["json", "zip", "csv"]


def declared_length(resp: requests.Response) -> int | None:
    """Content-Length in body bytes, or None when absent or when it counts compressed bytes."""
    if resp.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    try:
        return int(resp.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def bytes_read(error: BaseException) -> int:
    """Bytes urllib3 had read when it found a body shorter than Content-Length (0 if it does not say)."""
    stack: list[Any] = [error]
    while stack:
        item = stack.pop()
        if isinstance(item, IncompleteRead) and isinstance(item.partial, int):
            return item.partial
        if isinstance(item, BaseException):
            stack.extend(item.args)
    return 0


def _quote_head(head: bytes) -> str:
    return repr(head.lstrip()[:60].decode("utf-8", "replace"))


def _looks_like_html(content_type: str, head: bytes) -> bool:
    # Proxies, captive portals and error pages answer 200 with HTML where data was expected.
    if content_type.split(";")[0].strip().lower() == "text/html":
        return True
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def check_body(expect: Expect | None, content_type: str, head: bytes, body: Callable[[], bytes]) -> Any:
    """Reject a body that is not what the caller expects (ValueError); for JSON, return it parsed."""
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
