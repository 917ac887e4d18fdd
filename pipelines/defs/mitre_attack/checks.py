"""Great Expectations suite for MITRE ATT&CK's staged groups."""

from __future__ import annotations

from pipelines.lib.suites.cyber import bounded_by_previous
from pipelines.lib.validation import Expect


def attack_group_suite(known_iso3: list[str], previous_rows: int | None) -> list[Expect]:
    """ATT&CK groups: STIX ids unique, ATT&CK ids well formed, attributed countries in the crosswalk."""
    return bounded_by_previous([
        *(Expect("expect_column_values_to_not_be_null", {"column": c}) for c in ("stix_id", "name", "snapshot_id")),
        Expect("expect_column_values_to_be_unique", {"column": "stix_id"}),
        Expect("expect_column_values_to_match_regex", {"column": "attack_id", "regex": r"^G\d{4}$"}),
        Expect("expect_column_values_to_be_in_set", {"column": "attributed_iso3", "value_set": sorted(known_iso3)}),
    ], previous_rows)
