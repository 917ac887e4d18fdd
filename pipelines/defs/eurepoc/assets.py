"""EuRepoC (European Repository of Cyber Incidents): snapshot → staged conformed incidents → GX.

The snapshot is the bulk release CSVs (config `format: default` or `bulk`) or the REST API's incident pages
(`format: api`); staging tells them apart by the files and gives the same conformed rows either way.
"""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import FetchRequest, SnapshotConfig, SourceSpec, sample_dir_files
from pipelines.lib.incident_source import incident_frames, incident_outputs
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from pipelines.defs.eurepoc.fetch import eurepoc_api_url, fetch_eurepoc_api, fetch_eurepoc_snapshot
from pipelines.lib.staged_tables import STG_EUREPOC
from transforms.cyber_incidents.eurepoc import is_expected_null_country, read_eurepoc_snapshot, stage_eurepoc
from transforms.cyber_incidents.eurepoc_api import is_api_page, read_eurepoc_api_pages

SOURCE = "eurepoc"
FORMATS = {"default": "bulk", "bulk": "bulk", "api": "api"}


def _format(config: SnapshotConfig) -> str:
    """bulk | api; any other `format` is an error naming the choices."""
    try:
        return FORMATS[config.format]
    except KeyError:
        raise ValueError(f"[{SOURCE}] unknown format {config.format!r}; choose one of {', '.join(FORMATS)}") from None


def fetch_eurepoc(request: FetchRequest) -> list[str]:
    """The release CSVs from base_url, or with `format: api` every API page from THREATWATCH_EUREPOC_API_URL."""
    if _format(request.config) == "api":
        return fetch_eurepoc_api(request.client, request.draft, eurepoc_api_url())
    return fetch_eurepoc_snapshot(request.client, request.draft, request.base_url)


def eurepoc_sample_files(config: SnapshotConfig) -> list[Path]:
    """The bundled CSVs, or with `format: api` the bundled API pages (data/samples/eurepoc/api)."""
    if _format(config) == "api":
        return sample_dir_files(SOURCE, "api")
    return [p for p in sample_dir_files(SOURCE) if p.suffix == ".csv"]


def stage_eurepoc_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """A snapshot's release CSVs or API pages, initiators and receivers resolved to states where they are states."""
    aliases, crosswalk = load_country_aliases(), load_country_crosswalk()
    if any(is_api_page(f) for f in files):  # any other file in an API snapshot is a format error of the reader
        tables = read_eurepoc_api_pages(files, crosswalk=crosswalk, aliases=aliases)
    else:
        tables = stage_eurepoc(read_eurepoc_snapshot(files), aliases, crosswalk)
    return incident_frames(tables, snapshot_id, STG_EUREPOC)


EUREPOC = SourceSpec(
    source=SOURCE,
    group="cyber_incidents",
    description="Immutable raw snapshot of the EuRepoC release CSVs (Global Database, Attribution, Receiver), "
                "or with config format 'api' of its REST API incident pages.",
    fetch=fetch_eurepoc,
    samples=lambda config: [eurepoc_sample_files(config)],
    stage=stage_eurepoc_files,
    outputs=incident_outputs(SOURCE, STG_EUREPOC, first_year=2000, is_expected_null=is_expected_null_country),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(EUREPOC)
