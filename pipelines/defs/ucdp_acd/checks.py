"""Great Expectations suites for UCDP/PRIO conflict-years and their locations."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.lib.validation import Expect


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
