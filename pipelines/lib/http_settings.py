"""Timeouts, retry policy, size cap, User-Agent and total deadline: the knobs of every request ThreatWatch makes."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.lib.fetch_deadline import DEFAULT_FETCH_DEADLINE

USER_AGENT = "ThreatWatch/0.1 (+https://github.com/threatwatch/threatwatch; open-source threat-indicator warehouse)"


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
