"""GDELT's cadence: a sensor reads lastupdate.txt every 15 minutes and asks for each new export file."""

from __future__ import annotations

import os

from dagster import AssetSelection, RunRequest, SensorEvaluationContext, SkipReason, define_asset_job, sensor

from pipelines.defs.gdelt import assets as gdelt
from pipelines.defs.gdelt.fetch import fetch_gdelt_file_list, gdelt_exports
from pipelines.lib.config import paths_from_env
from pipelines.lib.source_spec import INCREMENTAL_TAG
from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.http_settings import HttpSettings
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_registry import source_info

gdelt_job = define_asset_job("gdelt_job", selection=AssetSelection.assets(*gdelt.ASSETS),
                             description="Fetch and stage GDELT days: new 15-minute files, or a backfilled range.")


@sensor(job=gdelt_job, minimum_interval_seconds=900,
        description="Every 15 minutes: read GDELT's lastupdate.txt and request each export file not seen yet.")
def gdelt_new_files(context: SensorEvaluationContext):
    if os.environ.get("THREATWATCH_OFFLINE", "").lower() in ("1", "true", "yes"):
        return SkipReason("offline: no network")
    store = SnapshotStore(paths_from_env().snapshots)
    try:
        with store.draft("gdelt") as scratch:
            # A sensor tick has about a minute (Dagster's default evaluation timeout): stop well before it.
            client = HttpClient(HttpSettings(max_attempts=2, fetch_deadline=40.0))
            _, listing = fetch_gdelt_file_list(client, scratch,
                                               source_info("gdelt").base_url(), "lastupdate")
            scratch.discard()
    except FetchError as exc:
        return SkipReason(f"lastupdate.txt unavailable: {exc}")
    exports = gdelt_exports(listing)
    cursor = context.cursor or ""
    requests = []
    for row in exports.iter_rows(named=True):
        stamp = row["timestamp"].strftime("%Y%m%d%H%M%S")
        if stamp <= cursor:
            continue
        requests.append(RunRequest(
            run_key=row["file_name"], partition_key=row["timestamp"].strftime("%Y-%m-%d"),
            tags={INCREMENTAL_TAG: "true"},
            run_config={"ops": {"snapshot__gdelt": {"config": {"files": [row["url"]], "format": "lastupdate"}}}}))
        cursor = stamp
    context.update_cursor(cursor)
    return requests or SkipReason("no new export file")


JOBS, SCHEDULES, SENSORS = [gdelt_job], [], [gdelt_new_files]
