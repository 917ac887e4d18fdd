"""Conflict-event sources (UCDP GED/ACD, ACLED, GDELT 2.0): pure Polars parsers into one conformed shape."""
