"""UCDP/PRIO Armed Conflict Dataset: conflict-years and their locations, one yearly release at a time."""

import tempfile
from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, StagedOutput, sample_dir_files
from pipelines.defs.ucdp_ged.assets import unzip_release_csv
from pipelines.lib.reference import load_country_crosswalk
from pipelines.defs.ucdp_ged.fetch import fetch_ucdp_bulk
from pipelines.lib.staged_tables import STG_UCDP_ACD_CONFLICT_YEAR, STG_UCDP_ACD_LOCATION
from pipelines.defs.ucdp_acd.checks import conflict_location_suite, conflict_year_suite
from transforms.conflict_events.ucdp_acd import read_ucdp_acd_csv
from transforms.errors import SourceFormatError

SOURCE = "ucdp_acd"
DEFAULT_VERSION = "25.1"


def _acd_csv(files: list[Path], scratch: Path) -> Path:
    csvs = [f for f in files if f.suffix.lower() == ".csv"]
    zips = [f for f in files if f.suffix.lower() == ".zip"]
    if len(csvs) + len(zips) != 1:
        raise SourceFormatError(SOURCE, ", ".join(f.name for f in files) or "(none)", "expected one ACD .csv or .zip")
    return csvs[0] if csvs else unzip_release_csv(zips[0], scratch, SOURCE)


def stage_acd_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Conflict-years and the exploded location bridge of one ACD release."""
    with tempfile.TemporaryDirectory() as scratch:
        years, locations, rejected = read_ucdp_acd_csv(_acd_csv(files, Path(scratch)), load_country_crosswalk())
    stamp = pl.lit(snapshot_id, pl.Utf8).alias("snapshot_id")
    rejected = rejected.with_columns(stamp)
    # A rejected location row ("conflict_id:year:gw_code", a GW code with no state that year) leaves its
    # conflict-year in place; a rejected conflict-year ("conflict_id:year") is left out whole.
    is_location = pl.col("record_key").str.count_matches(":") == 2
    return {STG_UCDP_ACD_CONFLICT_YEAR.name: (years.with_columns(stamp), rejected.filter(~is_location)),
            STG_UCDP_ACD_LOCATION.name: (locations.with_columns(stamp), rejected.filter(is_location))}


UCDP_ACD = SourceSpec(
    source=SOURCE,
    group="conflict_events",
    description="Immutable raw snapshot of the UCDP/PRIO Armed Conflict Dataset release (bulk zip, no token).",
    fetch=lambda r: fetch_ucdp_bulk(
        r.client, r.draft, r.base_url, dataset="acd", version=r.config.version or DEFAULT_VERSION),
    samples=lambda config: [sample_dir_files(SOURCE)],
    stage=stage_acd_files,
    outputs=(
        StagedOutput(STG_UCDP_ACD_CONFLICT_YEAR, "UCDP/PRIO conflict-years: incompatibility, intensity, type, sides.",
                     lambda frame, previous: conflict_year_suite(frame)),
        StagedOutput(STG_UCDP_ACD_LOCATION, "Each conflict-year's location states (gwno_loc exploded), GW resolved.",
                     lambda frame, previous: conflict_location_suite(
                         frame, load_country_crosswalk()["iso3"].to_list())),
    ),
    fresh_days=400,  # one release a year
)

ASSETS, CHECKS = build_source_assets(UCDP_ACD)
