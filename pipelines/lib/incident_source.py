"""What the incident sources (EuRepoC, CFR, DCID) share: three staged tables in one shape, and their suites."""

from typing import Callable

import polars as pl

from pipelines.lib.source_spec import StagedOutput
from pipelines.lib.reference import load_country_crosswalk
from pipelines.lib.staged_tables import StagedTable
from pipelines.lib.suites.cyber import bridge_suite, incident_suite


def incident_frames(tables, snapshot_id: str, incident_names: tuple[StagedTable, StagedTable, StagedTable]
                    ) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """A source's staged (incidents, initiators, targets, quarantine) as the factory's table dict."""
    snapshot = pl.lit(snapshot_id, pl.Utf8).alias("snapshot_id")
    incident, initiator, target = incident_names
    rejected = tables.quarantine.with_columns(snapshot)
    if "reason" not in rejected.columns:
        raise ValueError("quarantine rows need a reason")
    empty = rejected.clear()
    return {
        incident.name: (tables.incidents.with_columns(snapshot), rejected),
        initiator.name: (tables.initiators.with_columns(snapshot), empty),
        target.name: (tables.targets.with_columns(snapshot), empty),
    }


def incident_outputs(source: str, names: tuple[StagedTable, StagedTable, StagedTable], first_year: int,
                     is_expected_null: Callable[[str], bool] = lambda label: False) -> tuple[StagedOutput, ...]:
    """The three staged outputs of an incident source, each with its blocking suite."""
    incident, initiator, target = names

    def incidents(frame: pl.DataFrame, previous: int | None):
        # An end of year or month precision reaches to the end of that period.
        end_upper = (
            pl.when(pl.col("end_date_precision") == "year").then(pl.col("end_date").dt.offset_by("11mo").dt.month_end())
            .when(pl.col("end_date_precision") == "month").then(pl.col("end_date").dt.month_end())
            .otherwise(pl.col("end_date"))
        )
        checked = frame.with_columns(
            start_year=pl.col("start_date").dt.year(),
            end_after_start=pl.when(pl.col("start_date").is_not_null() & pl.col("end_date").is_not_null())
            .then(end_upper >= pl.col("start_date")).otherwise(True),
        )
        return incident_suite(source, first_year, previous), checked, ""

    def bridge(frame: pl.DataFrame, previous: int | None):
        unresolved = pl.col("iso3").is_null() & pl.col("country_raw").is_not_null() & (pl.col("country_raw") != "")
        # The rule is a plain function; ask it once per distinct label rather than once per row.
        labels = [label for label in frame["country_raw"].drop_nulls().unique().to_list() if is_expected_null(label)]
        expected = pl.col("country_raw").is_in(labels)
        checked = frame.with_columns(unmapped_country=pl.when(unresolved & ~expected).then(pl.col("country_raw")))
        unmapped = sorted(set(checked["unmapped_country"].drop_nulls()))
        note = f"unmapped countries, not in the crosswalk: {', '.join(unmapped)}" if unmapped else ""
        return bridge_suite(load_country_crosswalk()["iso3"].to_list()), checked, note

    return (
        StagedOutput(incident, f"{source} incidents in the conformed shape, partial dates kept partial.", incidents),
        StagedOutput(initiator, f"{source} initiators: one row per incident and state or actor.", bridge),
        StagedOutput(target, f"{source} targets: one row per incident and state or sector.", bridge),
    )
