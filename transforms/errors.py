"""Errors raised when a publisher's file does not have the shape we expect."""

from __future__ import annotations


class SourceFormatError(ValueError):
    """A source file is malformed, has drifted, or holds values we cannot interpret.

    The message always names the source, the file and the problem; the pipeline adds
    the snapshot id (``with_snapshot``) because transforms never know where a file came from.
    """

    def __init__(self, source: str, file: str, problem: str, snapshot_id: str | None = None):
        self.source = source
        self.file = file
        self.problem = problem
        self.snapshot_id = snapshot_id
        where = f"snapshot {snapshot_id}, " if snapshot_id else ""
        super().__init__(f"[{source}] {where}file {file!r}: {problem}")

    def with_snapshot(self, snapshot_id: str) -> "SourceFormatError":
        """The same error, now naming the snapshot the file belongs to."""
        return SourceFormatError(self.source, self.file, self.problem, snapshot_id)
