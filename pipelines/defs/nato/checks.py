"""Great Expectations suites for NATO's staged tables."""

from __future__ import annotations

from datetime import date

from pipelines.lib.validation import Expect, row_count_bounds

FIRST_YEAR = 1949  # the Alliance's founding; NATO's series start much later


def stg_nato_suite(allies: list[str], previous_rows: int | None) -> list[Expect]:
    """Country rows: keys present and unique, Allies only, years in coverage, shares 0–100, no negative money."""
    suite = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("iso3", "year", "measure", "value", "unit", "snapshot_id", "release")),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["iso3", "measure", "year"]}),
        Expect("expect_column_values_to_be_in_set", {"column": "iso3", "value_set": sorted(allies)}),
        Expect("expect_column_values_to_be_in_set", {"column": "unit", "value_set": ["lcu", "percent", "persons", "usd"]}),
        Expect("expect_column_values_to_be_between", {"column": "year", "min_value": FIRST_YEAR, "max_value": date.today().year + 1}),
        Expect("expect_column_values_to_be_between", {"column": "share_value", "min_value": 0, "max_value": 100}),
    ]
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])


def stg_nato_aggregate_suite(previous_rows: int | None) -> list[Expect]:
    """Aggregate rows (NATO Europe and Canada, NATO Total): keys present and unique."""
    suite = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("aggregate_name", "year", "measure", "value", "snapshot_id")),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["aggregate_name", "measure", "year"]}),
    ]
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])
