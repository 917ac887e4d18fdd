"""UCDP GED events (release or candidate CSV, HDX country CSV, GeoJSON, API JSON pages) to the conformed event shape.

Decisions (../shared/data/conflict_events/SOURCES.md §1):
- Every layout is first read as text under the 49 GED column names, then one function stages it, so the same
  events give the same rows whichever layout they came in (only release, source_file and relid can differ).
- HDX country copies insert `iso3` after `country` and put a row of HXL hashtags under the header. That row is
  detected (every non-empty cell a hashtag), not assumed; the file's own iso3 is not used (iso3 comes from the
  crosswalk, like every other layout).
- release: from the file name (GEDEvent_v25_1 -> 25.1, candidate GEDEvent_v26_0_7 -> 26.0.7), for API pages from
  the page URLs or file name (ucdp_ged_json.py); HDX copies do not say, so null.
- A value that is not of its column's type, or a type_of_violence / date_prec code outside the codebook, fails
  the file (SourceFormatError naming column and value): the format has changed, not one row.
- Row-level rules quarantine the row with every reason found: missing id/date/estimates/country, unparseable
  date, date_end before date_start, negative deaths, latitude/longitude out of range, a country_id
  (Gleditsch-Ward) the crosswalk cannot resolve in the event year, a repeated id (first one kept).
- low <= best <= high broken is NOT a reason to refuse the event: the triple is the publisher's own figure
  (13 of 2,989 events in the Ukraine HDX copy, 20 of 1,848 in the CAR GeoJSON v23.1), and importing a file must
  publish every event with the counts and deaths the file holds. Such events are kept as published and flagged
  (`deaths_ordered` false; true otherwise, null only where best is null). The GX event suite tolerates a small share of them (ordered_mostly, see
  pipelines/defs/ucdp_ged/checks.py and pipelines/defs/ucdp_ged/assets.py).
- number_of_sources -1 is UCDP's "unknown" -> null; the GeoJSON copies' relid (0, destroyed by the converter) -> null.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from transforms.conflict_events.schema import conform_columns
from transforms.conflict_events.ucdp_text import (
    check_codes,
    check_parsed,
    date_text,
    integer_text,
    read_csv_as_text,
    reason_column,
    require_columns,
)
from transforms.reference.countries import resolve_country_codes

SOURCE = "ucdp_ged"
SOURCE_KIND = "verified_event"

GED_COLUMNS: tuple[str, ...] = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id", "conflict_new_id",
    "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
    "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
    "source_date", "source_headline", "source_original", "where_prec", "where_coordinates", "where_description",
    "adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
    "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians",
    "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
)
# The GeoJSON copies move latitude/longitude into the geometry and drop geom_wkt.
GEOJSON_PROPERTIES: tuple[str, ...] = tuple(c for c in GED_COLUMNS if c not in ("latitude", "longitude", "geom_wkt"))

# UCDP GED codebook, date_prec: 1 exact day; 2 within 2-6 days; 3 within a week; 4 within a month (8-30 days);
# 5 more than a month, within the year. The stored files agree: date_end - date_start is 0 days for code 1,
# 1-5 for 2, 6 for 3, 7-30 for 4 and 33-365 for 5 (Ukraine HDX copy and CAR GeoJSON, 4,837 events).
DATE_PRECISION: dict[int, str] = {1: "day", 2: "range", 3: "week", 4: "month", 5: "year"}
VIOLENCE_TYPES: dict[int, str] = {1: "state-based", 2: "non-state", 3: "one-sided"}

EXTRA_COLUMNS = pl.Schema(
    {
        "relid": pl.Utf8,
        "year": pl.Int32,
        "active_year": pl.Boolean,
        "code_status": pl.Utf8,
        "type_of_violence": pl.Int8,
        "conflict_new_id": pl.Int64,
        "conflict_name": pl.Utf8,
        "dyad_new_id": pl.Int64,
        "dyad_name": pl.Utf8,
        "side_a_new_id": pl.Int64,
        "side_b_new_id": pl.Int64,
        "where_prec": pl.Int8,
        "where_description": pl.Utf8,
        "adm_2": pl.Utf8,
        "event_clarity": pl.Int8,
        "date_prec": pl.Int8,
        "deaths_a": pl.Int64,
        "deaths_b": pl.Int64,
        "deaths_civilians": pl.Int64,
        "deaths_unknown": pl.Int64,
        "gwnoa": pl.Utf8,  # Gleditsch-Ward code(s) of side a as published ("2, 200"), empty for non-state actors
        "gwnob": pl.Utf8,
        "region": pl.Utf8,
        "number_of_sources": pl.Int32,
        "priogrid_gid": pl.Int32,
        # False where the publisher's low <= best <= high is broken (the event is kept as published), else True.
        "deaths_ordered": pl.Boolean,
    }
)
REJECTED_SCHEMA = pl.Schema(
    {
        "source_file": pl.Utf8,
        "record_number": pl.Int64,  # 1-based position after the header (an HXL row counts), or in the page/features
        "record_key": pl.Utf8,  # the publisher's id of the record as text (GED id; ACD "conflict_id:year"; ...)
        "reason": pl.Utf8,
        "record": pl.Utf8,  # the published fields as JSON text
    }
)

_INTEGERS: dict[str, pl.DataType] = {
    "id": pl.Int64, "year": pl.Int32, "type_of_violence": pl.Int8, "conflict_new_id": pl.Int64,
    "dyad_new_id": pl.Int64, "side_a_new_id": pl.Int64, "side_b_new_id": pl.Int64, "number_of_sources": pl.Int32,
    "where_prec": pl.Int8, "priogrid_gid": pl.Int32, "country_id": pl.Int32, "event_clarity": pl.Int8,
    "date_prec": pl.Int8, "deaths_a": pl.Int64, "deaths_b": pl.Int64, "deaths_civilians": pl.Int64,
    "deaths_unknown": pl.Int64, "best": pl.Int64, "high": pl.Int64, "low": pl.Int64,
}
_FLOATS = ("latitude", "longitude")
_DEATHS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "low", "best", "high")
_REQUIRED_VALUES = ("id", "date_start", "country_id", "type_of_violence", "date_prec", "best", "low", "high")
_BOOLEAN_TEXT = {"1": True, "0": False, "true": True, "false": False}
_HXL_TAG = r"^#[A-Za-z][\w+:-]*$"
# CSV dates are 'YYYY-MM-DD 00:00:00.000', GeoJSON and API ones 'YYYY-MM-DDT00:00:00'; only the day is kept.
_FILE_RELEASE = re.compile(r"GEDEvent_v(\d+)_(\d+)(?:_(\d+))?", re.IGNORECASE)
_META = ("_source_file", "_record_number", "_release")


def release_from_file_name(file_name: str) -> str | None:
    """The GED version in a file name: GEDEvent_v23_1.csv -> '23.1', GEDEvent_v26_0_7.csv -> '26.0.7', else None."""
    match = _FILE_RELEASE.search(file_name)
    return ".".join(g for g in match.groups() if g is not None) if match else None


def _typed(raw: pl.DataFrame) -> pl.DataFrame:
    """The GED text columns typed; a value of the wrong type or an unknown code fails the file."""
    integers = {c: integer_text(c, t) for c, t in _INTEGERS.items()}
    floats = {c: pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in _FLOATS}
    active = pl.col("active_year").str.strip_chars().str.to_lowercase().replace_strict(
        _BOOLEAN_TEXT, default=None, return_dtype=pl.Boolean
    )
    check_parsed(raw, integers, "an integer", SOURCE)
    check_parsed(raw, floats, "a number", SOURCE)
    check_parsed(raw, {"active_year": active}, "1/0 or true/false", SOURCE)
    typed = raw.with_columns(
        *(e.alias(c) for c, e in integers.items()),
        *(e.alias(c) for c, e in floats.items()),
        active.alias("active_year"),
        date_text("date_start").alias("_date_start"),
        date_text("date_end").alias("_date_end"),
        pl.col("date_start").alias("_date_start_text"),
        pl.col("date_end").alias("_date_end_text"),
    )
    check_codes(typed, "type_of_violence", VIOLENCE_TYPES, SOURCE)
    check_codes(typed, "date_prec", DATE_PRECISION, SOURCE)
    return typed


def _reasons() -> list[pl.Expr]:
    """The row-level rules, each a reason text where the row breaks it."""
    reasons = [pl.when(pl.col(c).is_null()).then(pl.lit(f"missing {c}")) for c in _REQUIRED_VALUES]
    for column in ("date_start", "date_end"):
        text, day = pl.col(f"_{column}_text"), pl.col(f"_{column}")
        reasons.append(
            pl.when(text.is_not_null() & day.is_null()).then(pl.format(f"unparseable {column} '{{}}'", text))
        )
    reasons.append(
        pl.when(pl.col("_date_end") < pl.col("_date_start"))
        .then(pl.format("date_end {} is before date_start {}", "_date_end", "_date_start"))
    )
    reasons += [pl.when(pl.col(c) < 0).then(pl.format(f"negative {c} ({{}})", c)) for c in _DEATHS]
    # low <= best <= high broken is flagged (deaths_ordered), not a reason: see the module docstring.
    reasons += [
        pl.when(pl.col(c).abs() > limit).then(pl.format(f"{c} {{}} out of range", c))
        for c, limit in (("latitude", 90), ("longitude", 180))
    ]
    reasons.append(
        pl.when(pl.col("country_id").is_not_null() & pl.col("iso3").is_null())
        .then(pl.format("country_id {} (Gleditsch-Ward) does not resolve to a country in {}",
                        "country_id", "_gw_year"))
    )
    reasons.append(
        pl.when(pl.col("id").is_not_null() & ~pl.col("id").is_first_distinct())
        .then(pl.format("duplicate id {} (first occurrence kept)", "id"))
    )
    return reasons


def _deaths_ordered() -> pl.Expr:
    """True where the publisher's low <= best <= high holds, False where it is broken, null where best is null."""
    best = pl.col("best")
    return pl.when(best.is_not_null()).then((pl.col("low") <= best) & (best <= pl.col("high")))


