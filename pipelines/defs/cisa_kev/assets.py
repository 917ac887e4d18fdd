"""CISA Known Exploited Vulnerabilities: snapshot → staged catalog → GX."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, StagedOutput, sample_dir_files
from pipelines.defs.cisa_kev.fetch import fetch_cisa_kev_snapshot
from pipelines.lib.staged_tables import STG_CISA_KEV
from pipelines.defs.cisa_kev.checks import kev_suite
from transforms.cyber_incidents.cisa_kev import read_kev_csv, read_kev_json
from transforms.errors import SourceFormatError

SOURCE = "cisa_kev"


def stage_kev_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """The catalog of a snapshot: the JSON feed when present (it carries the version), else the CSV."""
    by_kind = {f.suffix.lower(): f for f in files}
    if ".json" in by_kind:
        catalog = read_kev_json(by_kind[".json"], by_kind[".json"].name)
    elif ".csv" in by_kind:
        catalog = read_kev_csv(by_kind[".csv"], by_kind[".csv"].name)
    else:
        raise SourceFormatError(SOURCE, ", ".join(f.name for f in files) or "(none)", "no KEV .json or .csv file")
    frame = catalog.with_columns(snapshot_id=pl.lit(snapshot_id, pl.Utf8))
    no_rejects = pl.DataFrame(schema={"reason": pl.Utf8, "snapshot_id": pl.Utf8})
    return {STG_CISA_KEV.name: (frame, no_rejects)}


CISA_KEV = SourceSpec(
    source=SOURCE,
    group="cyber_incidents",
    description="Immutable raw snapshot of CISA's Known Exploited Vulnerabilities catalog.",
    fetch=lambda r: fetch_cisa_kev_snapshot(r.client, r.draft, r.base_url),
    samples=lambda config: [[p for p in sample_dir_files(SOURCE) if p.suffix == ".json"]],
    stage=stage_kev_files,
    outputs=(StagedOutput(STG_CISA_KEV, "One row per CVE of the latest KEV catalog, as published.",
                          lambda frame, previous: (kev_suite(previous),
                                                   frame.with_columns(added_year=pl.col("date_added").dt.year()), "")),),
    fresh_days=1,  # CISA updates the catalog on weekdays
)

ASSETS, CHECKS = build_source_assets(CISA_KEV)
