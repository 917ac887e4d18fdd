"""Credentials come from the environment only (EnvVar-style); their values never reach logs or metadata."""

from __future__ import annotations

import os

from pipelines.lib.source_registry import source_info


class MissingCredentialsError(RuntimeError):
    """A source needs credentials that are not set; the source is skipped, loudly, and others carry on."""


def require_credentials(source: str) -> dict[str, str]:
    """The source's credential variables (names from data/reference/sources.csv) and their values."""
    names = source_info(source).credentials_env
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise MissingCredentialsError(f"[{source}] credentials not set: {', '.join(missing)} (set them in the environment)")
    return {n: os.environ[n] for n in names}
