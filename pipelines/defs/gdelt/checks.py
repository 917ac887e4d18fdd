"""Great Expectations suite for GDELT's staged events."""

from __future__ import annotations

import polars as pl

from pipelines.lib.suites.conflict import event_suite
from pipelines.lib.validation import Expect


def gdelt_suite(frame: pl.DataFrame) -> tuple[list[Expect], pl.DataFrame]:
    """GDELT: the event suite, plus each file's md5 equal to the master list's and CAMEO codes well formed.

    QuadClass in 1..4 and GoldsteinScale in -10..10 are not tested here: the reader quarantines every row
    that breaks them (transforms/conflict_events/gdelt.py), so such an expectation could not fail."""
    expectations, checked = event_suite("gdelt", 1979, frame)  # SQLDATE can reach far back
    checked = checked.with_columns(md5_matches=pl.col("file_md5") == pl.col("expected_md5"))
    return expectations + [
        Expect("expect_column_values_to_be_in_set", {"column": "md5_matches", "value_set": [True]}),
        Expect("expect_column_values_to_match_regex", {"column": "event_root_code", "regex": r"^\d{2}$"}),
    ], checked
