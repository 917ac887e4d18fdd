"""EuRepoC (European Repository of Cyber Incidents): snapshot → staged conformed incidents → GX."""

from pathlib import Path

import polars as pl

from pipelines.assets.factory import SourceAssets, build_source_assets, sample_dir_files
from pipelines.assets.incident_source import incident_frames, incident_outputs
from pipelines.reference import load_country_aliases, load_country_crosswalk
from pipelines.sources.eurepoc import fetch_eurepoc_snapshot
from pipelines.staged_tables import STG_EUREPOC
from transforms.cyber_incidents.eurepoc import is_expected_null_country, read_eurepoc_snapshot, stage_eurepoc

SOURCE = "eurepoc"


def stage_eurepoc_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """The release CSVs of a snapshot, initiators and receivers resolved to states where they are states."""
    tables = stage_eurepoc(read_eurepoc_snapshot(files), load_country_aliases(), load_country_crosswalk())
    return incident_frames(tables, snapshot_id, STG_EUREPOC)


EUREPOC = SourceAssets(
    source=SOURCE,
    group="cyber_incidents",
    description="Immutable raw snapshot of the EuRepoC release CSVs (Global Database, Attribution, Receiver).",
    fetch=lambda client, draft, base_url, config: fetch_eurepoc_snapshot(client, draft, base_url),
    sample_files=lambda config: [p for p in sample_dir_files(SOURCE) if p.suffix == ".csv"],
    stage=stage_eurepoc_files,
    outputs=incident_outputs(SOURCE, STG_EUREPOC, first_year=2000, is_expected_null=is_expected_null_country),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(EUREPOC)
