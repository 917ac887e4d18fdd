"""CFR Cyber Operations Tracker: snapshot → staged conformed incidents → GX."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, sample_dir_files
from pipelines.lib.incident_source import incident_frames, incident_outputs
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.defs.cfr.fetch import fetch_cfr_snapshot
from pipelines.lib.staged_tables import STG_CFR
from transforms.cyber_incidents.cfr import EXPECTED_NULL_COUNTRY_LABELS, read_cfr_snapshot, stage_cfr

SOURCE = "cfr"


def stage_cfr_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """The export of a snapshot; garbled or shifted rows go to quarantine with their reason."""
    tables = stage_cfr(read_cfr_snapshot(files), load_country_aliases(), load_country_crosswalk())
    return incident_frames(tables, snapshot_id, STG_CFR)


CFR = SourceSpec(
    source=SOURCE,
    group="cyber_incidents",
    description="Immutable raw snapshot of the CFR Cyber Operations Tracker CSV export.",
    fetch=lambda r: fetch_cfr_snapshot(r.client, r.draft, r.base_url),
    samples=lambda config: [[p for p in sample_dir_files(SOURCE) if p.suffix == ".csv"]],
    stage=stage_cfr_files,
    outputs=incident_outputs(SOURCE, STG_CFR, first_year=2000, is_expected_null=lambda label: label in EXPECTED_NULL_COUNTRY_LABELS),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(CFR)
