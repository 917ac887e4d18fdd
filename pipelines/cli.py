"""`threatwatch`: run the pipeline, manage snapshots, query and export the published warehouse."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.lib.config import paths_from_env


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run_pipeline  # Dagster import is slow; only `run` needs it

    result = run_pipeline(offline=args.offline, select=args.select, worldbank_format=args.worldbank_format)
    print(result.render())
    return 0 if result.success else 1


def _cmd_snapshot_import(args: argparse.Namespace) -> int:
    from pipelines.lib.snapshots import SnapshotStore
    from pipelines.lib.source_registry import source_info

    info = source_info(args.source)
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


def _cmd_backfill(args: argparse.Namespace) -> int:
    from pipelines.run import run_backfill  # Dagster import is slow; only runs need it

    result = run_backfill(args.source, args.start, args.end, offline=args.offline,
                          fetch_format=args.format, version=args.version)
    print(result.render())
    return 0 if result.success else 1


def _cmd_snapshot_list(args: argparse.Namespace) -> int:
    from pipelines.lib.snapshots import SnapshotStore
    from pipelines.lib.table import render_table

    store = SnapshotStore(paths_from_env().snapshots)
    rows = [
        (m.source, m.snapshot_id, m.origin, m.retrieved_at, len(m.files), sum(f.bytes for f in m.files))
        for m in store.list(args.source)
    ]
    print(render_table(["source", "snapshot_id", "origin", "retrieved_at", "files", "bytes"], rows))
    return 0


def _connect_read_only():
    import duckdb

    warehouse = paths_from_env().warehouse
    if not warehouse.exists():
        raise SystemExit(f"no published warehouse at {warehouse}: run `threatwatch run --offline` first")
    return duckdb.connect(str(warehouse), read_only=True)


def _cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.lib.table import render_table

    with _connect_read_only() as con:
        try:
            cursor = con.execute(args.query)
        except duckdb.Error as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if cursor.description is None:
            return 0
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(args.limit + 1)
    print(render_table(columns, rows[: args.limit]))
    if len(rows) > args.limit:
        print(f"(first {args.limit} rows shown; use --limit)")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pipelines.lib.export import export_table

    warehouse = paths_from_env().warehouse
    if not warehouse.exists():
        raise SystemExit(f"no published warehouse at {warehouse}: run `threatwatch run --offline` first")
    try:
        notice = export_table(warehouse, args.table, Path(args.out))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"exported {args.table} to {args.out}; licence notice in {notice}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `threatwatch` command."""
    parser = argparse.ArgumentParser(prog="threatwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialize the pipeline in process and publish the warehouse")
    run.add_argument("--offline", action="store_true", help="never touch the network: latest snapshots, else bundled samples")
    run.add_argument("--select", help="Dagster asset selection, e.g. 'group:defense_spending' or 'key:staging/*'")
    run.add_argument("--worldbank-format", choices=["api", "bulk"], default="api", help="live World Bank format")
    run.set_defaults(func=_cmd_run)

    back = sub.add_parser("backfill", help="fetch and stage an event source over a partition range, then publish")
    back.add_argument("source", choices=["ucdp_ged", "acled", "gdelt"])
    back.add_argument("--start", required=True, help="first partition: a month (2024-01-01) or a day (2025-01-04)")
    back.add_argument("--end", required=True, help="last partition, inclusive")
    back.add_argument("--offline", action="store_true", help="restage from held snapshots only")
    back.add_argument("--format", default="default", help="ucdp_ged: bulk | candidate | api")
    back.add_argument("--version", default="", help="ucdp_ged release, e.g. 25.1 or 26.0.7")
    back.set_defaults(func=_cmd_backfill)

    snap = sub.add_parser("snapshot", help="import or list raw snapshots").add_subparsers(dest="action", required=True)
    imp = snap.add_parser("import", help="register files downloaded by hand as a new snapshot")
    imp.add_argument("source")
    imp.add_argument("files", nargs="+")
    imp.set_defaults(func=_cmd_snapshot_import)
    lst = snap.add_parser("list", help="list snapshots, oldest first")
    lst.add_argument("source", nargs="?")
    lst.set_defaults(func=_cmd_snapshot_list)

    sql = sub.add_parser("sql", help="run read-only SQL on the published warehouse")
    sql.add_argument("query")
    sql.add_argument("--limit", type=int, default=100)
    sql.set_defaults(func=_cmd_sql)

    export = sub.add_parser("export", help="export a table or view to .parquet or .csv, with its licence notice")
    export.add_argument("table", help="schema.table, e.g. marts.nato_burden_sharing")
    export.add_argument("out", help="output file ending in .parquet or .csv")
    export.set_defaults(func=_cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `threatwatch` console script."""
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
