"""The persistent Dagster instance every run is recorded in, CLI or UI (docs/adr/0008)."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

# The checkout's instance folder: `dagster dev` is started on it (README), so CLI runs land beside UI runs.
REPO_DAGSTER_HOME = Path(__file__).resolve().parents[2] / "dagster_home"
# Tags on every CLI run: who launched it, and the process, so a run whose process died can be closed.
LAUNCHED_BY_TAG, PID_TAG, HOST_TAG = "threatwatch/launched_by", "threatwatch/pid", "threatwatch/host"


def dagster_home() -> Path:
    """DAGSTER_HOME if set, else the checkout's dagster_home/ (else ./dagster_home outside a checkout)."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"]).expanduser().resolve()
    if (REPO_DAGSTER_HOME / "dagster.yaml").exists():
        return REPO_DAGSTER_HOME
    return Path("dagster_home").resolve()


@contextmanager
def persistent_instance() -> Iterator[DagsterInstance]:
    """The instance in dagster_home(), created with the checkout's dagster.yaml (one slot per pool) if new."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    seed = REPO_DAGSTER_HOME / "dagster.yaml"
    if not (home / "dagster.yaml").exists() and seed.exists():
        shutil.copyfile(seed, home / "dagster.yaml")
    with DagsterInstance.from_config(str(home)) as instance:
        close_abandoned_cli_runs(instance)
        yield instance


def cli_run_tags() -> dict[str, str]:
    """The tags that mark a run as launched by this CLI process."""
    return {LAUNCHED_BY_TAG: "cli", PID_TAG: str(os.getpid()), HOST_TAG: os.uname().nodename}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def close_abandoned_cli_runs(instance: DagsterInstance) -> list[str]:
    """Mark failed the CLI runs of this host whose process is gone (killed mid-run), freeing their pool slots.

    A run killed with SIGKILL never reports its end: it would show as running in the UI forever and keep its
    slot of the `warehouse` pool, so every later publish, CLI or UI, would wait for it.
    """
    closed = []
    host = os.uname().nodename
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
                                        tags={LAUNCHED_BY_TAG: "cli", HOST_TAG: host}))
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            instance.report_run_failed(run, f"the threatwatch process {pid} that ran it is gone")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            closed.append(run.run_id)
    return closed
