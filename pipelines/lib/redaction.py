"""Credentials kept out of what ThreatWatch says: masked in URLs, messages and manifests, refused on redirects."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

# A query parameter or header whose name contains one of these is treated as a credential.
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


class CredentialRedirectError(requests.exceptions.RequestException):
    """A redirect would carry a credential header to another origin (requests strips only Authorization)."""


def refuse_credential_redirects(resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Session response hook: refuse a redirect off the request's origin when a credential header was sent."""
    location = resp.headers.get("Location") if resp.is_redirect else None
    if location and any(_SECRET_NAME.search(name) for name in resp.request.headers):
        here, there = urlsplit(resp.request.url or ""), urlsplit(urljoin(resp.request.url or "", location))
        if (here.scheme, here.netloc.lower()) != (there.scheme, there.netloc.lower()):
            resp.close()
            problem = f"refused a redirect to {redact(location)}: it would carry a credential header"
            raise CredentialRedirectError(problem)
    return resp
