"""`threatwatch`: run the pipeline, manage snapshots, query and export the published warehouse."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from pipelines.lib.config import paths_from_env


class CliError(Exception):
    """Something the user asked for that cannot be done; printed as one line, exit code 2."""


def _output_mode(args: argparse.Namespace) -> str:
    return "json" if args.json else "quiet" if args.quiet else "live"


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import SelectionError, run_pipeline  # Dagster import is slow; only runs need it
    from pipelines.run_display import RunDisplay

    display = RunDisplay(_output_mode(args), offline=args.offline)
    try:
        with display:
            summary = run_pipeline(offline=args.offline, select=args.select, worldbank_format=args.worldbank_format,
                                   publish=not args.no_publish, observer=display.on_event)
    except SelectionError as exc:
        raise CliError(str(exc)) from exc
    display.finish(summary)
    return 0 if summary.success else 1


def _cmd_backfill(args: argparse.Namespace) -> int:
    from pipelines.run import partition_range_problem, run_backfill  # Dagster import is slow
    from pipelines.run_display import RunDisplay

    problem = partition_range_problem(args.source, args.start, args.end)
    if problem:
        raise CliError(problem)
    display = RunDisplay(_output_mode(args), offline=args.offline)
    with display:
        summary = run_backfill(args.source, args.start, args.end, offline=args.offline, fetch_format=args.format,
                               version=args.version, observer=display.on_event)
    display.finish(summary)
    return 0 if summary.success else 1


def _source_info(source: str):
    from pipelines.lib.source_registry import source_info

    try:
        return source_info(source)
    except KeyError as exc:  # its message names the id and the known ones
        raise CliError(exc.args[0]) from None


def _cmd_snapshot_import(args: argparse.Namespace) -> int:
    from pipelines.lib.snapshots import SnapshotStore

    info = _source_info(args.source)
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        raise CliError(f"no such file: {missing[0]}")
    store = SnapshotStore(paths_from_env().snapshots)
    if args.source == "gdelt" and len(args.files) > 1:
        # A GDELT snapshot is one 15-minute export file, as the fetcher stores them: import each on its own.
        return max(_cmd_snapshot_import(argparse.Namespace(source="gdelt", files=[f])) for f in args.files)
    manifest = store.import_files(
        args.source, [Path(f) for f in args.files], publisher=info.publisher, licence=info.licence,
        licence_url=info.licence_url, citation=info.citation,
    )
    if manifest is None:
        latest = store.latest(args.source)
        print(f"unchanged: identical to the latest {args.source} snapshot {latest.snapshot_id}; nothing created")
        return 0
    print(f"imported {len(manifest.files)} file(s) as {args.source} snapshot {manifest.snapshot_id}")
    for f in manifest.files:
        print(f"  {f.name}  {f.bytes} B  sha256 {f.sha256}")
    return 0


def _cmd_snapshot_list(args: argparse.Namespace) -> int:
    from pipelines.lib.snapshots import SnapshotStore
    from pipelines.lib.table import render_table

    if args.source:
        _source_info(args.source)
    store = SnapshotStore(paths_from_env().snapshots)
    rows = [
        (m.source, m.snapshot_id, m.origin, m.retrieved_at, len(m.files), sum(f.bytes for f in m.files))
        for m in store.list(args.source)
    ]
    print(render_table(["source", "snapshot_id", "origin", "retrieved_at", "files", "bytes"], rows))
    return 0


def _connect_read_only():
    """The committed warehouse attached READ_ONLY, then locked against every file but its data files.

    DuckLake reads its Parquet files through the file system, so DATA_PATH stays allowed (COPY and the like
    are refused by statement type before they run).
    """
    from pipelines.lib.ducklake import CatalogConfig, connect_warehouse
    from pipelines.lib.read_only_sql import lock_down

    paths = paths_from_env()
    con = connect_warehouse(paths, read_only=True)  # WarehouseNotFoundError says: run threatwatch run first
    data_path = CatalogConfig.from_env(paths).data_path
    lock_down(con, [data_path] if "://" not in data_path else [])
    return con


def _cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.lib.read_only_sql import RefusedQuery, check_read_only
    from pipelines.lib.sql_output import render_rows

    try:
        query = check_read_only(args.query)
    except RefusedQuery as exc:
        raise CliError(str(exc)) from exc
    with _connect_read_only() as con:
        try:
            cursor = con.execute(query)
        except duckdb.Error as exc:
            raise CliError(str(exc).splitlines()[0]) from exc
        if cursor.description is None:
            return 0
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(args.limit + 1)
    print(render_rows(columns, rows[: args.limit], args.format))
    if len(rows) > args.limit:  # on stderr for csv and json, so what a script reads stays parseable
        print(f"(first {args.limit} rows shown; use --limit)", file=sys.stdout if args.format == "table" else sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pipelines.lib.export import export_table

    try:
        notice = export_table(paths_from_env(), args.table, Path(args.out))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    print(f"exported {args.table} to {args.out}; licence notice in {notice}")
    return 0


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="print nothing but problems (stderr); the exit code tells")
    out.add_argument("--json", action="store_true", help="print one JSON summary of the run on stdout, nothing else")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `threatwatch` command."""
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an error")
    parser = argparse.ArgumentParser(prog="threatwatch", description=__doc__, parents=[debug])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[debug], help="materialize the pipeline (recorded in DAGSTER_HOME) and publish")
    run.add_argument("--offline", action="store_true", help="never touch the network: latest snapshots, else bundled samples")
    run.add_argument("--select", help="Dagster asset selection, e.g. 'group:defense_spending' or 'key:staging/stg_nato+'; "
                                      "a selection that stages something also publishes")
    run.add_argument("--no-publish", action="store_true", help="fetch, stage and check only; publish later")
    run.add_argument("--worldbank-format", choices=["api", "bulk"], default="api", help="live World Bank format")
    _add_output_options(run)
    run.set_defaults(func=_cmd_run)

    back = sub.add_parser("backfill", parents=[debug], help="fetch and stage an event source over a partition range, then publish")
    back.add_argument("source", choices=["ucdp_ged", "acled", "gdelt"])
    back.add_argument("--start", required=True, help="first partition: a month (2024-01-01) or a day (2025-01-04)")
    back.add_argument("--end", required=True, help="last partition, inclusive")
    back.add_argument("--offline", action="store_true", help="restage from held snapshots only")
    back.add_argument("--format", default="default", help="ucdp_ged: bulk | candidate | api")
    back.add_argument("--version", default="", help="ucdp_ged release, e.g. 25.1 or 26.0.7")
    _add_output_options(back)
    back.set_defaults(func=_cmd_backfill)

    snap = sub.add_parser("snapshot", parents=[debug], help="import or list raw snapshots")
    snap_sub = snap.add_subparsers(dest="action", required=True)
    imp = snap_sub.add_parser("import", parents=[debug], help="register files downloaded by hand as a new snapshot")
    imp.add_argument("source")
    imp.add_argument("files", nargs="+")
    imp.set_defaults(func=_cmd_snapshot_import)
    lst = snap_sub.add_parser("list", parents=[debug], help="list snapshots, oldest first")
    lst.add_argument("source", nargs="?")
    lst.set_defaults(func=_cmd_snapshot_list)

    sql = sub.add_parser("sql", parents=[debug], help="run one read-only query on the published warehouse")
    sql.add_argument("query")
    sql.add_argument("--limit", type=int, default=100)
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table",
                     help="table for reading (default); csv or json for scripts")
    sql.set_defaults(func=_cmd_sql)

    export = sub.add_parser("export", parents=[debug], help="export a table or view to .parquet or .csv, with its licence notice")
    export.add_argument("table", help="schema.table, e.g. marts.nato_burden_sharing")
    export.add_argument("out", help="output file ending in .parquet or .csv")
    export.set_defaults(func=_cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `threatwatch` console script: an error is one line on stderr and exit code 2."""
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("threatwatch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for a person; the traceback only when asked for
        from pipelines.lib.ducklake import WarehouseError  # its messages name the catalog and the fix

        if debug:
            traceback.print_exc()
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not isinstance(exc, (CliError, WarehouseError)):
            message = f"{type(exc).__name__}: {message}" + ("" if debug else " (--debug shows the traceback)")
        print(f"threatwatch: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