def _extra(column: str) -> pl.Expr:
    """An extra column as staged: number_of_sources -1 (UCDP's "unknown") becomes null; deaths_ordered derived."""
    if column == "number_of_sources":
        return pl.when(pl.col(column) >= 0).then(pl.col(column))
    if column == "deaths_ordered":
        return _deaths_ordered()
    return pl.col(column)


def stage_ged_text(raw: pl.DataFrame, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text GED records (GED_COLUMNS + _source_file, _record_number, _release) -> (events, rejected)."""
    raw = raw.select(*GED_COLUMNS, *_META).with_row_index("_i")
    typed = _typed(raw).with_columns(
        pl.coalesce(pl.col("year"), pl.col("_date_start").dt.year().cast(pl.Int32)).alias("_gw_year")
    )
    typed = resolve_country_codes(typed, "country_id", crosswalk, "gw_code", year_col="_gw_year")
    typed = typed.with_columns(reason_column(_reasons()))
    events = conform_columns(
        typed.filter(pl.col("reason").is_null()).select(
            pl.format("{}:{}", pl.lit(SOURCE), pl.col("id")).alias("event_id"),
            pl.lit(SOURCE).alias("source"),
            pl.col("id").cast(pl.Utf8).alias("source_event_id"),
            pl.lit(SOURCE_KIND).alias("source_kind"),
            pl.col("_date_start").alias("event_date"),
            pl.coalesce("_date_end", "_date_start").alias("event_date_end"),
            pl.col("date_prec").replace_strict(DATE_PRECISION, default=None, return_dtype=pl.Utf8)
            .alias("date_precision"),
            pl.col("country_id").cast(pl.Utf8).alias("country_code_published"),
            pl.col("country").alias("country_name"),
            "iso3",
            pl.col("adm_1").alias("admin1"),
            pl.col("where_coordinates").alias("location"),
            "latitude",
            "longitude",
            pl.col("type_of_violence").cast(pl.Utf8).alias("source_event_type"),
            pl.lit(None, pl.Utf8).alias("source_sub_event_type"),
            pl.col("side_a").alias("actor1"),
            pl.col("side_b").alias("actor2"),
            pl.col("best").alias("fatalities_best"),
            pl.col("low").alias("fatalities_low"),
            pl.col("high").alias("fatalities_high"),
            pl.col("_release").alias("release"),
            pl.col("_source_file").alias("source_file"),
            *(_extra(c).cast(t).alias(c) for c, t in EXTRA_COLUMNS.items()),
        )
    )
    refused = typed.filter(pl.col("reason").is_not_null()).select("_i", "reason")
    rejected = raw.join(refused, on="_i", maintain_order="left").select(
        pl.col("_source_file").alias("source_file"),
        pl.col("_record_number").alias("record_number"),
        pl.col("id").alias("record_key"),
        "reason",
        pl.struct(GED_COLUMNS).struct.json_encode().alias("record"),
    )
    return events, rejected.cast(dict(REJECTED_SCHEMA))


def with_record_meta(raw: pl.DataFrame, file_name: str, release: str | None, first_record: int = 1) -> pl.DataFrame:
    """Add the file name, each record's 1-based position (from `first_record`) and the release."""
    return raw.with_columns(
        pl.lit(file_name, pl.Utf8).alias("_source_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_record).alias("_record_number"),
        pl.lit(release, pl.Utf8).alias("_release"),
    )


def _is_hxl_row(row: dict[str, str | None]) -> bool:
    """True for a row of HXL hashtags (#date+year, #geo+lat, ...): every non-empty cell a tag, at least one."""
    values = [v.strip() for v in row.values() if v is not None]
    return bool(values) and all(re.match(_HXL_TAG, v) for v in values)


def read_ucdp_ged_csv(path: Path | str, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stage a GED CSV (release, candidate or HDX country copy): (events in file order, rejected rows with reason)."""
    path = Path(path)
    raw = read_csv_as_text(path, SOURCE)
    require_columns(raw.columns, GED_COLUMNS, SOURCE, path.name)
    hxl = not raw.is_empty() and _is_hxl_row(raw.row(0, named=True))
    raw = with_record_meta(raw.slice(1) if hxl else raw, path.name, release_from_file_name(path.name), 2 if hxl else 1)
    return stage_ged_text(raw, crosswalk)
