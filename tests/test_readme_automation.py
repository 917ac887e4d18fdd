"""The README's table of schedules and sensors is the code location's: every one listed, with its kind and
whether it runs by default; and the README's way to turn one on does turn it on."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from dagster import DagsterInstance

from pipelines.definitions import defs

REPO = Path(__file__).resolve().parents[1]
SECTION = "### Schedules and sensors: which run by default"


def _section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n#", start + len(SECTION))
    return text[start:end if end != -1 else None]


def _table() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `([a-z_]+)` \| (schedule|sensor) \| [^|]+ \| (running|stopped) \|$", _section(), re.M)
    return {name: (kind, default) for name, kind, default in rows}


def _defined() -> dict[str, tuple[str, str]]:
    found = {s.name: ("schedule", s.default_status.value.lower()) for s in defs.schedules or []}
    found |= {s.name: ("sensor", s.default_status.value.lower()) for s in defs.sensors or []}
    return found


def test_the_readme_lists_every_schedule_and_sensor_with_its_default():
    assert _table() == _defined()


def test_the_readmes_start_commands_turn_on_what_is_off(tmp_path: Path):
    lines = [line for line in _section().splitlines()  # the commands in its bash block
             if line.startswith("DAGSTER_HOME=") and re.search(r"dagster (schedule|sensor) start ", line)]
    assert lines
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(REPO / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    started = []
    for line in lines:
        words = shlex.split(line)
        command = [w for w in words if "=" not in w or w.startswith("-")]  # drop the VAR=value prefix
        kind, name = command[1], command[3]
        assert _defined()[name] == (kind, "stopped"), line
        done = subprocess.run(command, cwd=REPO, env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        started.append(name)
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        running = {s.instigator_name for s in instance.all_instigator_state() if s.status.value == "RUNNING"}
    assert set(started) <= running
