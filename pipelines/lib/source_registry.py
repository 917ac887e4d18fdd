"""Facts about each publisher (licence, citation, endpoint), read from data/reference/sources.csv."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from pipelines.lib.config import REFERENCE_DIR

SOURCES_CSV = REFERENCE_DIR / "sources.csv"


@dataclass(frozen=True)
class SourceInfo:
    """One publisher's terms and endpoint; `id` is the fixed source id used everywhere."""

    id: str
    domain: str
    name: str
    publisher: str
    licence: str
    licence_url: str
    redistribution: str
    citation: str
    default_base_url: str
    cadence: str
    credentials_env: tuple[str, ...]

    @property
    def url_env_var(self) -> str:
        """The variable that points this source at a mirror, proxy or loopback test server."""
        return f"THREATWATCH_{self.id.upper()}_URL"

    def base_url(self) -> str:
        """The configured base URL: THREATWATCH_<SOURCE>_URL, else the publisher's own."""
        return (os.environ.get(self.url_env_var) or self.default_base_url).rstrip("/")


@lru_cache(maxsize=1)
def load_sources_table() -> pl.DataFrame:
    """The sources reference table, all columns as text."""
    return pl.read_csv(SOURCES_CSV, infer_schema=False).fill_null("")


def source_info(source: str) -> SourceInfo:
    """Look up one source by id; an unknown id is an error naming the known ones."""
    rows = load_sources_table().filter(pl.col("source") == source).to_dicts()
    if not rows:
        known = ", ".join(load_sources_table()["source"].to_list())
        raise KeyError(f"unknown source id {source!r}; known: {known}")
    r = rows[0]
    return SourceInfo(
        id=r["source"],
        domain=r["domain"],
        name=r["name"],
        publisher=r["publisher"],
        licence=r["licence"],
        licence_url=r["licence_url"],
        redistribution=r["redistribution"],
        citation=r["citation"],
        default_base_url=r["default_base_url"],
        cadence=r["cadence"],
        credentials_env=tuple(r["credentials_env"].split()),
    )
