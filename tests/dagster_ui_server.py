"""`dagster dev` (webserver + daemon) on 127.0.0.1 against a given DAGSTER_HOME, and its GraphQL API.

Used by the browser test (tests/test_dagster_ui.py) and the UI benchmark (benchmarks/ui_materialize_all.py).
The server runs in its own process group, so stopping it stops the webserver, the daemon and their code
servers together.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DagsterUI:
    """A running `dagster dev`: its URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        """One GraphQL request; raises on a transport or GraphQL error."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL error: {answer['errors']}")
        return answer["data"]

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after 20 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_dagster_ui(dagster_home: Path, env: dict[str, str], log: Path, timeout: float = 180,
                     base_env: dict[str, str] | None = None) -> DagsterUI:
    """`dagster dev` in the checkout on a free port (environment `base_env`, default ours, plus `env`),
    ready once its code location has loaded."""
    port = free_port()
    full_env = {**(os.environ if base_env is None else base_env), **env, "DAGSTER_HOME": str(dagster_home)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-h", "127.0.0.1", "-p", str(port), "-w", str(REPO / "workspace.yaml")],
            cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    ui = DagsterUI(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                data = ui.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                  "locationOrLoadError { __typename } } } } }", timeout=5)
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and all(e["locationOrLoadError"] for e in entries):
                    errors = [e for e in entries if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                    if errors:
                        raise RuntimeError(f"code location failed to load: {errors}\n{log.read_text()[-3000:]}")
                    return ui
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dagster dev not ready after {timeout} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    except BaseException:
        ui.stop()
        raise


ALL_ASSET_KEYS = "{ assetNodes { assetKey { path } } }"
LAUNCH_BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message stack }
  ... on InvalidSubsetError { message } ... on UnauthorizedError { message } } }"""
BACKFILL_STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
  ... on PartitionBackfill { status numPartitions runs { runId status jobName creationTime startTime endTime assetSelection { path } } } } }"""
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def materialize_all(ui: DagsterUI) -> str:
    """What the UI's "Materialize all" launches: a backfill of every asset over all its partitions."""
    keys = [n["assetKey"] for n in ui.graphql(ALL_ASSET_KEYS)["assetNodes"]]
    launched = ui.graphql(LAUNCH_BACKFILL, {"params": {"assetSelection": keys, "allPartitions": True}})
    result = launched["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"backfill not launched: {result}")
    return result["backfillId"]


def wait_for_backfill(ui: DagsterUI, backfill_id: str, timeout: float = 1800) -> dict:
    """Poll until the backfill is over and none of its runs is still going; its last status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = ui.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        runs_done = all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in status["runs"])
        if status["status"] in TERMINAL and runs_done:
            return status
        time.sleep(1)
    raise TimeoutError(f"backfill {backfill_id} not finished after {timeout} s")
