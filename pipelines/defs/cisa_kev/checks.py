"""Great Expectations suite for CISA KEV's staged catalog."""

from __future__ import annotations

from datetime import date

from pipelines.lib.suites.cyber import bounded_by_previous
from pipelines.lib.validation import Expect


def kev_suite(previous_rows: int | None) -> list[Expect]:
    """KEV: CVE ids well formed and unique, dates present, ransomware use as published."""
    return bounded_by_previous([
        *(Expect("expect_column_values_to_not_be_null", {"column": c})
          for c in ("cve_id", "vendor_project", "product", "date_added", "catalog_version")),
        Expect("expect_column_values_to_be_unique", {"column": "cve_id"}),
        Expect("expect_column_values_to_match_regex", {"column": "cve_id", "regex": r"^CVE-\d{4}-\d{4,}$"}),
        Expect("expect_column_values_to_be_in_set", {"column": "known_ransomware_campaign_use", "value_set": ["Known", "Unknown"]}),
        Expect("expect_column_values_to_be_between", {"column": "added_year", "min_value": 2021, "max_value": date.today().year}),
    ], previous_rows)
