"""Great Expectations suite for UCDP GED's staged events."""

from __future__ import annotations

import polars as pl

from pipelines.lib.suites.conflict import event_suite
from pipelines.lib.validation import Expect


def ucdp_ged_suite(frame: pl.DataFrame) -> tuple[list[Expect], pl.DataFrame]:
    """UCDP GED: the event suite; low <= best <= high may be broken where UCDP published it so (the reader
    flags those `deaths_ordered` false), in at most 2% of a release (real files: 0.4% and 1.1%);
    best must be the sum of its parts, so a misread or swapped column still fails."""
    expectations, checked = event_suite("ucdp_ged", 1989, frame)
    checked = checked.with_columns(
        best_is_sum_of_parts=pl.col("fatalities_best") == pl.sum_horizontal(
            "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown"),
    )
    return expectations + [
        Expect("expect_column_values_to_be_in_set", {"column": "best_is_sum_of_parts", "value_set": [True]}),
        Expect("expect_column_values_to_be_between",
               {"column": "snapshot_out_of_order_share", "min_value": 0, "max_value": 0.02}),
    ], checked
