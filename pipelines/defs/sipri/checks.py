"""Great Expectations suites for SIPRI's staged tables."""

from __future__ import annotations

from datetime import date

from pipelines.lib.validation import Expect, row_count_bounds

FIRST_YEAR = 1948  # the April 2024 release starts in 1948, every other in 1949


def stg_sipri_suite(known_iso3: list[str], previous_rows: int | None) -> list[Expect]:
    """Country cells: keys present and unique per file, codes in the crosswalk, statuses known, shares 0–100."""
    suite = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("iso3", "country_name", "year", "measure", "status", "unit", "release_label", "snapshot_id")),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["source_file", "iso3", "measure", "year"]}),
        Expect("expect_column_values_to_be_in_set", {"column": "iso3", "value_set": sorted(known_iso3)}),
        Expect("expect_column_values_to_be_in_set", {"column": "status", "value_set": ["missing", "not_a_state", "value"]}),
        Expect("expect_column_values_to_be_in_set", {"column": "unit", "value_set": ["lcu", "percent", "usd"]}),
        Expect("expect_column_values_to_be_between", {"column": "year", "min_value": FIRST_YEAR, "max_value": date.today().year}),
        Expect("expect_column_values_to_be_between", {"column": "share_value", "min_value": 0, "max_value": 100}),
        # A number exactly where the status says there is one.
        Expect("expect_column_values_to_be_in_set", {"column": "value_matches_status", "value_set": [True]}),
    ]
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])


def stg_sipri_regional_suite(previous_rows: int | None) -> list[Expect]:
    """Regional totals: keys present and unique per file, money not negative."""
    suite = [
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("region", "year", "measure", "status", "release_label", "snapshot_id")),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["source_file", "region", "measure", "year"]}),
        Expect("expect_column_values_to_be_between", {"column": "value", "min_value": 0}),
    ]
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])


def stg_sipri_footnote_suite() -> list[Expect]:
    """Footnotes: once per file, nearly all with text (a real release has a numbered footnote left empty)."""
    return [
        Expect("expect_column_values_to_not_be_null", {"column": "text", "mostly": 0.95}),
        Expect("expect_column_values_to_not_be_null", {"column": "release"}),
        Expect("expect_compound_columns_to_be_unique",
               {"column_list": ["source_file", "footnote_id", "symbol"], "ignore_row_if": "never"}),
    ]
