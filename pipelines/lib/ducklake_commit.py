"""One DuckLake transaction, run again from the start when another writer's commit got in first.

DuckLake retries a commit by itself when the other writer touched other tables. When both changed the same
table (two publishes of one table, the meta.* bookkeeping every publish appends to) the commit fails with a
transaction conflict, and on a SQLite catalog a writer whose catalog read went stale fails with "database is
locked". Either way nothing of the failed transaction was committed, so the whole unit of work is run again,
on the other writer's result, after a growing, jittered wait (two writers that collided must not collide
again in step). Anything else is not retried.
"""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

import duckdb

T = TypeVar("T")
# Messages of a commit another writer won (DuckLake 1.5.5): a logical conflict, or SQLite's stale snapshot.
CONFLICT_MARKERS = ("Transaction conflict", "database is locked")
DEFAULT_ATTEMPTS = 5
DEFAULT_FIRST_WAIT = 0.5  # seconds; doubled each time: 0.5, 1, 2, 4 (times 0.5-1.5 jitter), ~8 s in all


class CommitConflictError(RuntimeError):
    """A transaction still conflicted with other writers after every attempt; nothing of it was committed."""


def is_commit_conflict(exc: BaseException) -> bool:
    """Whether `exc` says another writer committed first (so running the transaction again may succeed)."""
    return isinstance(exc, duckdb.TransactionException) and any(m in str(exc) for m in CONFLICT_MARKERS)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # a failed COMMIT or statement already ended the transaction: nothing was committed either way


def commit_with_retry(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T], *,
                      what: str = "transaction", attempts: int = DEFAULT_ATTEMPTS,
                      first_wait: float = DEFAULT_FIRST_WAIT, sleep: Callable[[float], None] = time.sleep,
                      on_retry: Callable[[int, BaseException, float], None] | None = None) -> T:
    """BEGIN, `work(con)`, COMMIT; on a commit conflict roll back, wait and run it all again (at most `attempts`
    times). `work` must do everything the transaction writes (it is re-run whole); returns its result.

    Raises CommitConflictError naming `what` when the last attempt conflicts too; any other error at once.
    """
    for attempt in range(1, attempts + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            result = work(con)
            con.execute("COMMIT")
            return result
        except BaseException as exc:
            _rollback(con)
            if not is_commit_conflict(exc):
                raise
            if attempt == attempts:
                raise CommitConflictError(f"{what} conflicted with other writers {attempts} times; nothing of it "
                                          f"was committed: {str(exc).splitlines()[-1]}") from exc
            wait = first_wait * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            sleep(wait)
    raise ValueError(f"attempts must be at least 1, not {attempts}")
