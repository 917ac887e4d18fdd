"""The Dagster graph is pinned: a change to assets, dependencies, partitions, owners and tags, checks, jobs
(and what they select), schedules or sensors shows up in review.

Regenerate after an intended change with: THREATWATCH_UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dagster import AssetSelection, BetaWarning, TimeWindowPartitionsDefinition

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def describe_definitions() -> dict:
    """A stable, JSON-able description of the code location's graph."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "pool": node.pools and sorted(node.pools) or None,
            "freshness_fail_days": node.freshness_policy and node.freshness_policy.fail_window.to_timedelta().days,
            "partitions": _describe_partitions(node.partitions_def),
            "owners": sorted(node.owners),
            "tags": {k: v for k, v in sorted(node.tags.items()) if not k.startswith("dagster/")},
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {"blocking": spec.blocking}
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "timezone": s.execution_timezone,
                 "default_status": s.default_status.value}
        for s in sorted(defs.schedules or [], key=lambda s: s.name)
    }
    sensors = {
        s.name: {"kind": type(s).__name__, "jobs": sorted(t.job_name for t in s.targets),
                 "minimum_interval_seconds": s.minimum_interval_seconds, "default_status": s.default_status.value,
                 # Dagster has no public accessor for the jobs a run-status sensor watches.
                 "monitored_jobs": sorted(j.name for j in getattr(s, "_monitored_jobs", None) or [])}
        for s in sorted(defs.sensors or [], key=lambda s: s.name)
    }
    jobs = {
        j.name: {"assets": sorted(k.to_user_string() for k in j.selection.resolve(graph)),
                 "checks": sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in j.selection.resolve_checks(graph))}
        for j in sorted(defs.jobs or [], key=lambda j: j.name)
    }
    return {"assets": assets, "checks": checks, "schedules": schedules, "sensors": sensors, "jobs": jobs,
            "resources": sorted(defs.resources or {})}


def _describe_partitions(partitions_def) -> dict | None:
    """Type, start, cadence and end offset of a time-window partitioning; the type alone for any other."""
    if partitions_def is None:
        return None
    described = {"type": type(partitions_def).__name__}
    if isinstance(partitions_def, TimeWindowPartitionsDefinition):
        described |= {"start": partitions_def.start.isoformat(), "cron": partitions_def.cron_schedule,
                      "timezone": partitions_def.timezone, "end_offset": partitions_def.end_offset}
    return described


def test_definitions_match_the_pinned_graph():
    current = describe_definitions()
    if os.environ.get("THREATWATCH_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_staged_asset_has_a_blocking_check_and_feeds_the_warehouse():
    current = describe_definitions()
    staged = [k for k in current["assets"] if k.startswith("staging/")]
    assert staged
    for key in staged:
        assert any(name.startswith(key + ":") and c["blocking"] for name, c in current["checks"].items()), key
        assert any(key in a["deps"] for k, a in current["assets"].items() if k.startswith("warehouse/")), key


def test_publish_runs_in_a_pool_of_its_own():
    current = describe_definitions()
    for key, asset in current["assets"].items():
        if key.startswith("warehouse/"):
            assert asset["pool"] == ["warehouse"], key


def test_the_pinned_graph_covers_sensors_partitions_and_job_selections():
    current = describe_definitions()
    assert current["sensors"]["gdelt_new_files"]["jobs"] == ["gdelt_job"]
    assert current["sensors"]["publish_after_event_run"]["monitored_jobs"] == ["acled_job", "gdelt_job", "ucdp_ged_job"]
    assert current["assets"]["snapshot/gdelt"]["partitions"]["type"] == "DailyPartitionsDefinition"
    assert current["assets"]["staging/stg_ucdp_ged_event"]["partitions"]["cron"] == "0 0 1 * *"
    assert current["jobs"]["gdelt_job"]["assets"] == ["snapshot/gdelt", "staging/stg_gdelt_event"]
    assert all(job["assets"] for job in current["jobs"].values())


def test_dagster_deprecations_and_beta_apis_fail_the_suite():
    # pyproject.toml turns them into errors, so a deprecated call cannot slip in unseen again.
    with pytest.raises(DeprecationWarning, match="AssetSelection.keys"):
        AssetSelection.keys("snapshot/sipri")
    with pytest.raises(BetaWarning, match="include_sources"):
        AssetSelection.groups("warehouse", include_sources=True)
