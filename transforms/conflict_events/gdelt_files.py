"""GDELT 2.0 file plumbing: the `<size> <md5> <url>` file lists, their 15-minute slots, and safe zip reading.

Decisions (../shared/data/conflict_events/SOURCES.md §3):
- masterfilelist.txt and lastupdate.txt share one line format, `<bytes> <md5> <url>`, one space apart. The
  URL's file name is `<YYYYMMDDHHMMSS>.<kind>.<ext>.zip` with kind export | mentions | gkg; the extension is
  `CSV` for export and mentions and `csv` for gkg, so it is matched without regard to case. Any other line
  (a blank line excepted) fails naming its line number: a list we cannot read must not look like an empty one.
  The translingual lists (masterfilelist-translation.txt, `<ts>.translation.export.CSV.zip`) are not read here.
- The 15-minute sequence has holes (no file was ever published for some slots): a backfill fetches the files
  the list names, so a hole is no file, not an error.
- A GDELT zip holds one member: read_single_member_zip unpacks it with transforms/zip_member.py's checks
  (traversal, zip bombs, lying headers), refusing before decompressing what it can.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms.errors import SourceFormatError
from transforms.zip_member import unzip_single_member

SOURCE = "gdelt"

FILE_LIST_SCHEMA = pl.Schema(
    {
        "size": pl.Int64,
        "md5": pl.Utf8,
        "url": pl.Utf8,
        "file_name": pl.Utf8,
        "timestamp": pl.Datetime("us", "UTC"),
        "kind": pl.Utf8,  # export | mentions | gkg
    }
)

DEFAULT_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024  # a 15-minute export is ~0.2-2 MB unzipped
DEFAULT_MAX_COMPRESSION_RATIO = 100.0

_LIST_LINE = (
    r"^(?<size>\d+) (?<md5>[0-9a-fA-F]{32}) "
    r"(?<url>\S*?(?<file_name>(?<stamp>\d{14})\.(?<kind>export|mentions|gkg)\.[cC][sS][vV]\.zip))$"
)


def parse_gdelt_file_list(text: str | bytes, file_name: str) -> pl.DataFrame:
    """masterfilelist.txt / lastupdate.txt lines -> size, md5, url, file_name, timestamp (UTC), kind."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SourceFormatError(SOURCE, file_name, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    lines = (
        pl.DataFrame({"text": text.split("\n")})
        .with_row_index("line", offset=1)
        .with_columns(pl.col("text").str.strip_chars_end("\r"))
        .filter(pl.col("text").str.strip_chars() != "")
    )
    parsed = lines.with_columns(pl.col("text").str.extract_groups(_LIST_LINE).alias("m")).unnest("m")
    parsed = parsed.with_columns(
        pl.col("stamp").str.to_datetime("%Y%m%d%H%M%S", time_zone="UTC", strict=False).alias("timestamp"),
        pl.col("size").cast(pl.Int64, strict=False),
    )
    bad = parsed.filter(pl.col("url").is_null() | pl.col("timestamp").is_null() | pl.col("size").is_null())
    if bad.height:
        line, content = bad.row(0, named=True)["line"], bad.row(0, named=True)["text"]
        raise SourceFormatError(
            SOURCE, file_name,
            f"line {line}: expected '<bytes> <md5> <url of a <YYYYMMDDHHMMSS>.export|mentions|gkg.CSV.zip>', "
            f"got {content[:120]!r}",
        )
    return parsed.select(
        "size", pl.col("md5").str.to_lowercase(), "url", "file_name", "timestamp", "kind"
    ).cast(dict(FILE_LIST_SCHEMA))


def read_single_member_zip(
    path: Path,
    member_pattern: str,
    *,
    expected_member: str | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    max_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO,
    source: str = SOURCE,
) -> tuple[str, bytes]:
    """(member name, bytes) of a GDELT zip's one member, refusing traversal, bombs and lying headers."""
    chunks: list[bytes] = []
    name = unzip_single_member(path, member_pattern, chunks.append, expected_member=expected_member,
                               max_uncompressed_bytes=max_uncompressed_bytes, max_ratio=max_ratio, source=source)
    return name, b"".join(chunks)
