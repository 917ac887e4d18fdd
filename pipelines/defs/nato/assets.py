"""NATO Defence Expenditure of NATO Countries: snapshot → staged Parquet → blocking GX checks."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, StagedOutput, sample_dir_files
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.defs.nato.fetch import fetch_nato_snapshot
from pipelines.lib.staged_tables import STG_NATO, STG_NATO_AGGREGATE
from pipelines.lib.suites.military_expenditure import unmapped_countries_note, with_share_value
from pipelines.defs.nato.checks import stg_nato_aggregate_suite, stg_nato_suite
from transforms.defense_spending.nato import read_nato_workbook, stage_nato, with_nato_release
from transforms.errors import SourceFormatError

SOURCE = "nato"


def stage_nato_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Parse each workbook of a snapshot (normally one edition) into country and aggregate staged tables."""
    if not files:
        raise SourceFormatError(SOURCE, "(none)", "snapshot holds no workbook")
    countries, aggregates, rejected = [], [], []
    for path in files:
        workbook = read_nato_workbook(path, path.name)
        c, a, q = stage_nato(workbook, load_country_aliases(), load_country_crosswalk(), snapshot_id)
        countries.append(with_nato_release(c, workbook.edition))
        aggregates.append(with_nato_release(a, workbook.edition))
        rejected.append(with_nato_release(q, workbook.edition))
    return {STG_NATO.name: (pl.concat(countries), pl.concat(rejected)),
            STG_NATO_AGGREGATE.name: (pl.concat(aggregates), pl.concat(rejected).clear())}


def _country_suite(frame: pl.DataFrame, previous_rows: int | None):
    crosswalk = load_country_crosswalk()
    allies = crosswalk.filter(pl.col("nato_member_since").is_not_null())["iso3"].to_list()
    note = unmapped_countries_note(frame, pl.col("country_name"))
    return stg_nato_suite(allies, previous_rows), with_share_value(frame), note


NATO = SourceSpec(
    source=SOURCE,
    group="defense_spending",
    description="Immutable raw snapshot of NATO's Defence Expenditure of NATO Countries workbook.",
    fetch=lambda r: fetch_nato_snapshot(r.client, r.draft, r.base_url),
    samples=lambda config: [sample_dir_files(SOURCE)],
    stage=stage_nato_files,
    outputs=(
        StagedOutput(STG_NATO, "NATO's tables per Ally, year and measure, in US dollars, percent and persons.", _country_suite),
        StagedOutput(STG_NATO_AGGREGATE, "NATO Europe and Canada and NATO Total, kept apart from the Allies.",
                     lambda frame, previous: (stg_nato_aggregate_suite(previous), frame, "")),
    ),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(NATO)
