"""kill -9 during a publish, a few times (benchmarks/kill_publish.py runs 20 and more): the last committed
snapshot reads completely and identically, the next publish succeeds, and after maintenance the files on
disk are exactly the catalog's."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.kill_publish import render, run_trials


def test_a_publish_killed_at_any_moment_leaves_the_last_snapshot_whole(copied_home: Path):
    # 0: killed as it starts (always mid-publish); the others land wherever the publish is by then
    trials = run_trials(os.environ.copy(), [0.0, 0.35, 0.7], log=lambda line: None)
    assert trials[0].killed and trials[0].outcome == "rolled back"
    assert [t.problems for t in trials] == [[], [], []], render(trials)
