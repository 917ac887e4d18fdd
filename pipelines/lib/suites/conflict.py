"""Great Expectations suites for conflict events (per partition) and UCDP/PRIO conflict-years."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.lib.validation import Expect
from transforms.conflict_events.schema import DATE_PRECISIONS, SOURCE_KINDS


def event_suite(source: str, first_year: int, frame: pl.DataFrame,
                no_country_codes: tuple[str, ...] = ()) -> tuple[list[Expect], pl.DataFrame]:
    """Events: ids unique and prefixed; coordinates on Earth; 0 <= low <= best <= high; dates inside coverage;
    every published country code resolved (except codes that name no country, e.g. GDELT's oceans)."""
    checked = frame.with_columns(
        file_event_id=pl.concat_str("snapshot_id", "source_file", "event_id", separator="|"),
        event_year=pl.col("event_date").dt.year(),
        deaths_ordered=pl.when(pl.col("fatalities_best").is_null()).then(None).otherwise(
            (pl.col("fatalities_low").fill_null(pl.col("fatalities_best")) <= pl.col("fatalities_best"))
            & (pl.col("fatalities_best") <= pl.col("fatalities_high").fill_null(pl.col("fatalities_best")))),
        country_unresolved=pl.col("iso3").is_null() & pl.col("country_code_published").is_not_null()
        & ~pl.col("country_code_published").is_in(list(no_country_codes)),
    )
    expectations = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("event_id", "source", "event_date", "source_kind", "snapshot_id")),
        # Unique within each published file; the same event in several snapshots is resolved in core SQL.
        Expect("expect_column_values_to_be_unique", {"column": "file_event_id"}),
        Expect("expect_column_values_to_match_regex", {"column": "event_id", "regex": f"^{source}:.+"}),
        Expect("expect_column_values_to_be_in_set", {"column": "source_kind", "value_set": list(SOURCE_KINDS)}),
        Expect("expect_column_values_to_be_in_set", {"column": "date_precision", "value_set": list(DATE_PRECISIONS)}),
        Expect("expect_column_values_to_be_between", {"column": "latitude", "min_value": -90, "max_value": 90}),
        Expect("expect_column_values_to_be_between", {"column": "longitude", "min_value": -180, "max_value": 180}),
        *(Expect("expect_column_values_to_be_between", {"column": c, "min_value": 0})
          for c in ("fatalities_best", "fatalities_low", "fatalities_high")),
        Expect("expect_column_values_to_be_in_set", {"column": "deaths_ordered", "value_set": [True]}),
        Expect("expect_column_values_to_be_between",
               {"column": "event_year", "min_value": first_year, "max_value": date.today().year}),
        Expect("expect_column_values_to_be_in_set", {"column": "country_unresolved", "value_set": [False]}),
    ]
    return expectations, checked


def ucdp_ged_suite(frame: pl.DataFrame) -> tuple[list[Expect], pl.DataFrame]:
    """UCDP GED: the event suite, except that low <= best <= high may be broken where UCDP published it so
    (the reader flags those `deaths_ordered` false), in at most 2% of a release (real files: 0.4% and 1.1%);
    best must be the sum of its parts, so a misread or swapped column still fails."""
    published_out_of_order = ~frame["deaths_ordered"].fill_null(True)
    expectations, checked = event_suite("ucdp_ged", 1989, frame)
    checked = checked.with_columns(
        deaths_ordered=pl.col("deaths_ordered") | published_out_of_order,
        best_is_sum_of_parts=pl.col("fatalities_best") == pl.sum_horizontal(
            "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown"),
    )
    return expectations + [
        Expect("expect_column_values_to_be_in_set", {"column": "best_is_sum_of_parts", "value_set": [True]}),
        Expect("expect_column_values_to_be_between",
               {"column": "snapshot_out_of_order_share", "min_value": 0, "max_value": 0.02}),
    ], checked


def gdelt_suite(frame: pl.DataFrame, no_country_codes: tuple[str, ...]) -> tuple[list[Expect], pl.DataFrame]:
    """GDELT: the event suite, plus each file's md5 equal to the master list's and CAMEO codes well formed."""
    expectations, checked = event_suite("gdelt", 1979, frame, no_country_codes)  # SQLDATE can reach far back
    checked = checked.with_columns(md5_matches=pl.col("file_md5") == pl.col("expected_md5"))
    return expectations + [
        Expect("expect_column_values_to_be_in_set", {"column": "md5_matches", "value_set": [True]}),
        Expect("expect_column_values_to_be_in_set", {"column": "quad_class", "value_set": [1, 2, 3, 4]}),
        Expect("expect_column_values_to_match_regex", {"column": "event_root_code", "regex": r"^\d{2}$"}),
        Expect("expect_column_values_to_be_between", {"column": "goldstein_scale", "min_value": -10, "max_value": 10}),
    ], checked


def conflict_year_suite(frame: pl.DataFrame) -> tuple[list[Expect], pl.DataFrame, str]:
    """UCDP/PRIO conflict-years: one row per conflict and year, codes inside the codebook's sets."""
    checked = frame.with_columns(conflict_year=pl.format("{}-{}", "conflict_id", "year"))
    return [
        *(Expect("expect_column_values_to_not_be_null", {"column": c}) for c in ("conflict_id", "year", "snapshot_id")),
        Expect("expect_column_values_to_be_unique", {"column": "conflict_year"}),
        Expect("expect_column_values_to_be_in_set", {"column": "incompatibility", "value_set": [1, 2, 3]}),
        Expect("expect_column_values_to_be_in_set", {"column": "intensity_level", "value_set": [1, 2]}),
        Expect("expect_column_values_to_be_in_set", {"column": "type_of_conflict", "value_set": [1, 2, 3, 4]}),
        Expect("expect_column_values_to_be_between", {"column": "year", "min_value": 1946, "max_value": date.today().year}),
    ], checked, ""


def conflict_location_suite(frame: pl.DataFrame, known_iso3: list[str]) -> tuple[list[Expect], pl.DataFrame, str]:
    """Conflict locations: every GW code resolved to a country of the crosswalk."""
    return [
        Expect("expect_column_values_to_not_be_null", {"column": "iso3"}),
        Expect("expect_column_values_to_be_in_set", {"column": "iso3", "value_set": sorted(known_iso3)}),
    ], frame, ""
