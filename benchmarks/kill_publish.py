"""kill -9 at a random moment of a publish, many times: the warehouse never shows a half-done publish.

    python -m benchmarks.kill_publish --trials 20     # from the repository root (it reads tests/lake_state.py)

Setup: `threatwatch run --offline` once (the bundled samples, staged, validated, published). Each trial then
starts a publish in a child process, waits until the child is about to publish, kills it with SIGKILL after a
random delay within the time an unkilled publish takes, and checks:

1. the last committed snapshot reads completely (every row of every table, so every data file) and is either
   the snapshot before the publish, identical to it, or the publish's own, identical in every table but the
   clock (meta.publish): nothing half-written is visible, and no file the catalog lists is missing;
2. the next publish, not killed, succeeds and reads identically again;
3. after maintenance (no grace: nothing else writes) the files under DATA_PATH are exactly the catalog's.

Prints one line per trial and a table; exits 1 if any trial failed. tests/test_kill_publish.py runs a few.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLOCK_TABLES = frozenset({"meta.publish"})  # when it ran, not what it holds
READY = "publishing"
# The child: imports first, then says it is about to publish, so a kill lands in the publish, not in imports.
PUBLISH_CHILD = f"""
import sys, time
from pipelines.lib.config import paths_from_env
from pipelines.lib.publish import publish_warehouse
paths = paths_from_env()
print({READY!r}, flush=True)
began = time.perf_counter()
publish_warehouse(paths)
print(f"done {{time.perf_counter() - began:.3f}}", flush=True)
"""


@dataclass(frozen=True)
class WarehouseState:
    """The latest committed snapshot and what it reads as."""

    snapshot_id: int
    prints: dict[str, tuple[int, int]]
    missing_files: int  # files the catalog lists that are not on disk (must be 0)
    orphans: int  # files on disk the catalog does not list (a killed writer's)

    def data(self) -> dict[str, tuple[int, int]]:
        return {name: value for name, value in self.prints.items() if name not in CLOCK_TABLES}


@dataclass
class Trial:
    """One kill and what was found after it."""

    number: int
    delay: float  # seconds after the child said it was publishing
    killed: bool = False  # False: the publish finished before the kill came
    snapshot_before: int = -1
    snapshot_after: int = -1
    orphans_after_kill: int = 0
    next_run_seconds: float = 0.0
    orphans_after_maintenance: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.killed:
            return "finished first"
        return "rolled back" if self.snapshot_after == self.snapshot_before else "committed, then killed"


def read_state() -> WarehouseState:
    """The warehouse (of this process's environment) as a reader sees it now."""
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import connect_warehouse
    from tests.lake_state import fingerprint, orphans_and_missing

    paths = paths_from_env()
    with connect_warehouse(paths, read_only=True) as con:
        snapshot_id = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('warehouse')").fetchone()[0]
        orphans, missing = orphans_and_missing(con, Path(paths.data_path))
        return WarehouseState(snapshot_id, fingerprint(con), len(missing), len(orphans))


def start_publish(env: dict[str, str]) -> subprocess.Popen:
    """A publish in a child process, its stdout a pipe to wait on."""
    return subprocess.Popen([sys.executable, "-c", PUBLISH_CHILD], env=env, cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_ready(child: subprocess.Popen, timeout: float = 300) -> None:
    line = child.stdout.readline()
    if line.strip() != READY:
        child.kill()
        raise RuntimeError(f"the publish child did not start: {line!r} {child.stderr.read()[-2000:]}")


def publish_once(env: dict[str, str]) -> float:
    """An unkilled publish in a child process; its publish time in seconds (raises if it failed)."""
    child = start_publish(env)
    out, err = child.communicate(timeout=900)
    if child.returncode != 0:
        raise RuntimeError(f"publish failed ({child.returncode}): {err[-3000:]}")
    return float(out.strip().splitlines()[-1].split()[1])


def maintain() -> None:
    """Maintenance with no grace: every unreferenced file goes (only safe because nothing else writes now)."""
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import connect_warehouse
    from pipelines.lib.ducklake_maintenance import maintain_warehouse

    with connect_warehouse(paths_from_env()) as con:
        maintain_warehouse(con, timedelta(days=30), grace=timedelta(0))


def run_trial(number: int, env: dict[str, str], delay: float, reference: dict[str, tuple[int, int]]) -> Trial:
    """Kill one publish `delay` seconds in and check the warehouse, the next run and maintenance.

    `env` is the children's environment; this process reads the warehouse its own environment names (the same).
    """
    trial = Trial(number, delay)
    before = read_state()
    trial.snapshot_before = before.snapshot_id
    child = start_publish(env)
    wait_ready(child)
    time.sleep(delay)
    trial.killed = child.poll() is None
    if trial.killed:
        child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=120)
    if not trial.killed and child.returncode != 0:
        trial.problems.append(f"the publish failed on its own: {err[-500:]}")
    after = read_state()
    trial.snapshot_after, trial.orphans_after_kill = after.snapshot_id, after.orphans
    if after.missing_files:
        trial.problems.append(f"{after.missing_files} file(s) the catalog lists are missing")
    if after.snapshot_id == before.snapshot_id and after.prints != before.prints:
        trial.problems.append("the same snapshot reads differently after the kill")
    if after.data() != reference:
        changed = sorted(k for k in set(after.data()) | set(reference) if after.data().get(k) != reference.get(k))
        trial.problems.append(f"tables differ from the last good publish: {changed[:5]}")
    try:
        trial.next_run_seconds = publish_once(env)
        if read_state().data() != reference:
            trial.problems.append("the next publish reads differently")
    except RuntimeError as exc:
        trial.problems.append(f"the next publish failed: {exc}")
    maintain()
    final = read_state()
    trial.orphans_after_maintenance = final.orphans
    if final.orphans or final.missing_files:
        trial.problems.append(f"after maintenance: {final.orphans} orphan(s), {final.missing_files} missing")
    return trial


def prepare_home(root: Path) -> dict[str, str]:
    """A fresh home (and Dagster instance) where `threatwatch run --offline` has run once; its environment."""
    home, dagster_home = root / "home", root / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copyfile(REPO / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREATWATCH_")}
    env.update(THREATWATCH_HOME=str(home), DAGSTER_HOME=str(dagster_home))
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--offline", "--quiet"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"threatwatch run --offline failed ({done.returncode}): {(done.stderr or done.stdout)[-3000:]}")
    return env


def render(trials: list[Trial]) -> str:
    """The table of trials."""
    lines = ["| trial | kill after (s) | outcome | snapshot before → after | orphans after kill | next run (s) "
             "| orphans after maintenance | result |", "|---|---|---|---|---|---|---|---|"]
    for t in trials:
        lines.append(f"| {t.number} | {t.delay:.2f} | {t.outcome} | {t.snapshot_before} → {t.snapshot_after} "
                     f"| {t.orphans_after_kill} | {t.next_run_seconds:.1f} | {t.orphans_after_maintenance} "
                     f"| {'ok' if not t.problems else '; '.join(t.problems)} |")
    killed = sum(t.killed for t in trials)
    failed = sum(bool(t.problems) for t in trials)
    lines.append(f"\n{len(trials)} trials, {killed} killed mid-publish, {failed} failed")
    return "\n".join(lines)


def run_trials(env: dict[str, str], fractions: list[float], log=print) -> list[Trial]:
    """Calibrate one publish, then kill one publish at each fraction of its duration (0: as it starts)."""
    publish_seconds = publish_once(env)
    maintain()
    reference = read_state().data()
    log(f"an unkilled publish takes {publish_seconds:.2f} s; killing within {publish_seconds * max(fractions):.2f} s")
    results = []
    for number, fraction in enumerate(fractions, 1):
        results.append(run_trial(number, env, fraction * publish_seconds, reference))
        t = results[-1]
        log(f"trial {number}: kill after {t.delay:.2f} s, {t.outcome}, {'ok' if not t.problems else t.problems}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="threatwatch-kill-"))
    try:
        env = prepare_home(root)
        os.environ.update(env)  # this process reads and maintains the warehouse the children publish
        # up to 10% past an unkilled publish's time: a loaded machine may publish slower than it did then
        rng = random.Random(args.seed)
        results = run_trials(env, [rng.uniform(0, 1.1) for _ in range(args.trials)])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(render(results))
    sys.exit(1 if any(t.problems for t in results) else 0)


if __name__ == "__main__":
    main()
