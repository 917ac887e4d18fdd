"""The ThreatWatch code location: every source's assets, checks, jobs, schedules and sensors, and the resources."""

from __future__ import annotations

import importlib

from dagster import Definitions, in_process_executor

from pipelines.defs import alerts, domains
from pipelines.lib.alerts import alert_webhook_from_env
from pipelines.lib.config import offline_from_env
from pipelines.lib.resources import HttpClientResource, LakeResource, SnapshotStoreResource, WarehouseResource

# One folder per source id under pipelines/defs/; `warehouse` publishes what they stage.
SOURCE_IDS = ["worldbank", "sipri", "nato", "eurepoc", "cfr", "dcid", "cisa_kev", "mitre_attack",
              "ucdp_acd", "ucdp_ged", "acled", "gdelt"]
_MAINTENANCE = importlib.import_module("pipelines.defs.warehouse.maintenance")
_ASSET_MODULES = [importlib.import_module(f"pipelines.defs.{s}.assets") for s in [*SOURCE_IDS, "warehouse"]] + [_MAINTENANCE]
_CHECK_MODULES = [importlib.import_module("pipelines.defs.warehouse.checks")]
_AUTOMATION = [importlib.import_module(f"pipelines.defs.{s}.schedules")
               for s in ["cisa_kev", "ucdp_acd", "ucdp_ged", "acled", "gdelt", "warehouse"]] + [_MAINTENANCE, domains, alerts]

ALL_ASSETS = [a for m in _ASSET_MODULES for a in m.ASSETS]
ALL_CHECKS = [c for m in _ASSET_MODULES + _CHECK_MODULES for c in getattr(m, "CHECKS", [])]


def build_definitions(offline: bool = False) -> Definitions:
    """The Definitions object; `offline=True` runs every source from snapshots and bundled samples."""
    return Definitions(
        # One process per run, as the CLI runs: the multiprocess default started a Python process per step
        # and re-imported Dagster, Polars and GX each time (most of an unpartitioned UI run's 325 s).
        executor=in_process_executor,
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[j for m in _AUTOMATION for j in m.JOBS],
        schedules=[s for m in _AUTOMATION for s in m.SCHEDULES],
        sensors=[s for m in _AUTOMATION for s in m.SENSORS],
        resources={
            "http": HttpClientResource(offline=offline),
            "snapshots": SnapshotStoreResource(),
            "lake": LakeResource(),
            "warehouse": WarehouseResource(),
            "alert_webhook": alert_webhook_from_env(),
        },
    )


# THREATWATCH_OFFLINE=1 makes the UI run from snapshots and samples too (demos, air-gapped analysts).
defs = build_definitions(offline=offline_from_env())
