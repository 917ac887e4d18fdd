"""Progress lines: one form written by steps and read back by the CLI, thinned for long steps."""

from __future__ import annotations

from pipelines.lib.progress import MAX_MESSAGES, Progress, ProgressLog, parse_progress, progress_message


class Log:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def test_a_progress_line_reads_back_as_written_and_other_lines_do_not():
    assert parse_progress(progress_message(3, 120, "snapshots staged")) == Progress(3, 120, "snapshots staged")
    assert parse_progress("gdelt: 6 snapshots for 2 partitions (sample)") is None
    assert parse_progress("progress of the run: fine") is None


def test_a_long_step_says_about_max_messages_lines_and_always_its_last():
    log = Log()
    report = ProgressLog(log, "snapshots staged")
    for done in range(1, 4312):
        report(done, 4311)
    assert MAX_MESSAGES <= len(log.lines) <= MAX_MESSAGES + 1
    assert log.lines[-1] == "progress 4311/4311 snapshots staged"
    done = [parse_progress(line).done for line in log.lines]
    assert done == sorted(done)


def test_a_single_unit_step_says_nothing():
    log = Log()
    ProgressLog(log, "batches validated")(1, 1)
    assert log.lines == []
