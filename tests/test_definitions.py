"""The Dagster graph is pinned: a change to assets, dependencies, checks, jobs or schedules shows up in review.

Regenerate after an intended change with: THREATWATCH_UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {"blocking": spec.blocking}
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "timezone": s.execution_timezone}
        for s in sorted(defs.schedules or [], key=lambda s: s.name)
    }
    jobs = sorted(j.name for j in defs.jobs or [])
    return {"assets": assets, "checks": checks, "schedules": schedules, "jobs": jobs,
            "resources": sorted(defs.resources or {})}


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
