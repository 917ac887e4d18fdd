"""ACLED events (CSV export, or pages of the read API's JSON) to the conformed event shape.

The formats: ../shared/data/conflict_events/SOURCES.md §2.

Decisions:
- The 31-column layout of ACLED's 2023+ exports (ACLED_COLUMNS). A missing column fails the file, naming
  it; extra columns (the API can add some, e.g. iso3 or population fields) are ignored.
- Missing values are empty cells in raw exports and the literal `NA` where R re-wrote the file: both are
  null, but only as a whole cell (`NA` inside a note stays). Every column is read as text, then typed.
- event_date is `28 December 2022` (exports) or `2022-12-28` (API/CSV downloads); timestamp is Unix epoch
  seconds of the last update -> Datetime UTC; iso is ISO 3166 numeric -> iso3 through the crosswalk's
  `iso_numeric` scheme; country_code_published keeps iso as 3-digit text (`204`).
- time_precision: 1 = the source gives the day, 2 = the week (or weekend), 3 = the month (ACLED codebook),
  so date_precision day / week / month; any other code leaves date_precision null and stays in time_precision.
  (acledR's copy of the codebook words code 3 as "Middle of week or weekend"; ACLED's own codebook and the
  dates it codes are month-level for 3, which is what we follow.)
- inter1, inter2 and interaction stay text: ACLED published them as numeric codes (1-8, `37`), its 2024+
  API as labels ("State forces", "Rebel group-Civilians"); both are kept as published.
- ACLED's `source` column (the reporting outlets) is renamed `reported_by`: `source` is the conformed source id.
- ACLED is a living dataset: an event_id_cnty is updated in place and keeps its id, so two rows with one id
  are two versions: the one with the newest timestamp is kept (the first of equals), the others are rejected,
  before any other rule, so a stale version never stands in for a bad newer one.
- Rejected with a reason (the raw row kept): unreadable event_date, timestamp, fatalities, latitude,
  longitude; negative fatalities; latitude/longitude out of range; iso not in the crosswalk; a superseded
  duplicate event_id_cnty.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from transforms.conflict_events.schema import conform_columns
from transforms.csv_rows import read_csv_rows
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_codes

SOURCE = "acled"
SOURCE_KIND = "verified_event"

ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction",
    "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude",
    "longitude", "geo_precision", "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
)
MISSING_MARKERS = ("", "NA")
DATE_PRECISIONS = {"1": "day", "2": "week", "3": "month"}

EXTRA_SCHEMA = pl.Schema(
    {
        "event_id_cnty": pl.Utf8,
        "year": pl.Int32,
        "time_precision": pl.Int8,
        "disorder_type": pl.Utf8,  # can hold two: "Political violence; Demonstrations"
        "sub_event_type": pl.Utf8,
        "inter1": pl.Utf8,
        "inter2": pl.Utf8,
        "interaction": pl.Utf8,
        "civilian_targeting": pl.Utf8,
        "admin2": pl.Utf8,
        "admin3": pl.Utf8,
        "geo_precision": pl.Int8,
        "reported_by": pl.Utf8,  # ACLED's `source`
        "source_scale": pl.Utf8,
        "notes": pl.Utf8,
        "tags": pl.Utf8,
        "timestamp": pl.Datetime("us", "UTC"),
        "region": pl.Utf8,
        "assoc_actor_1": pl.Utf8,
        "assoc_actor_2": pl.Utf8,
    }
)
REJECTED_SCHEMA = pl.Schema(
    {**{c: pl.Utf8 for c in ACLED_COLUMNS}, "source_file": pl.Utf8, "row": pl.Int64, "reason": pl.Utf8}
)


def _fail(file_name: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file_name, problem)


def _check_columns(columns: Iterable[str], file_name: str, where: str) -> None:
    present = list(columns)
    missing = [c for c in ACLED_COLUMNS if c not in present]
    if missing:
        raise _fail(file_name, f"missing column {missing[0]!r} in {where} (found {present[:40]})")


def _raw_frame(records: list[list[str | None]], file_name: str) -> pl.DataFrame:
    """Text rows in ACLED_COLUMNS order -> a frame with source_file and the 1-based data row number."""
    frame = pl.DataFrame(records, schema={c: pl.Utf8 for c in ACLED_COLUMNS}, orient="row")
    return frame.with_columns(
        pl.lit(file_name).alias("source_file"), pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("row")
    )


def _missing_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    """Whole cells that are empty or `NA` (after trimming) become null."""
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().is_in(MISSING_MARKERS)).then(None).otherwise(pl.col(c)).alias(c)
        for c in ACLED_COLUMNS
    )


def _trimmed(column: str) -> pl.Expr:
    """The text without surrounding blanks."""
    return pl.col(column).str.strip_chars()


def _unreadable(column: str, parsed: str) -> pl.Expr:
    """True where a value is present but did not parse."""
    return pl.col(column).is_not_null() & pl.col(parsed).is_null()


def _shown(column: str) -> pl.Expr:
    """A value for a reason text: never null (a null would null the whole reason)."""
    return pl.col(column).cast(pl.Utf8).fill_null("")


def _stage(raw: pl.DataFrame, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type, check and conform raw text rows (ACLED_COLUMNS + source_file + row) -> (events, rejected)."""
    text = _missing_to_null(raw)
    typed = text.with_columns(
        pl.coalesce(
            _trimmed("event_date").str.to_date("%d %B %Y", strict=False),
            _trimmed("event_date").str.to_date("%Y-%m-%d", strict=False),
        ).alias("_date"),
        _trimmed("timestamp").cast(pl.Int64, strict=False).alias("_ts_int"),
        _trimmed("fatalities").cast(pl.Int64, strict=False).alias("_fatalities"),
        _trimmed("latitude").cast(pl.Float64, strict=False).alias("_lat"),
        _trimmed("longitude").cast(pl.Float64, strict=False).alias("_lon"),
        _trimmed("iso").str.replace(r"\.0+$", "").cast(pl.Int32, strict=False).alias("_iso_number"),
    ).with_columns(
        pl.from_epoch("_ts_int", time_unit="s").dt.replace_time_zone("UTC").alias("_timestamp"),
        pl.col("_iso_number").cast(pl.Utf8).str.zfill(3).alias("_iso"),
    )
    typed = resolve_country_codes(typed, "_iso", crosswalk, "iso_numeric")
    # The newest version of each id wins (the first of equal timestamps); a row without an id is its own event.
    newest = (
        pl.col("row")
        == pl.col("row").sort_by(pl.col("_timestamp").fill_null(pl.datetime(1, 1, 1, time_zone="UTC")),
                                 pl.col("row"), descending=[True, False]).first()
        .over(pl.coalesce("event_id_cnty", pl.format("row {}", pl.col("row"))))
    )
    rules: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.col("event_id_cnty").is_null(), pl.lit("empty event_id_cnty")),
        (~newest, pl.format("duplicate event_id_cnty {} (superseded by a row with a newer timestamp)",
                            _shown("event_id_cnty"))),
        (pl.col("_date").is_null(),
         pl.format("unreadable event_date '{}' (expected '28 December 2022' or 2022-12-28)", _shown("event_date"))),
        (_unreadable("timestamp", "_ts_int"), pl.format("unreadable timestamp '{}'", _shown("timestamp"))),
        (_unreadable("fatalities", "_fatalities"), pl.format("unreadable fatalities '{}'", _shown("fatalities"))),
        (pl.col("_fatalities") < 0, pl.format("negative fatalities {}", _shown("_fatalities"))),
        (_unreadable("latitude", "_lat"), pl.format("unreadable latitude '{}'", _shown("latitude"))),
        (_unreadable("longitude", "_lon"), pl.format("unreadable longitude '{}'", _shown("longitude"))),
        (pl.col("_lat").abs() > 90, pl.format("latitude {} out of range -90..90", _shown("_lat"))),
        (pl.col("_lon").abs() > 180, pl.format("longitude {} out of range -180..180", _shown("_lon"))),
        (pl.col("iso3").is_null(),
         pl.format("iso '{}' (country '{}') not in the country crosswalk", _shown("iso"), _shown("country"))),
    ]
    checked = typed.with_columns(
        pl.coalesce([pl.when(cond.fill_null(False)).then(msg) for cond, msg in rules]).alias("reason")
    )
    kept = checked.filter(pl.col("reason").is_null())
    rejected = (
        checked.filter(pl.col("reason").is_not_null()).select(REJECTED_SCHEMA.names()).cast(dict(REJECTED_SCHEMA))
    )
    events = kept.select(
        pl.format("acled:{}", pl.col("event_id_cnty")).alias("event_id"),
        pl.lit(SOURCE).alias("source"),
        pl.col("event_id_cnty").alias("source_event_id"),
        pl.lit(SOURCE_KIND).alias("source_kind"),
        pl.col("_date").alias("event_date"),
        pl.col("_date").alias("event_date_end"),
        _trimmed("time_precision").replace_strict(DATE_PRECISIONS, default=None, return_dtype=pl.Utf8)
        .alias("date_precision"),
        pl.col("_iso").alias("country_code_published"),
        pl.col("country").alias("country_name"),
        "iso3",
        "admin1",
        "location",
        pl.col("_lat").alias("latitude"),
        pl.col("_lon").alias("longitude"),
        pl.col("event_type").alias("source_event_type"),
        pl.col("sub_event_type").alias("source_sub_event_type"),
        "actor1",
        "actor2",
        pl.col("_fatalities").alias("fatalities_best"),
        pl.lit(None, pl.Int64).alias("fatalities_low"),
        pl.lit(None, pl.Int64).alias("fatalities_high"),
        pl.lit(None, pl.Utf8).alias("release"),
        "source_file",
        "event_id_cnty",
        _trimmed("year").cast(pl.Int32, strict=False).alias("year"),
        _trimmed("time_precision").cast(pl.Int8, strict=False).alias("time_precision"),
        "disorder_type", "sub_event_type", "inter1", "inter2", "interaction", "civilian_targeting", "admin2", "admin3",
        _trimmed("geo_precision").cast(pl.Int8, strict=False).alias("geo_precision"),
        pl.col("source").alias("reported_by"),
        "source_scale", "notes", "tags",
        pl.col("_timestamp").alias("timestamp"),
        "region", "assoc_actor_1", "assoc_actor_2",
    )
    return conform_columns(events).cast(dict(EXTRA_SCHEMA)), rejected


