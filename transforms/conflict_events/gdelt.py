"""GDELT 2.0 Event export files (`<YYYYMMDDHHMMSS>.export.CSV[.zip]`) to the conformed event shape.

The format: ../shared/data/conflict_events/SOURCES.md §3.

Decisions:
- The file is tab-separated, no header, no quoting (a `"` is an ordinary character), 61 columns in
  GDELT_EVENT_COLUMNS order. Every column is read as text, then typed; the CAMEO code columns (EventCode,
  EventBaseCode, EventRootCode, Actor*Code, *Type*Code, ...) stay text: `010` and `0211` keep their zeros.
  A line with another number of fields fails the whole file, naming the line: the columns would be shifted.
  Invalid UTF-8 is replaced (utf8-lossy), not fatal: a stray byte in a headline must not drop 15 minutes.
- This is the big source (~100k events a day), so staging is vectorised and the staged frame is lean: the
  conformed columns plus a few typed extras (EXTRA_SCHEMA); Actor geo, ethnic/religion/type codes and the
  other raw columns stay in the snapshot.
- event_date = SQLDATE (day precision; it can lie months before DATEADDED), event_date_end = event_date.
  The place is ActionGeo_*: country_code_published = ActionGeo_CountryCode (FIPS 10-4), iso3 through the
  crosswalk's `fips` scheme, admin1 = ActionGeo_ADM1Code (FIPS country + ADM1, e.g. `UP07`), latitude and
  longitude null where ActionGeo_Type is 0 or empty (no geography). source_event_type = EventRootCode,
  source_sub_event_type = EventCode, actor1/actor2 = Actor1Name/Actor2Name; GDELT counts no deaths, so the
  fatality columns are null; release is null; source_file is the file name handed in (the zip's name when
  read through read_gdelt_export_zip: the snapshot holds the zip).
- Rejected rows (the raw text row, its line number and a reason): unreadable GLOBALEVENTID, SQLDATE or
  DATEADDED; unreadable or out-of-range ActionGeo latitude/longitude; QuadClass not 1..4; GoldsteinScale
  unreadable or outside -10..10; an unknown FIPS code; a repeated GLOBALEVENTID (the first row is kept).
  An empty ActionGeo_CountryCode, or a FIPS code that names no country (FIPS_WITHOUT_COUNTRY: oceans,
  disputed islands, see data/reference/fips_codes.csv), keeps a null iso3 and is not rejected.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import polars as pl

from transforms.conflict_events.gdelt_columns import EXTRA_SCHEMA, GDELT_EVENT_COLUMNS, REJECTED_SCHEMA
from transforms.conflict_events.gdelt_files import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    read_single_member_zip,
)
from transforms.conflict_events.schema import conform_columns, empty_events
from transforms.errors import SourceFormatError
from transforms.reference.countries import FIPS_WITHOUT_COUNTRY, resolve_country_codes

SOURCE = "gdelt"
SOURCE_KIND = "media_coded"
# ActionGeo_CountryCode values that keep a null iso3 without being rejected (the crosswalk's documented list).
NO_COUNTRY_FIPS = FIPS_WITHOUT_COUNTRY


EXPORT_MEMBER_PATTERN = r"\d{14}\.export\.CSV"
_FIELDS = len(GDELT_EVENT_COLUMNS)


def _fail(file_name: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file_name, problem)


def _first_bad_line(data: bytes, file_name: str) -> SourceFormatError:
    """The error naming the first line whose field count is not 61 (the slow path, only when one exists)."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()  # the final newline ends the last line; it opens no empty one
    for number, line in enumerate(lines, 1):
        fields = line.count(b"\t") + 1
        if fields != _FIELDS:
            preview = line[:80].decode("utf-8", "replace")
            return _fail(file_name, f"line {number} has {fields} tab-separated fields, expected {_FIELDS}: {preview!r}")
    return _fail(file_name, f"rows do not all have {_FIELDS} tab-separated fields")


