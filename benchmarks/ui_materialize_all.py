"""The UI's "Materialize all" beside `threatwatch run --offline`, each on a fresh offline checkout.

    python -m benchmarks.ui_materialize_all

The CLI run gets an empty THREATWATCH_HOME and DAGSTER_HOME; then `dagster dev` (webserver + daemon) starts
with THREATWATCH_OFFLINE=1 on another pair, and the backfill the UI's button launches (every asset, all
partitions) goes through its GraphQL API. Timed from launch until the backfill and all its runs are over.
Results go to benchmarks/results/ui_materialize_all.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.dagster_ui_server import REPO, materialize_all, start_dagster_ui, wait_for_backfill

RESULTS = Path(__file__).resolve().parent / "results"


def _fresh(root: Path, name: str) -> dict[str, str]:
    home, dagster_home = root / name / "home", root / name / "dagster_home"
    home.mkdir(parents=True)
    dagster_home.mkdir()
    shutil.copyfile(REPO / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    return {"THREATWATCH_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = _fresh(root, "cli")
        started = time.monotonic()
        subprocess.run([str(Path(sys.executable).with_name("threatwatch")), "run", "--offline", "--quiet"],
                       env={**os.environ, **env}, check=True)
        cli = time.monotonic() - started

        env = _fresh(root, "ui")
        ui = start_dagster_ui(Path(env["DAGSTER_HOME"]), {**env, "THREATWATCH_OFFLINE": "1"}, root / "dagster.log")
        try:
            started, launched = time.monotonic(), time.time()
            status = wait_for_backfill(ui, materialize_all(ui))
            elapsed = time.monotonic() - started
        finally:
            ui.stop()
    runs = status["runs"]
    last_end = max(r["endTime"] for r in runs) - launched
    result = {"cli_run_offline_s": round(cli, 1),
              # until the backfill says it is complete (the daemon notices at its next 30 s tick) ...
              "ui_materialize_all_s": round(elapsed, 1), "ratio": round(elapsed / cli, 2),
              # ... and until the last run ended (every asset materialized and checked)
              "ui_last_run_ended_s": round(last_end, 1), "ratio_last_run": round(last_end / cli, 2),
              # the daemon's pickup: Dagster's backfill daemon looks every 30 s, not configurable
              "ui_first_run_created_s": round(min(r["creationTime"] for r in runs) - launched, 1),
              "backfill_status": status["status"],
              "runs": len(runs),
              "run_statuses": sorted(r["status"] for r in runs),
              # each run's start and end, seconds after the launch: where the time between runs goes
              "run_timeline": sorted(({"created": round(r["creationTime"] - launched, 1),
                                      "started": round(r["startTime"] - launched, 1),
                                      "ended": round(r["endTime"] - launched, 1),
                                      "assets": len(r["assetSelection"] or [])} for r in runs),
                                     key=lambda r: r["started"])}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ui_materialize_all.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
