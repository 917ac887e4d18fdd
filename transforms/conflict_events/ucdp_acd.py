"""UCDP/PRIO Armed Conflict (conflict-years) and its locations bridge.

Decisions (../shared/data/conflict_events/SOURCES.md §1):
- Codes stay as published text where UCDP writes several in one field (`gwno_a` "651,  645", `side_a_id`);
  the location field is exploded into a bridge instead: ACD `gwno_loc` -> locations, one row per
  (conflict-year, Gleditsch-Ward code), iso3 resolved in that year.
- `region` is a list column on the record. It is NOT zipped with `gwno_loc` (UCDP lists distinct regions, not one
  per location: "651, 666" has region "2"). A bridge row's region comes from its GW code instead: the ACD
  codebook defines the regions by GW ranges (Europe 200-399, Middle East 630-699, Asia 700-999, Africa 400-626,
  Americas 2-199); all 2,626 conflict-years of ACD v23.1 agree with it.
- A GW code the crosswalk cannot resolve that year sends the bridge row (not the conflict-year) to rejected.
- Battle-Related Deaths and Organized Violence country-years are not loaded: no warehouse table uses them.
- Values of the wrong type and codes outside the codebook fail the file (SourceFormatError); row-level problems
  (missing key, unparseable date, repeated key) go to rejected with the reason.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms.conflict_events.ucdp_ged import REJECTED_SCHEMA
from transforms.conflict_events.ucdp_text import (
    check_codes,
    check_parsed,
    date_text,
    integer_text,
    read_csv_as_text,
    reason_column,
    require_columns,
)
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_codes

SOURCE = "ucdp_acd"

ACD_COLUMNS: tuple[str, ...] = (
    "conflict_id", "location", "side_a", "side_a_id", "side_a_2nd", "side_b", "side_b_id", "side_b_2nd",
    "incompatibility", "territory_name", "year", "intensity_level", "cumulative_intensity", "type_of_conflict",
    "start_date", "start_prec", "start_date2", "start_prec2", "ep_end", "ep_end_date", "ep_end_prec", "gwno_a",
    "gwno_a_2nd", "gwno_b", "gwno_b_2nd", "gwno_loc", "region", "version",
)

UCDP_REGIONS: dict[int, str] = {1: "Europe", 2: "Middle East", 3: "Asia", 4: "Africa", 5: "Americas"}
INCOMPATIBILITY: dict[int, str] = {1: "territory", 2: "government", 3: "territory and government"}
INTENSITY_LEVEL: dict[int, str] = {1: "minor (25-999 battle-related deaths)", 2: "war (1,000 or more)"}
TYPE_OF_CONFLICT: dict[int, str] = {
    1: "extrasystemic", 2: "interstate", 3: "intrastate", 4: "internationalized intrastate"
}

ACD_SCHEMA = pl.Schema(
    {
        "conflict_id": pl.Int64, "year": pl.Int32, "location": pl.Utf8, "side_a": pl.Utf8, "side_a_id": pl.Utf8,
        "side_a_2nd": pl.Utf8, "side_b": pl.Utf8, "side_b_id": pl.Utf8, "side_b_2nd": pl.Utf8,
        "incompatibility": pl.Int8, "territory_name": pl.Utf8, "intensity_level": pl.Int8,
        "cumulative_intensity": pl.Int8, "type_of_conflict": pl.Int8, "start_date": pl.Date, "start_prec": pl.Int8,
        "start_date2": pl.Date, "start_prec2": pl.Int8, "ep_end": pl.Boolean, "ep_end_date": pl.Date,
        "ep_end_prec": pl.Int8, "gwno_a": pl.Utf8, "gwno_a_2nd": pl.Utf8, "gwno_b": pl.Utf8, "gwno_b_2nd": pl.Utf8,
        "gwno_loc": pl.Utf8, "region": pl.List(pl.Int8), "version": pl.Utf8, "source_file": pl.Utf8,
    }
)
LOCATION_SCHEMA = pl.Schema(
    {"conflict_id": pl.Int64, "year": pl.Int32, "gw_code": pl.Int32, "iso3": pl.Utf8, "region": pl.Int8}
)
_GW_REGIONS = ((200, 399, 1), (630, 699, 2), (700, 999, 3), (400, 626, 4), (2, 199, 5))


def gw_region(column: str) -> pl.Expr:
    """The UCDP region code of a Gleditsch-Ward code (ACD codebook ranges), null outside them."""
    expr = pl.lit(None, pl.Int8)
    for low, high, region in reversed(_GW_REGIONS):
        expr = pl.when(pl.col(column).is_between(low, high)).then(pl.lit(region, pl.Int8)).otherwise(expr)
    return expr


def _code_list(column: str, dtype: pl.DataType, separator: str = ",") -> pl.Expr:
    """A multi-valued code field ("651, 666") as a list; an unreadable piece becomes null; empty field -> null."""
    pieces = pl.col(column).str.split(separator).list.eval(pl.element().str.strip_chars())
    return pieces.list.eval(pl.element().filter(pl.element() != "").cast(dtype, strict=False))


def _check_lists(raw: pl.DataFrame, lists: dict[str, pl.Expr], source: str) -> None:
    """SourceFormatError naming the first multi-valued field with a piece that is not a code."""
    if raw.is_empty():
        return
    for column, expr in lists.items():
        bad = raw.filter(expr.list.eval(pl.element().is_null()).list.any().fill_null(False))
        if not bad.is_empty():
            raise SourceFormatError(source, bad["_source_file"][0], f"column {column!r} holds {bad[column][0]!r}, "
                                    "not a list of integer codes")


def _read(path: Path, columns: tuple[str, ...], source: str) -> pl.DataFrame:
    """The file's required columns as text, with _source_file, _record_number and the raw record as JSON."""
    raw = read_csv_as_text(path, source)
    require_columns(raw.columns, columns, source, path.name)
    return raw.select(columns).with_columns(
        pl.lit(path.name, pl.Utf8).alias("_source_file"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_record_number"),
        pl.struct(columns).struct.json_encode().alias("_record"),
    )


def _typed(raw: pl.DataFrame, integers: dict[str, pl.DataType], source: str) -> pl.DataFrame:
    """The integer columns cast; a non-integer value fails the file."""
    exprs = {c: integer_text(c, t) for c, t in integers.items()}
    check_parsed(raw, exprs, "an integer", source)
    return raw.with_columns(e.alias(c) for c, e in exprs.items())


def _flag(raw: pl.DataFrame, column: str, source: str) -> pl.Expr:
    """A 0/1 column as Boolean; any other value fails the file."""
    text = pl.col(column).str.strip_chars()
    expr = text.replace_strict({"1": True, "0": False}, default=None, return_dtype=pl.Boolean)
    check_parsed(raw, {column: expr}, "0 or 1", source)
    return expr.alias(column)


def _rejected(frame: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
    """Rows with a reason in the shared REJECTED_SCHEMA shape, keyed by `key`."""
    return frame.select(
        pl.col("_source_file").alias("source_file"), pl.col("_record_number").alias("record_number"),
        key.alias("record_key"), "reason", pl.col("_record").alias("record"),
    ).cast(dict(REJECTED_SCHEMA))


def _missing(columns: tuple[str, ...]) -> list[pl.Expr]:
    """A 'missing <column>' reason for each empty required column."""
    return [pl.when(pl.col(c).is_null()).then(pl.lit(f"missing {c}")) for c in columns]


def _duplicate(keys: tuple[str, ...]) -> pl.Expr:
    """A reason on every repeat of a key after its first occurrence."""
    label = ", ".join(f"{k} {{}}" for k in keys)
    repeated = pl.all_horizontal(pl.col(k).is_not_null() for k in keys) & ~pl.struct(keys).is_first_distinct()
    return pl.when(repeated).then(pl.format(f"duplicate {label} (first occurrence kept)", *keys))


def _bridge(
    frame: pl.DataFrame, keys: tuple[str, ...], codes: str, field: str, crosswalk: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per (keys, GW code in the `codes` list column), iso3 resolved in `year`; unresolvable ones rejected."""
    exploded = (
        frame.select(*keys, "_source_file", "_record_number", "_record", pl.col(codes).alias("gw_code"))
        .explode("gw_code")
        .filter(pl.col("gw_code").is_not_null())
        .unique(subset=[*keys, "gw_code"], keep="first", maintain_order=True)
    )
    resolved = resolve_country_codes(exploded, "gw_code", crosswalk, "gw_code", year_col="year").with_columns(
        gw_region("gw_code").alias("region"),
        pl.when(pl.col("iso3").is_null())
        .then(pl.format(f"{field} {{}} (Gleditsch-Ward) does not resolve to a country in {{}}; "
                        "this location row is left out, the record is kept", "gw_code", "year"))
        .alias("reason"),
    )
    bridge = resolved.filter(pl.col("reason").is_null()).select(*keys, "gw_code", "iso3", "region")
    key_text = pl.concat_str([pl.col(k).cast(pl.Utf8) for k in (*keys, "gw_code")], separator=":")
    return bridge, _rejected(resolved.filter(pl.col("reason").is_not_null()), key_text)


def read_ucdp_acd_csv(path: Path | str, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Stage UcdpPrioConflict_vXX_Y.csv: (conflict_years, locations bridge, rejected rows with reason)."""
    path = Path(path)
    raw = _read(path, ACD_COLUMNS, SOURCE)
    integers = {"conflict_id": pl.Int64, "year": pl.Int32, "incompatibility": pl.Int8, "intensity_level": pl.Int8,
                "cumulative_intensity": pl.Int8, "type_of_conflict": pl.Int8, "start_prec": pl.Int8,
                "start_prec2": pl.Int8, "ep_end_prec": pl.Int8}
    lists = {"gwno_loc": _code_list("gwno_loc", pl.Int32), "region": _code_list("region", pl.Int8)}
    _check_lists(raw, lists, SOURCE)
    dates = ("start_date", "start_date2", "ep_end_date")
    typed = _typed(raw, integers, SOURCE).with_columns(
        _flag(raw, "ep_end", SOURCE),
        lists["gwno_loc"].alias("_gwno_loc"),
        lists["region"].alias("region"),
        *(date_text(c).alias(f"_{c}") for c in dates),
    )
    for column, codes in (("incompatibility", INCOMPATIBILITY), ("intensity_level", INTENSITY_LEVEL),
                          ("cumulative_intensity", (0, 1)), ("type_of_conflict", TYPE_OF_CONFLICT)):
        check_codes(typed, column, codes, SOURCE)
    check_codes(typed.explode("region"), "region", UCDP_REGIONS, SOURCE)
    reasons = [
        *_missing(("conflict_id", "year")),
        *(pl.when(pl.col(c).is_not_null() & pl.col(f"_{c}").is_null()).then(pl.format(f"unparseable {c} '{{}}'", c))
          for c in dates),
        _duplicate(("conflict_id", "year")),
    ]
    typed = typed.with_columns(reason_column(reasons))
    accepted = typed.filter(pl.col("reason").is_null())
    conflict_years = accepted.with_columns(
        *(pl.col(f"_{c}").alias(c) for c in dates), pl.col("_source_file").alias("source_file")
    ).select(ACD_SCHEMA.names()).cast(dict(ACD_SCHEMA))
    locations, refused = _bridge(accepted, ("conflict_id", "year"), "_gwno_loc", "gwno_loc", crosswalk)
    key = pl.concat_str([pl.col("conflict_id").cast(pl.Utf8), pl.col("year").cast(pl.Utf8)], separator=":")
    rejected = pl.concat([_rejected(typed.filter(pl.col("reason").is_not_null()), key), refused])
    return conflict_years, locations.cast(dict(LOCATION_SCHEMA)), rejected

