"""One source's fetch ends by a deadline: how long (THREATWATCH_FETCH_DEADLINE_SECONDS) and the cut-off at it."""

from __future__ import annotations

import os
import socket
import threading

FETCH_DEADLINE_ENV = "THREATWATCH_FETCH_DEADLINE_SECONDS"
DEFAULT_FETCH_DEADLINE = 1800.0  # a UCDP bulk zip or a month of GDELT files on a slow link fits; a hang does not


def fetch_deadline_from_env() -> float:
    """THREATWATCH_FETCH_DEADLINE_SECONDS as a positive number of seconds, else the default."""
    raw = os.environ.get(FETCH_DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_FETCH_DEADLINE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:
        raise ValueError(f"{FETCH_DEADLINE_ENV}={raw!r} is not a positive number of seconds")
    return seconds


class Watchdog:
    """Shuts a socket down when the deadline comes: a body trickling in faster than the read timeout still ends."""

    def __init__(self, sock: socket.socket, seconds: float):
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._cut, args=(sock,))
        self._timer.daemon = True
        self._timer.start()

    def _cut(self, sock: socket.socket) -> None:
        self.fired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read with an end of stream
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()
