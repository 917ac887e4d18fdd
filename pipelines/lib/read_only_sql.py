"""What `threatwatch sql` lets through: one query that reads, on a connection that cannot touch files."""

from __future__ import annotations

import duckdb

# Statement types that only read. EXPLAIN (even ANALYZE) reads too; everything else (COPY, ATTACH, DETACH,
# INSTALL/LOAD, EXPORT/IMPORT, SET/RESET, PRAGMA, CALL, CREATE, INSERT…, MULTI as PIVOT plans it) is refused.
READING_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class RefusedQuery(ValueError):
    """A query `threatwatch sql` will not run, with the reason in one line."""


def check_read_only(query: str) -> str:
    """The query if it is exactly one reading statement; otherwise RefusedQuery says why."""
    # Parsing can touch files (IMPORT DATABASE reads its schema.sql): parse on a locked-down connection too.
    with duckdb.connect() as parser:
        lock_down(parser)
        try:
            statements = parser.extract_statements(query)
        except duckdb.Error as exc:
            raise RefusedQuery(str(exc).splitlines()[0]) from exc
    if not statements:
        raise RefusedQuery("no SQL statement given")
    if len(statements) > 1:
        raise RefusedQuery(f"{len(statements)} statements given; `threatwatch sql` runs one at a time "
                           "(run each on its own)")
    kind = statements[0].type
    if kind not in READING_STATEMENTS:
        raise RefusedQuery(f"{kind.name} statements are refused: `threatwatch sql` is read-only "
                           "(SELECT, FROM, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)")
    return query


def lock_down(con: duckdb.DuckDBPyConnection, allowed_directories: list[str] = ()) -> None:
    """Forbid every file and network access the warehouse does not need, for the rest of the connection.

    Set after the warehouse is open; DuckDB refuses to turn external access back on while it runs.
    """
    if allowed_directories:
        con.execute("SET allowed_directories = $dirs", {"dirs": list(allowed_directories)})
    con.execute("SET enable_external_access = false")
