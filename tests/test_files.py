"""The one atomic write and the one file lock: whole files or the old one, one holder at a time across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipelines.lib.files import (
    LockHeldError,
    atomic_output,
    atomic_write,
    atomic_write_text,
    file_lock,
)

# A child process that takes the lock, says so, and keeps it until its stdin closes (or it is killed).
HOLD_LOCK = """
import sys
from pipelines.lib.files import file_lock
with file_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""

# A child that counts to N in a shared file, read-modify-write, under the lock.
COUNT_UNDER_LOCK = """
import sys
from pathlib import Path
from pipelines.lib.files import atomic_write_text, file_lock
counter, n = Path(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    with file_lock(counter.with_name("counter.lock")):
        atomic_write_text(counter, str(int(counter.read_text()) + 1))
"""

# A child that dies (no cleanup, no exception handlers) halfway through writing the new content.
CRASH_MID_WRITE = """
import os, sys
from pipelines.lib.files import atomic_write
def write(tmp):
    with open(tmp, "wb") as out:
        out.write(b"half of the new")
        out.flush()
        os._exit(9)
atomic_write(sys.argv[1], write)
"""


def _holder(lock: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_another_process_refuses_a_non_blocking_taker_until_released(tmp_path: Path):
    lock = tmp_path / "x.lock"
    proc = _holder(lock)
    try:
        with pytest.raises(LockHeldError, match="x.lock"):
            with file_lock(lock, blocking=False):
                pass
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    with file_lock(lock, blocking=False):  # released with the process
        pass


def test_a_blocking_taker_waits_for_the_other_process_then_gets_the_lock(tmp_path: Path):
    lock = tmp_path / "x.lock"
    proc = _holder(lock)
    acquired = threading.Event()

    def take() -> None:
        with file_lock(lock):
            acquired.set()

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    try:
        assert not acquired.wait(0.3), "took a lock another process holds"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    taker.join(timeout=30)
    assert acquired.is_set()


def test_the_os_drops_the_lock_of_a_killed_process(tmp_path: Path):
    lock = tmp_path / "x.lock"
    proc = _holder(lock)
    proc.kill()
    proc.wait(timeout=30)
    with file_lock(lock, blocking=False):
        pass


def test_two_processes_counting_under_the_lock_lose_no_increment(tmp_path: Path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    procs = [subprocess.Popen([sys.executable, "-c", COUNT_UNDER_LOCK, str(counter), "150"]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert counter.read_text() == "300"


def test_a_process_dying_mid_write_leaves_the_old_file_whole(tmp_path: Path):
    target = tmp_path / "state.json"
    target.write_bytes(b"the old content")
    done = subprocess.run([sys.executable, "-c", CRASH_MID_WRITE, str(target)], timeout=60)
    assert done.returncode == 9
    assert target.read_bytes() == b"the old content"
    # The dead writer's temp file is a dot-file beside the target, never the target itself.
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert leftovers and all(name.startswith(".state.json.") for name in leftovers)


def test_an_error_mid_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path):
    target = tmp_path / "state.json"
    target.write_text("old")

    def write(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, write)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_writes_replace_the_file_and_create_missing_folders(tmp_path: Path):
    target = tmp_path / "a" / "b" / "f.bin"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"\x00\x01"))
    assert target.read_bytes() == b"\x00\x01"
    atomic_write_text(target, "ünïcode")
    assert target.read_text(encoding="utf-8") == "ünïcode"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]


def test_atomic_output_names_its_temp_beside_the_target_with_the_suffix(tmp_path: Path):
    target = tmp_path / "download.zip"
    with atomic_output(target, suffix=".part") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".download.zip.") and tmp.name.endswith(".part")
        tmp.write_bytes(b"zip")
        assert not target.exists()  # nobody sees it before the block ends
    assert target.read_bytes() == b"zip" and not tmp.exists()
