"""The conformed shape every cyber-incident source stages into (fct_cyber_incident and bridges)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# One row per incident. incident_id is source-prefixed ("eurepoc:1234", "cfr:17", "dcid:101").
INCIDENT_SCHEMA = pl.Schema(
    {
        "incident_id": pl.Utf8,
        "source": pl.Utf8,
        "source_incident_id": pl.Utf8,  # the publisher's own id, as text
        "title": pl.Utf8,
        "description": pl.Utf8,
        "start_date": pl.Date,  # the first day of the period when precision is month or year
        "date_precision": pl.Utf8,  # day | month | year | NULL (no date at all)
        "end_date": pl.Date,
        "end_date_precision": pl.Utf8,
        "incident_types_raw": pl.List(pl.Utf8),  # the publisher's own type labels, mapped later via reference CSV
        "source_file": pl.Utf8,
    }
)

# One row per (incident, initiator). iso3 null when the initiator is not a state or could not be resolved
# (then `country_raw` keeps what the publisher wrote, so validation can name it).
INITIATOR_SCHEMA = pl.Schema(
    {
        "incident_id": pl.Utf8,
        "country_raw": pl.Utf8,
        "iso3": pl.Utf8,
        "actor": pl.Utf8,  # a named group (APT28, Lazarus Group) where the source gives one
        "actor_type": pl.Utf8,  # e.g. state, state-affiliated, non-state, unknown (as published, lower-cased)
        "attribution_basis": pl.Utf8,  # how the source attributes: e.g. 'political attribution', 'sponsor (CFR)'
    }
)

# One row per (incident, target).
TARGET_SCHEMA = pl.Schema(
    {
        "incident_id": pl.Utf8,
        "country_raw": pl.Utf8,
        "iso3": pl.Utf8,
        "sector": pl.Utf8,  # as published, one sector per row
    }
)

# Cyber-type reference files: data/reference/cyber_types/<source>.csv with columns
# source, raw_type, incident_type — incident_type from INCIDENT_TYPES.
INCIDENT_TYPES = (
    "espionage", "disruption", "destruction", "data_theft", "ransomware", "defacement", "denial_of_service",
    "hijacking", "financial_theft", "influence_operation", "sabotage", "doxing", "other", "unknown",
)


@dataclass(frozen=True)
class IncidentTables:
    """One source's incidents, their initiator and target rows (the shapes above), and the rows set aside."""

    incidents: pl.DataFrame
    initiators: pl.DataFrame
    targets: pl.DataFrame
    quarantine: pl.DataFrame