def _read_raw(data: bytes, file_name: str) -> pl.DataFrame:
    """The 61 columns as text plus the 1-based line number; raises naming a line with another field count."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    # Cheap whole-file check first; the per-line scan runs only to name the culprit.
    if data.count(b"\t") != (_FIELDS - 1) * lines:
        raise _first_bad_line(data, file_name)
    try:
        raw = pl.read_csv(
            data, separator="\t", has_header=False, quote_char=None, infer_schema=False,
            new_columns=list(GDELT_EVENT_COLUMNS), encoding="utf8-lossy",
        )
    except pl.exceptions.PolarsError as e:  # e.g. one line with 62 fields and another with 60
        raise _first_bad_line(data, file_name) from e
    if raw.width != _FIELDS or raw.height != lines:
        raise _first_bad_line(data, file_name)
    return (
        raw.with_columns(pl.col("SOURCEURL").str.strip_chars_end("\r"))
        .with_row_index("line", offset=1)
        .with_columns(pl.col("line").cast(pl.Int64), source_file=pl.lit(file_name), _part=pl.lit(0, pl.UInt32))
    )


def _number(column: str, dtype: pl.DataType) -> pl.Expr:
    """The text column as a number; null where empty or unreadable."""
    return pl.col(column).str.strip_chars().cast(dtype, strict=False)


def _unreadable(column: str, parsed: str) -> pl.Expr:
    """True where the text is non-empty but did not parse."""
    return pl.col(column).str.strip_chars().fill_null("").ne("") & pl.col(parsed).is_null()


def _shown(column: str) -> pl.Expr:
    """A value for a reason text: never null (a null would null the whole reason)."""
    return pl.col(column).cast(pl.Utf8).fill_null("")


def _reason(rules: list[tuple[pl.Expr, pl.Expr | str]]) -> pl.Expr:
    """The first rule's reason that holds, else null."""
    return pl.coalesce(
        [pl.when(cond).then(msg if isinstance(msg, pl.Expr) else pl.lit(msg)) for cond, msg in rules]
    ).alias("reason")


