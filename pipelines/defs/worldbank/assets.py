"""World Bank military indicators: snapshot → staged Parquet → blocking GX checks."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SnapshotConfig, SourceSpec, StagedOutput, sample_dir_files
from pipelines.lib.reference import load_country_crosswalk
from pipelines.defs.worldbank.fetch import fetch_worldbank_snapshot
from pipelines.lib.staged_tables import STG_WORLDBANK, STG_WORLDBANK_AGGREGATE
from pipelines.lib.suites.military_expenditure import unmapped_countries_note, with_share_value
from pipelines.defs.worldbank.checks import stg_worldbank_aggregate_suite, stg_worldbank_suite
from transforms.defense_spending.worldbank import read_worldbank_snapshot, stage_worldbank

SOURCE = "worldbank"


def _format(config: SnapshotConfig) -> str:
    return "api" if config.format == "default" else config.format


def stage_worldbank_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Read a snapshot's files and split them into the country and aggregate staged tables."""
    observations, country_meta = read_worldbank_snapshot(files)
    known = load_country_crosswalk().select("iso3")
    countries, aggregates, rejected = stage_worldbank(observations, country_meta, known, snapshot_id)
    return {STG_WORLDBANK.name: (countries, rejected),
            STG_WORLDBANK_AGGREGATE.name: (aggregates, rejected.clear())}


def _country_suite(frame: pl.DataFrame, previous_rows: int | None):
    known = load_country_crosswalk()["iso3"].to_list()
    note = unmapped_countries_note(frame, pl.format("{} ({})", "country_name", "country_code"))
    return stg_worldbank_suite(known, previous_rows), with_share_value(frame), note


WORLDBANK = SourceSpec(
    source=SOURCE,
    group="defense_spending",
    description="Immutable raw snapshot of the World Bank WDI military indicators (API v2 JSON or bulk CSV).",
    fetch=lambda r: fetch_worldbank_snapshot(
        r.client, r.draft, r.base_url, fmt=_format(r.config), per_page=r.config.per_page),
    samples=lambda config: [sample_dir_files(SOURCE, _format(config))],
    stage=stage_worldbank_files,
    outputs=(
        StagedOutput(STG_WORLDBANK, "World Bank country values, long format, resolved to ISO3; aggregates excluded.",
                     _country_suite),
        StagedOutput(STG_WORLDBANK_AGGREGATE, "World Bank regional and income-group aggregates, kept apart from countries.",
                     lambda frame, previous: (stg_worldbank_aggregate_suite(previous), frame, "")),
    ),
    fresh_days=8,  # the weekly schedule looks every Monday
)

ASSETS, CHECKS = build_source_assets(WORLDBANK)
