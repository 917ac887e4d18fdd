"""DCID 2.0 (dyadic state-on-state cyber incidents): snapshot → staged conformed incidents → GX."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, sample_dir_files
from pipelines.lib.incident_source import incident_frames, incident_outputs
from pipelines.lib.reference import load_country_crosswalk
from pipelines.defs.dcid.fetch import fetch_dcid_snapshot
from pipelines.lib.staged_tables import STG_DCID
from transforms.cyber_incidents.dcid import read_dcid_xlsx
from transforms.errors import SourceFormatError

SOURCE = "dcid"


def stage_dcid_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """The one DCID workbook of a snapshot, states resolved from Correlates of War codes."""
    books = [f for f in files if f.suffix.lower() == ".xlsx"]
    if len(books) != 1:
        raise SourceFormatError(SOURCE, ", ".join(f.name for f in files) or "(none)", "expected exactly one .xlsx")
    return incident_frames(read_dcid_xlsx(books[0], books[0].name, load_country_crosswalk()), snapshot_id, STG_DCID)


DCID = SourceSpec(
    source=SOURCE,
    group="cyber_incidents",
    description="Immutable raw snapshot of the DCID 2.0 workbook (Maness, Valeriano et al.).",
    fetch=lambda r: fetch_dcid_snapshot(r.client, r.draft, r.base_url),
    samples=lambda config: [sample_dir_files(SOURCE)],
    stage=stage_dcid_files,
    outputs=incident_outputs(SOURCE, STG_DCID, first_year=2000),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(DCID)
