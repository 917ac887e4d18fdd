"""Great Expectations suites for the cyber staged tables (incidents, their bridges, KEV, ATT&CK groups)."""

from __future__ import annotations

from datetime import date

from pipelines.lib.validation import Expect, row_count_bounds

PRECISIONS = ["day", "month", "year"]


def _bounded(suite: list[Expect], previous_rows: int | None) -> list[Expect]:
    bounds = row_count_bounds(previous_rows)
    return suite + ([bounds] if bounds else [])


def incident_suite(source: str, first_year: int, previous_rows: int | None) -> list[Expect]:
    """Incidents: ids present, unique and prefixed by the source; dates inside coverage; precisions known."""
    return _bounded([
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


def kev_suite(previous_rows: int | None) -> list[Expect]:
    """KEV: CVE ids well formed and unique, dates present, ransomware use as published."""
    return _bounded([
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("cve_id", "vendor_project", "product", "date_added", "catalog_version")),
        Expect("expect_column_values_to_be_unique", {"column": "cve_id"}),
        Expect("expect_column_values_to_match_regex", {"column": "cve_id", "regex": r"^CVE-\d{4}-\d{4,}$"}),
        Expect("expect_column_values_to_be_in_set", {"column": "known_ransomware_campaign_use", "value_set": ["Known", "Unknown"]}),
        Expect("expect_column_values_to_be_between", {"column": "added_year", "min_value": 2021, "max_value": date.today().year}),
    ], previous_rows)


def attack_group_suite(known_iso3: list[str], previous_rows: int | None) -> list[Expect]:
    """ATT&CK groups: STIX ids unique, ATT&CK ids well formed, attributed countries in the crosswalk."""
    return _bounded([
        *(Expect("expect_column_values_to_not_be_null", {"column": c}) for c in ("stix_id", "name", "snapshot_id")),
        Expect("expect_column_values_to_be_unique", {"column": "stix_id"}),
        Expect("expect_column_values_to_match_regex", {"column": "attack_id", "regex": r"^G\d{4}$"}),
        Expect("expect_column_values_to_be_in_set", {"column": "attributed_iso3", "value_set": sorted(known_iso3)}),
    ], previous_rows)
