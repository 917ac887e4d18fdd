"""Progress inside a long step, as Dagster log messages of one fixed form.

The UI shows them in the run's log; `threatwatch run` reads them back from the event stream
(`parse_progress`) to move its progress bar. Both ends live here so the form has one definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORM = re.compile(r"^progress (\d+)/(\d+) (.+)$")
# Each message is an event written to the instance: a step says at most this many, whatever its size.
MAX_MESSAGES = 50


@dataclass(frozen=True)
class Progress:
    """`done` of `total` units (e.g. "snapshots staged") of the step that logged it."""

    done: int
    total: int
    unit: str


def progress_message(done: int, total: int, unit: str) -> str:
    """The log line for `done` of `total` units."""
    return f"progress {done}/{total} {unit}"


def parse_progress(message: str) -> Progress | None:
    """The progress a log line reports, or None for any other line."""
    match = _FORM.match(message)
    return Progress(int(match[1]), int(match[2]), match[3]) if match else None


class ProgressLog:
    """Logs progress through a Dagster logger, thinned to about MAX_MESSAGES lines per step."""

    def __init__(self, log, unit: str):
        self.log, self.unit = log, unit

    def __call__(self, done: int, total: int) -> None:
        stride = max(1, total // MAX_MESSAGES)
        if total > 1 and (done % stride == 0 or done == total):
            self.log.info(progress_message(done, total, self.unit))
