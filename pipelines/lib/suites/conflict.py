"""The Great Expectations suite every conflict-event source shares (UCDP GED, ACLED, GDELT extend it)."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.lib.validation import Expect
from transforms.conflict_events.schema import DATE_PRECISIONS, SOURCE_KINDS


def event_suite(source: str, first_year: int, frame: pl.DataFrame) -> tuple[list[Expect], pl.DataFrame]:
    """Events: ids unique and prefixed; coordinates on Earth; deaths not negative; dates inside coverage.

    Row rules each reader already enforces are not tested again here (where a check belongs: a row rule is
    a quarantine rule in the transform): a published country code that does not resolve is quarantined by
    every reader (GDELT: an unknown FIPS code; ACLED: no iso3; UCDP GED: a country_id without iso3), and
    low <= best <= high could not fail: ACLED and GDELT publish one figure or none, and UCDP GED's reader
    flags the rows UCDP published out of order, which its suite bounds (ucdp_ged/checks.py)."""
    checked = frame.with_columns(
        file_event_id=pl.concat_str("snapshot_id", "source_file", "event_id", separator="|"),
        event_year=pl.col("event_date").dt.year(),
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
        Expect("expect_column_values_to_be_between",
               {"column": "event_year", "min_value": first_year, "max_value": date.today().year}),
    ]
    return expectations, checked
