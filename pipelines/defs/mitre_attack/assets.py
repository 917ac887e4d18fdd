"""MITRE ATT&CK groups: snapshot of STIX bundles → staged threat actors with stated attributions → GX."""

from pathlib import Path

import polars as pl

from pipelines.lib.source_assets import build_source_assets
from pipelines.lib.source_spec import SourceSpec, StagedOutput, sample_dir_files
from pipelines.lib.reference import load_attack_attribution_rules, load_country_aliases, load_country_crosswalk
from pipelines.defs.mitre_attack.fetch import fetch_mitre_attack_snapshot
from pipelines.lib.staged_tables import STG_MITRE_ATTACK_GROUP
from pipelines.defs.mitre_attack.checks import attack_group_suite
from transforms.cyber_incidents.mitre_attack import attribute_attack_groups, read_attack_bundles

SOURCE = "mitre_attack"


def stage_attack_files(files: list[Path], snapshot_id: str) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Intrusion sets of every bundle, deduplicated by STIX id, with countries only where descriptions state them."""
    bundles = [(f.name, f.read_bytes()) for f in files if f.suffix.lower() == ".json"]
    groups = attribute_attack_groups(read_attack_bundles(bundles), load_attack_attribution_rules(),
                                     load_country_aliases(), load_country_crosswalk())
    no_rejects = pl.DataFrame(schema={"reason": pl.Utf8, "snapshot_id": pl.Utf8})
    return {STG_MITRE_ATTACK_GROUP.name: (groups.with_columns(snapshot_id=pl.lit(snapshot_id, pl.Utf8)), no_rejects)}


MITRE_ATTACK = SourceSpec(
    source=SOURCE,
    group="cyber_incidents",
    description="Immutable raw snapshot of MITRE ATT&CK's STIX bundles (enterprise, mobile, ICS).",
    fetch=lambda r: fetch_mitre_attack_snapshot(r.client, r.draft, r.base_url),
    # One bundle per domain, as the live fetch stores them (generated from the per-group sample files).
    samples=lambda config: [sample_dir_files(SOURCE, "bundles")],
    stage=stage_attack_files,
    outputs=(StagedOutput(STG_MITRE_ATTACK_GROUP, "ATT&CK intrusion sets, one per STIX id, with stated attributions.",
                          lambda frame, previous: (attack_group_suite(load_country_crosswalk()["iso3"].to_list(),
                                                                      previous), frame, "")),),
    fresh_days=8,
)

ASSETS, CHECKS = build_source_assets(MITRE_ATTACK)
