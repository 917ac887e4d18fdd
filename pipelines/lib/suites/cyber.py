"""Great Expectations suites the incident sources share (EuRepoC, CFR, DCID): incidents and their bridges."""

from __future__ import annotations

from datetime import date

from pipelines.lib.validation import Expect, row_count_bounds

PRECISIONS = ["day", "month", "year"]


def bounded_by_previous(suite: list[Expect], previous_rows: int | None) -> list[Expect]:
    """The suite plus the row-count bound against the previous snapshot, when there is one."""
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])


def incident_suite(source: str, first_year: int, previous_rows: int | None) -> list[Expect]:
    """Incidents: ids present, unique and prefixed by the source; dates inside coverage; precisions known."""
    return bounded_by_previous([
        *(Expect("expect_column_values_to_not_be_null", {"column": c}) for c in ("incident_id", "source", "snapshot_id")),
        Expect("expect_column_values_to_be_unique", {"column": "incident_id"}),
        Expect("expect_column_values_to_match_regex", {"column": "incident_id", "regex": f"^{source}:.+"}),
        Expect("expect_column_values_to_be_in_set", {"column": "date_precision", "value_set": PRECISIONS}),
        Expect("expect_column_values_to_be_between", {"column": "start_year", "min_value": first_year,
                                                      "max_value": date.today().year}),
        # Publishers occasionally end an incident before it starts (EuRepoC 1.1: 36 of 1,643, even reading
        # partial ends to the end of their period); kept as published, but never more than a few percent.
        Expect("expect_column_values_to_be_in_set", {"column": "end_after_start", "value_set": [True], "mostly": 0.97}),
    ], previous_rows)


def bridge_suite(known_iso3: list[str]) -> list[Expect]:
    """Initiator/target rows: every country the source named resolves, except labels known not to be states."""
    return [
        Expect("expect_column_values_to_not_be_null", {"column": "incident_id"}),
        Expect("expect_column_values_to_be_in_set", {"column": "iso3", "value_set": sorted(known_iso3)}),
        # `unmapped_country`: a name neither resolved nor a known non-state label ("Unknown", a region…).
        Expect("expect_column_values_to_be_null", {"column": "unmapped_country"}),
    ]
