"""Great Expectations suites for the World Bank staged tables (GX-free descriptions, run by pipelines.lib.validation)."""

from __future__ import annotations

from datetime import date

from pipelines.lib.validation import Expect, row_count_bounds
from transforms.defense_spending.worldbank import WORLDBANK_MEASURES

FIRST_YEAR = 1960  # WDI series start in 1960


def stg_worldbank_suite(known_iso3: list[str], previous_rows: int | None) -> list[Expect]:
    """Country rows: keys present and unique, codes in the crosswalk, years in coverage, shares 0–100."""
    suite = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("iso3", "country_code", "indicator_code", "year", "value", "snapshot_id")),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["country_code", "indicator_code", "year"]}),
        Expect("expect_column_values_to_be_in_set", {"column": "country_code", "value_set": sorted(known_iso3)}),
        Expect("expect_column_values_to_be_in_set", {"column": "indicator_code", "value_set": sorted(WORLDBANK_MEASURES)}),
        Expect("expect_column_values_to_be_between", {"column": "year", "min_value": FIRST_YEAR, "max_value": date.today().year}),
        Expect("expect_column_values_to_be_between", {"column": "value", "min_value": 0}),
        Expect("expect_column_values_to_be_between", {"column": "share_value", "min_value": 0, "max_value": 100}),
    ]
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])


def stg_worldbank_aggregate_suite(previous_rows: int | None) -> list[Expect]:
    """Aggregate rows: keys present and unique, years in coverage."""
    suite = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("aggregate_code", "indicator_code", "year", "value", "snapshot_id")),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["aggregate_code", "indicator_code", "year"]}),
        Expect("expect_column_values_to_be_between", {"column": "year", "min_value": FIRST_YEAR, "max_value": date.today().year}),
    ]
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])
