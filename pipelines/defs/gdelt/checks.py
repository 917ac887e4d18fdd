"""Great Expectations suite for GDELT's staged events."""

from __future__ import annotations

import polars as pl

from pipelines.lib.suites.conflict import event_suite
from pipelines.lib.validation import Expect


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
