"""Fetching GDELT 2.0: the file lists (lastupdate, masterfilelist) and 15-minute export zips checked by size and md5."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import date, datetime, time, timezone
from urllib.parse import urlsplit

import polars as pl

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft
from transforms.conflict_events.gdelt_files import parse_gdelt_file_list
from transforms.errors import SourceFormatError

SOURCE = "gdelt"
FILE_LISTS = ("lastupdate", "masterfilelist")
EXPORT_NAME = re.compile(r"^(\d{14})\.export\.CSV\.zip$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


def fetch_gdelt_file_list(
    client: HttpClient, draft: SnapshotDraft, base_url: str, which: str = "lastupdate"
) -> tuple[str, pl.DataFrame]:
    """`gdeltv2/<which>.txt` into the draft (conditional GET) as `<which>.txt`: (file name, parsed rows).

    The rows are parse_gdelt_file_list's (size, md5, url, file_name, timestamp UTC, kind). A list that does not
    parse is a FetchError, so a caller keeps what it has rather than reading a broken list as an empty one.
    """
    if which not in FILE_LISTS:
        raise ValueError(f"which must be one of {FILE_LISTS}, got {which!r}")
    name = f"{which}.txt"
    result = fetch_into_draft(client, draft, SOURCE, f"{base_url.rstrip('/')}/gdeltv2/{name}", name, expect="csv")
    try:
        return name, parse_gdelt_file_list((draft.dir / name).read_bytes(), name)
    except SourceFormatError as e:
        raise FetchError(SOURCE, result.url, f"unreadable file list {name}: {e.problem}") from None


def _same_host(url: str, base_url: str) -> bool:
    """Same host name, and the same port where either URL names one (GDELT lists http:// links)."""
    a, b = urlsplit(url), urlsplit(base_url)
    if a.scheme.lower() not in ("http", "https") or not a.hostname:
        return False
    if (a.hostname or "").lower() != (b.hostname or "").lower():
        return False
    return (a.port is None and b.port is None) or a.port == b.port


def fetch_gdelt_export(
    client: HttpClient, draft: SnapshotDraft, url: str, *, expected_size: int, expected_md5: str, base_url: str
) -> str:
    """One `<YYYYMMDDHHMMSS>.export.CSV.zip` from the file list, kept only if its size and md5 match the list's.

    The manifest records `expected_size`, `expected_md5` and the `md5` found. A mismatch is a FetchError
    naming the file, expected and actual, and leaves nothing in the draft.
    """
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    if not _same_host(url, base_url):
        raise FetchError(SOURCE, url, f"refused: {name} is not on {urlsplit(base_url).netloc or base_url}, "
                                      "the configured GDELT host")
    if not EXPORT_NAME.match(name):
        raise FetchError(SOURCE, url, f"refused: {name!r} is not a <YYYYMMDDHHMMSS>.export.CSV.zip file")
    expected_md5 = expected_md5.strip().lower()
    if not _MD5.match(expected_md5):
        raise ValueError(f"{name}: expected_md5 {expected_md5!r} is not 32 hex digits")
    dest = draft.dest(name)
    result = client.fetch_to_file(SOURCE, url, dest, expect="zip")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with dest.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        md5 = digest.hexdigest()
        if result.bytes != expected_size or md5 != expected_md5:
            raise FetchError(
                SOURCE, result.url, f"{name} does not match the file list: expected {expected_size} bytes md5 "
                f"{expected_md5}, got {result.bytes} bytes md5 {md5}",
            )
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    params = {**result.params, "expected_size": expected_size, "expected_md5": expected_md5, "md5": md5}
    draft.add_fetched(dataclasses.replace(result, params=params), name)
    return name


def _bound(value: datetime | date | str, dtype: pl.DataType) -> datetime:
    """A bound as a datetime comparable with the timestamp column (naive values and strings are UTC)."""
    if isinstance(value, str):
        text = value.strip()
        value = datetime.strptime(text, "%Y%m%d%H%M%S") if text.isdigit() else datetime.fromisoformat(text)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def gdelt_exports(file_list_frame: pl.DataFrame) -> pl.DataFrame:
    """The export rows of a file list, oldest first (the sensor's and a backfill's candidates)."""
    return file_list_frame.filter(pl.col("kind") == "export").sort("timestamp")


def gdelt_exports_between(
    file_list_frame: pl.DataFrame, start: datetime | date | str, end: datetime | date | str
) -> pl.DataFrame:
    """Export rows with start <= timestamp < end, oldest first (a backfill's files); naive bounds are UTC."""
    dtype = file_list_frame.schema["timestamp"]
    lo, hi = _bound(start, dtype), _bound(end, dtype)
    return gdelt_exports(file_list_frame).filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi))