def read_acled_csv(path: Path | str, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One ACLED CSV export -> (staged events, rejected rows with reasons)."""
    path = Path(path)
    rows = read_csv_rows(path, SOURCE, "an ACLED CSV export")
    header = [h.strip() for h in rows[0]]
    _check_columns(header, path.name, "the header")
    index = [header.index(c) for c in ACLED_COLUMNS]
    records = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise _fail(path.name, f"line {number}: {len(row)} fields, the header has {len(header)}")
        records.append([row[i] for i in index])
    return _stage(_raw_frame(records, path.name), crosswalk)


def _api_page(path: Path) -> list[list[str | None]]:
    """The `data` records of one read-API JSON page as text rows in ACLED_COLUMNS order."""
    # What we rely on (ACLED API guide; clients such as acledR and acled.api read the same keys):
    # GET /api/acled/read?_format=json answers {"status": 200, "success": true, "count": <n>, "data": [{...}],
    # ...} with one object per event keyed by the export's column names, values mostly strings (numbers are
    # accepted too). A `success` of false or a non-200 status carries an error, not data.
    try:
        body = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _fail(path.name, f"not JSON ({e})") from e
    if isinstance(body, dict) and (
        body.get("success") in (False, 0, "0", "false") or str(body.get("status", 200)) != "200"
    ):
        message = body.get("error") or body.get("messages") or body.get("message")
        raise _fail(path.name, f"the API reported failure: status {body.get('status')!r}, {message!r}")
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise _fail(path.name, "expected a JSON object with a 'data' list (the ACLED read API reply)")
    data = body["data"]
    if "count" in body and str(body["count"]) != str(len(data)):
        raise _fail(path.name, f"'count' is {body['count']!r} but 'data' holds {len(data)} records")
    records = []
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise _fail(path.name, f"data record {number} is not an object")
        _check_columns(item.keys(), path.name, f"data record {number}")
        records.append([None if item[c] is None else str(item[c]) for c in ACLED_COLUMNS])
    return records


def read_acled_api_pages(paths: Iterable[Path | str], crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read-API JSON pages (one query, paged) -> (staged events, rejected rows); same shape as read_acled_csv."""
    frames = [_raw_frame(_api_page(Path(p)), Path(p).name) for p in paths]
    if not frames:
        raise _fail("no files", "an ACLED API snapshot needs at least one page")
    return _stage(pl.concat(frames), crosswalk)
