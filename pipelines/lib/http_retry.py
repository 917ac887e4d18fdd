"""When the HTTP client tries again and how long it waits: Retry-After, else capped backoff with jitter."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


class Retryable(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, cause: str, retry_after: float | None = None):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


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


def retry_wait(attempt: int, retry_after: float | None, *, base: float, cap: float, retry_after_max: float) -> float:
    """Retry-After when the server gave one (capped), else capped exponential backoff with jitter."""
    if retry_after is not None:
        return min(retry_after, retry_after_max)
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # jitter spreads out clients that failed together
