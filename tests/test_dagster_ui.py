"""The Dagster UI in a real browser: `dagster dev` on 127.0.0.1 against a throwaway DAGSTER_HOME (with the
checkout's dagster.yaml), driven by Debian's Chromium through Playwright.

One server for the module: the catalog lists every source; a `threatwatch run --offline` on the same
DAGSTER_HOME shows up as runs, with stg_nato's row count and its passed GX check; a materialization
launched from the UI succeeds. Playwright cannot download its own browser here, so it is launched with the
system Chromium's path. `.ci/run` installs Chromium and sets THREATWATCH_REQUIRE_BROWSER=1, so in CI a
missing browser fails; elsewhere the module skips, saying what is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from pipelines.definitions import SOURCE_IDS
from tests.conftest import CATALOG_ENV
from tests.dagster_ui_server import REPO, DagsterUI, start_dagster_ui

CHROMIUM = Path(os.environ.get("THREATWATCH_CHROMIUM", "/usr/bin/chromium"))
UI_RUN = """query { runsOrError(limit: 20) { ... on Runs { results { runId status tags { key value } } } } }"""


def _browser_or_skip():
    """Playwright's sync API, or a skip (a failure under THREATWATCH_REQUIRE_BROWSER=1) saying what is missing."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright for Python is not installed (pip install -e '.[test]')"
    if missing is None and not CHROMIUM.exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set THREATWATCH_CHROMIUM)"
    if missing:
        if os.environ.get("THREATWATCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"THREATWATCH_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    return sync_playwright


class Cockpit:
    """The server, its homes, the CLI run's JSON summary and a headless browser."""

    def __init__(self, ui: DagsterUI, env: dict[str, str], browser):
        self.ui, self.env, self.browser = ui, env, browser
        self.cli_summary: dict = {}

    def page(self, path: str):
        """A new page at `path`, tall enough that the catalog's virtual list renders every source."""
        page = self.browser.new_page(viewport={"width": 1400, "height": 3000})
        page.goto(self.ui.url + path)
        return page


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cockpit]:
    sync_playwright = _browser_or_skip()
    root = tmp_path_factory.mktemp("ui")
    home, dagster_home = root / "home", root / "dagster_home"
    home.mkdir()
    dagster_home.mkdir()
    shutil.copyfile(REPO / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {"THREATWATCH_HOME": str(home), "DAGSTER_HOME": str(dagster_home), "THREATWATCH_OFFLINE": "1"}
    clean = {k: v for k, v in os.environ.items()
             if k not in CATALOG_ENV and not (k.startswith("THREATWATCH_") and k.endswith("_URL"))}
    os_environ = {**clean, **env}
    ui = start_dagster_ui(dagster_home, env, root / "dagster.log", base_env=os_environ)
    try:
        ui.graphql("mutation { setNuxSeen }")  # Dagster's one-time community dialog would cover the page
        with sync_playwright() as playwright:
            # As root (CI containers) Chromium needs --no-sandbox.
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            try:
                yield Cockpit(ui, os_environ, browser)
            finally:
                browser.close()
    finally:
        ui.stop()  # the whole process group: webserver, daemon, code servers


@pytest.fixture(scope="module")
def cli_run(cockpit: Cockpit) -> dict:
    """`threatwatch run --offline --json` into the server's DAGSTER_HOME while the UI is up."""
    done = subprocess.run([str(Path(sys.executable).with_name("threatwatch")), "run", "--offline", "--json"],
                          env=cockpit.env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["success"] and summary["published"], summary
    return summary


def test_the_asset_catalog_lists_every_source(cockpit: Cockpit):
    page = cockpit.page("/assets")
    page.get_by_text("snapshot / worldbank", exact=True).first.wait_for(timeout=60_000)
    text = page.inner_text("body")
    missing = [s for s in SOURCE_IDS if f"snapshot / {s}" not in text]
    assert not missing, f"not in the catalog: {missing}"
    assert "staging / stg_nato" in text


def test_a_cli_run_is_listed_with_stg_natos_row_count_and_passed_check(cockpit: Cockpit, cli_run: dict):
    page = cockpit.page("/runs")
    for run in cli_run["runs"]:  # the UI lists runs by the first 8 characters of their id
        page.get_by_text(run["run_id"][:8], exact=True).first.wait_for(timeout=30_000)
    assert "threatwatch/launched_by: cli" in page.inner_text("body")

    rows = next(a["metadata"]["dagster/row_count"] for a in cli_run["assets"] if a["key"] == "staging/stg_nato")
    page = cockpit.page("/assets/staging/stg_nato")
    page.get_by_text("Row count", exact=True).first.wait_for(timeout=30_000)
    assert re.search(rf"Row count\s+{rows:,}\b", page.inner_text("body")), f"no row count {rows:,} on the page"

    page = cockpit.page("/assets/staging/stg_nato?view=checks")
    page.get_by_text("gx_stg_nato").first.wait_for(timeout=30_000)
    page.get_by_text("Evaluation result").first.wait_for(timeout=30_000)
    # the evaluation's description renders after its heading: on a loaded machine, seconds after
    page.get_by_text(re.compile(r"\d+ expectations passed")).first.wait_for(timeout=30_000)
    text = page.inner_text("body")
    assert re.search(r"Evaluation result\s+Passed", text), text[:2000]
    assert re.search(r"\d+ expectations passed", text)


def test_a_materialization_launched_from_the_ui_succeeds(cockpit: Cockpit):
    before = {r["runId"] for r in _runs(cockpit.ui)}
    page = cockpit.page("/assets/snapshot/nato")
    page.locator("button", has_text=re.compile(r"^Materialize$")).first.click(timeout=30_000)
    deadline = time.monotonic() + 180
    while True:
        new = [r for r in _runs(cockpit.ui) if r["runId"] not in before]
        if new and new[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"the UI's run did not finish: {new}"
        time.sleep(1)
    run = new[0]
    assert run["status"] == "SUCCESS", cockpit.ui.log.read_text()[-3000:]
    assert not any(t["key"] == "threatwatch/launched_by" for t in run["tags"])  # the UI's own, not a CLI run
    page = cockpit.page(f"/runs/{run['runId']}")
    page.get_by_text("Success").first.wait_for(timeout=30_000)


def _runs(ui: DagsterUI) -> list[dict]:
    return ui.graphql(UI_RUN)["runsOrError"]["results"]