def _stage(
    raw: pl.DataFrame, crosswalk: pl.DataFrame, no_country_fips: Collection[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type, check and conform the raw text rows of one or more files (`_part` tells them apart, and stays
    on both results) -> (staged events, rejected rows with reasons)."""
    typed = raw.with_columns(
        _number("GLOBALEVENTID", pl.Int64).alias("_id"),
        pl.col("SQLDATE").str.strip_chars().str.to_date("%Y%m%d", strict=False).alias("_date"),
        pl.col("DATEADDED").str.strip_chars().str.to_datetime("%Y%m%d%H%M%S", time_zone="UTC", strict=False)
        .alias("_added"),
        _number("ActionGeo_Type", pl.Int8).alias("_geo_type"),
        _number("ActionGeo_Lat", pl.Float64).alias("_lat"),
        _number("ActionGeo_Long", pl.Float64).alias("_lon"),
        _number("QuadClass", pl.Int8).alias("_quad"),
        _number("GoldsteinScale", pl.Float64).alias("_goldstein"),
        pl.col("ActionGeo_CountryCode").str.strip_chars().replace("", None).alias("_fips"),
    )
    typed = resolve_country_codes(typed, "_fips", crosswalk, "fips")
    has_geo = pl.col("_geo_type").fill_null(0) != 0
    no_country = list(no_country_fips)
    rules: list[tuple[pl.Expr, pl.Expr | str]] = [
        (pl.col("_id").is_null(), pl.format("unreadable GLOBALEVENTID '{}'", _shown("GLOBALEVENTID"))),
        (pl.col("_date").is_null(), pl.format("unreadable SQLDATE '{}' (not YYYYMMDD)", _shown("SQLDATE"))),
        (pl.col("_added").is_null(), pl.format("unreadable DATEADDED '{}' (not YYYYMMDDHHMMSS)", _shown("DATEADDED"))),
        (_unreadable("ActionGeo_Type", "_geo_type"),
         pl.format("unreadable ActionGeo_Type '{}'", _shown("ActionGeo_Type"))),
        (has_geo & _unreadable("ActionGeo_Lat", "_lat"),
         pl.format("unreadable ActionGeo_Lat '{}'", _shown("ActionGeo_Lat"))),
        (has_geo & _unreadable("ActionGeo_Long", "_lon"),
         pl.format("unreadable ActionGeo_Long '{}'", _shown("ActionGeo_Long"))),
        (has_geo & (pl.col("_lat").abs() > 90), pl.format("ActionGeo_Lat {} out of range -90..90", _shown("_lat"))),
        (has_geo & (pl.col("_lon").abs() > 180), pl.format("ActionGeo_Long {} out of range -180..180", _shown("_lon"))),
        (~pl.col("_quad").is_between(1, 4).fill_null(False),
         pl.format("QuadClass '{}' not in 1..4", _shown("QuadClass"))),
        (_unreadable("GoldsteinScale", "_goldstein") | (pl.col("_goldstein").abs() > 10),
         pl.format("GoldsteinScale '{}' unreadable or outside -10..10", _shown("GoldsteinScale"))),
        (pl.col("_fips").is_not_null() & pl.col("iso3").is_null() & ~pl.col("_fips").is_in(no_country),
         pl.format("unknown FIPS country code '{}' in ActionGeo_CountryCode", _shown("_fips"))),
        (pl.col("_id").is_not_null() & ~pl.col("_id").is_first_distinct().over("_part"),
         pl.format("duplicate GLOBALEVENTID {} (the first row is kept)", _shown("_id"))),
    ]
    checked = typed.with_columns(_reason(rules))
    rejected = checked.filter(pl.col("reason").is_not_null()).select(*REJECTED_SCHEMA.names(), "_part")
    kept = checked.filter(pl.col("reason").is_null())
    events = kept.select(
        pl.format("gdelt:{}", pl.col("_id")).alias("event_id"),
        pl.lit(SOURCE).alias("source"),
        pl.col("_id").cast(pl.Utf8).alias("source_event_id"),
        pl.lit(SOURCE_KIND).alias("source_kind"),
        pl.col("_date").alias("event_date"),
        pl.col("_date").alias("event_date_end"),
        pl.lit("day").alias("date_precision"),
        pl.col("_fips").alias("country_code_published"),
        pl.lit(None, pl.Utf8).alias("country_name"),
        "iso3",
        _blank("ActionGeo_ADM1Code").alias("admin1"),
        _blank("ActionGeo_FullName").alias("location"),
        pl.when(has_geo).then(_shown("_lat")).alias("latitude"),
        pl.when(has_geo).then(_shown("_lon")).alias("longitude"),
        _blank("EventRootCode").alias("source_event_type"),
        _blank("EventCode").alias("source_sub_event_type"),
        _blank("Actor1Name").alias("actor1"),
        _blank("Actor2Name").alias("actor2"),
        *(pl.lit(None, pl.Int64).alias(c) for c in ("fatalities_best", "fatalities_low", "fatalities_high")),
        pl.lit(None, pl.Utf8).alias("release"),
        "source_file",
        pl.col("_id").alias("global_event_id"),
        pl.col("_added").alias("date_added"),
        _blank("Actor1Code").alias("actor1_code"),
        _blank("Actor1CountryCode").alias("actor1_country_code"),
        _blank("Actor2Code").alias("actor2_code"),
        _blank("Actor2CountryCode").alias("actor2_country_code"),
        pl.col("IsRootEvent").str.strip_chars().replace_strict({"1": True, "0": False}, default=None,
                                                                return_dtype=pl.Boolean).alias("is_root_event"),
        _blank("EventCode").alias("event_code"),
        _blank("EventBaseCode").alias("event_base_code"),
        _blank("EventRootCode").alias("event_root_code"),
        pl.col("_quad").alias("quad_class"),
        pl.col("_goldstein").alias("goldstein_scale"),
        _number("NumMentions", pl.Int32).alias("num_mentions"),
        _number("NumSources", pl.Int32).alias("num_sources"),
        _number("NumArticles", pl.Int32).alias("num_articles"),
        _number("AvgTone", pl.Float32).alias("avg_tone"),
        pl.col("_geo_type").alias("action_geo_type"),
        _blank("ActionGeo_FeatureID").alias("action_geo_feature_id"),
        _blank("SOURCEURL").alias("source_url"),
        "_part",
    )
    return conform_columns(events).cast(dict(EXTRA_SCHEMA)), rejected


def _blank(column: str) -> pl.Expr:
    """The text, null where empty."""
    return pl.col(column).replace("", None)


def empty_gdelt_events() -> pl.DataFrame:
    """An empty staged GDELT frame (conformed columns plus EXTRA_SCHEMA)."""
    return empty_events(dict(EXTRA_SCHEMA))


def read_gdelt_export(
    source: Path | str | bytes,
    crosswalk: pl.DataFrame,
    file_name: str | None = None,
    *,
    no_country_fips: Collection[str] = NO_COUNTRY_FIPS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One unzipped export file (path or bytes) -> (staged events, rejected rows with reasons)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if file_name is None:
            raise ValueError("file_name is required when the export is handed in as bytes")
    else:
        data = Path(source).read_bytes()
        file_name = file_name or Path(source).name
    if not data.strip():
        return empty_gdelt_events(), pl.DataFrame(schema=REJECTED_SCHEMA)
    events, rejected = _stage(_read_raw(data, file_name), crosswalk, no_country_fips)
    return events.drop("_part"), rejected.drop("_part")


def read_gdelt_export_zip(
    path: Path | str,
    crosswalk: pl.DataFrame,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    *,
    max_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO,
    no_country_fips: Collection[str] = NO_COUNTRY_FIPS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`<ts>.export.CSV.zip` -> (staged events, rejected rows), its one member checked before and while unzipping."""
    data = _unzipped(Path(path), max_uncompressed_bytes, max_ratio)
    return read_gdelt_export(data, crosswalk, Path(path).name, no_country_fips=no_country_fips)


def _unzipped(path: Path, max_uncompressed_bytes: int, max_ratio: float) -> bytes:
    """The one member of an export zip, named as its zip says when it does."""
    stem = re.fullmatch(r"(\d{14}\.export\.CSV)\.zip", path.name)
    return read_single_member_zip(path, EXPORT_MEMBER_PATTERN, expected_member=stem.group(1) if stem else None,
                                  max_uncompressed_bytes=max_uncompressed_bytes, max_ratio=max_ratio)[1]


def read_gdelt_export_zips(
    paths: list[Path],
    crosswalk: pl.DataFrame,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    *,
    max_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO,
    no_country_fips: Collection[str] = NO_COUNTRY_FIPS,
) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """Many export zips -> read_gdelt_export_zip's (events, rejected) for each, typed and checked in one pass.

    Each file is unzipped and parsed on its own (a bad one fails naming itself); the typing and the row
    rules then run once over all rows, which costs far less than once per 2,500-row file."""
    raws = []
    for part, path in enumerate(map(Path, paths)):
        data = _unzipped(path, max_uncompressed_bytes, max_ratio)
        if data.strip():
            raws.append(_read_raw(data, path.name).with_columns(_part=pl.lit(part, pl.UInt32)))
    empty = empty_gdelt_events(), pl.DataFrame(schema=REJECTED_SCHEMA)
    if not raws:
        return [empty for _ in paths]
    events, rejected = _stage(pl.concat(raws), crosswalk, no_country_fips)
    by_part = events.partition_by("_part", as_dict=True, include_key=False)
    rejected_by_part = rejected.partition_by("_part", as_dict=True, include_key=False)
    return [(by_part.get((part,), empty[0]), rejected_by_part.get((part,), empty[1])) for part in range(len(paths))]
