"""SIPRI Military Expenditure Database: snapshot → staged Parquet → blocking GX checks."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, StagedOutput, sample_dir_files
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.defs.sipri.fetch import fetch_sipri_snapshot
from pipelines.lib.staged_tables import STG_SIPRI, STG_SIPRI_FOOTNOTE, STG_SIPRI_REGIONAL
from pipelines.lib.suites.military_expenditure import unmapped_countries_note, with_share_value
from pipelines.defs.sipri.checks import stg_sipri_footnote_suite, stg_sipri_regional_suite, stg_sipri_suite
from transforms.defense_spending.sipri import (
    read_sipri_snapshot,
    sipri_release_sort,
    stage_sipri,
    stage_sipri_footnotes,
)

SOURCE = "sipri"


def stage_sipri_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Every workbook of a snapshot (one release, or several vintages imported together) into staged tables."""
    countries, regional, footnotes, rejected = [], [], [], []
    for workbook in read_sipri_snapshot(files):
        c, r, q = stage_sipri(workbook, load_country_aliases(), load_country_crosswalk(), snapshot_id)
        sort = pl.lit(sipri_release_sort(workbook.release), pl.Utf8).alias("release_sort")
        countries.append(c.with_columns(sort))
        regional.append(r.with_columns(sort))
        rejected.append(q.with_columns(sort))
        footnotes.append(stage_sipri_footnotes(workbook, snapshot_id))
    no_rejects = pl.concat(rejected).clear()
    return {
        STG_SIPRI.name: (pl.concat(countries), pl.concat(rejected)),
        STG_SIPRI_REGIONAL.name: (pl.concat(regional), no_rejects),
        STG_SIPRI_FOOTNOTE.name: (pl.concat(footnotes), no_rejects),
    }


def _country_suite(frame: pl.DataFrame, previous_rows: int | None):
    known = load_country_crosswalk()["iso3"].to_list()
    note = unmapped_countries_note(frame, pl.col("country_name"))
    checked = with_share_value(frame).with_columns(
        value_matches_status=(pl.col("status") == "value") == pl.col("value").is_not_null()
    )
    return stg_sipri_suite(known, previous_rows), checked, note


SIPRI = SourceSpec(
    source=SOURCE,
    group="defense_spending",
    description="Immutable raw snapshot of SIPRI's Military Expenditure Database workbook(s).",
    fetch=lambda r: fetch_sipri_snapshot(r.client, r.draft, r.base_url),
    # Two sample vintages, so an offline run shows releases and revisions too.
    samples=lambda config: [sample_dir_files(SOURCE, "previous") + sample_dir_files(SOURCE, "current")],
    stage=stage_sipri_files,
    outputs=(
        StagedOutput(STG_SIPRI, "SIPRI country cells of every sheet, in US dollars and percent, with font-colour flags.",
                     _country_suite),
        StagedOutput(STG_SIPRI_REGIONAL, "SIPRI regional totals (and the European Union row), in US dollars.",
                     lambda frame, previous: (stg_sipri_regional_suite(previous), frame, "")),
        StagedOutput(STG_SIPRI_FOOTNOTE, "SIPRI's footnotes and note symbols, per release.",
                     lambda frame, previous: (stg_sipri_footnote_suite(), frame, "")),
    ),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(SIPRI)
