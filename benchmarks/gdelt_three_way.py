"""ThreatWatch's GDELT import beside two peers, on the same synthetic zipped 15-minute export files.

    python -m benchmarks.gdelt_three_way --events 1000000     # 400 files of 2,500 events
    python -m benchmarks.gdelt_three_way --events 10000000    # 4,000 files

The three paths (issue 12), each in its own child process so its wall time and peak RSS are its own:
- duckdb: unzip every export, then one bare DuckDB `read_csv` of the unzipped files into a table of the
  database file: 61 varchar columns, no cleaning, no typing (the floor of "load the files").
- pandas: the staging step a user writes in an afternoon: read each zip with pandas, type the numeric and
  date columns, keep QuadClass 3-4, write one Parquet file (a row group per 100 files, so memory stays flat).
- threatwatch: `threatwatch snapshot import gdelt <files>` then `threatwatch backfill gdelt --offline`
  over the files' days: checked unzip, staging with quarantine, the blocking GX suite on every row, publish.
The export files come from benchmarks.gdelt_scale's generator, written once per size and kept in
/tmp/threatwatch-gdelt-<events>/published (seeded: the same bytes every time). `--profile` runs the
backfill under cProfile and prints its top entries. Results: benchmarks/results/three_way_<events>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PATHS = ("duckdb", "pandas", "threatwatch")
PANDAS_FILES_PER_ROW_GROUP = 100


def exports(folder: Path) -> list[Path]:
    """The generated export zips, oldest first."""
    return sorted(folder.glob("*.export.CSV.zip"))


def ensure_exports(events: int, rows_per_file: int) -> Path:
    """Generate the export zips once per size (seeded, so a kept folder holds the same bytes)."""
    from benchmarks.gdelt_scale import phase_generate

    base = Path(f"/tmp/threatwatch-gdelt-{events}-{rows_per_file}")
    done = base / "generated.json"
    if not done.exists():
        shutil.rmtree(base, ignore_errors=True)
        info = phase_generate(base, events, rows_per_file)
        done.write_text(json.dumps(info), encoding="utf-8")
    return base / "published"


def run_duckdb(folder: Path, work: Path) -> dict:
    """Unzip every export, then one all-varchar read_csv of them into a table."""
    import duckdb

    from transforms.conflict_events.gdelt import GDELT_EVENT_COLUMNS

    unzipped = work / "unzipped"
    unzipped.mkdir(parents=True)
    began = time.perf_counter()
    for path in exports(folder):
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unzipped)
    unzip_seconds = time.perf_counter() - began
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in GDELT_EVENT_COLUMNS) + "}"
    with duckdb.connect(str(work / "bare.duckdb")) as con:
        con.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{unzipped}/*.export.CSV', delim='\t', "
                    f"header=false, quote='', escape='', columns={columns})")
        rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
    return {"rows": rows, "unzip_seconds": round(unzip_seconds, 2),
            "read_csv_seconds": round(time.perf_counter() - began - unzip_seconds, 2)}


def _pandas_stage(path: Path, columns: tuple[str, ...]):
    """One export: read as text, type it, keep QuadClass 3-4."""
    import csv

    import pandas as pd

    frame = pd.read_csv(path, compression="zip", sep="\t", header=None, names=list(columns), dtype=str,
                        quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=[""])
    for column in ("GLOBALEVENTID", "NumMentions", "NumSources", "NumArticles", "QuadClass", "ActionGeo_Type"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    for column in ("GoldsteinScale", "AvgTone", "ActionGeo_Lat", "ActionGeo_Long"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["SQLDATE"] = pd.to_datetime(frame["SQLDATE"], format="%Y%m%d", errors="coerce")
    frame["DATEADDED"] = pd.to_datetime(frame["DATEADDED"], format="%Y%m%d%H%M%S", errors="coerce", utc=True)
    return frame[frame["QuadClass"].isin([3, 4])]


def run_pandas(folder: Path, work: Path) -> dict:
    """Read, type, filter QuadClass 3-4 and write one Parquet file, a row group per 100 files."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from transforms.conflict_events.gdelt import GDELT_EVENT_COLUMNS

    files, rows, writer = exports(folder), 0, None
    try:
        for first in range(0, len(files), PANDAS_FILES_PER_ROW_GROUP):
            chunk = pd.concat([_pandas_stage(p, GDELT_EVENT_COLUMNS)
                               for p in files[first:first + PANDAS_FILES_PER_ROW_GROUP]], ignore_index=True)
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer = writer or pq.ParquetWriter(work / "events.parquet", table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return {"rows": rows}


def _threatwatch(args: list[str], work: Path, profile: Path | None = None) -> None:
    """Run the CLI in this process's child, on the benchmark's own home and Dagster instance."""
    runner = ["-m", "cProfile", "-o", str(profile)] if profile else []
    command = [sys.executable, *runner, "-m", "pipelines.cli", *args]
    env = {**os.environ, "THREATWATCH_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "dagster_home")}
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def run_threatwatch_setup(folder: Path, work: Path) -> dict:
    """Create the Dagster instance an installation already has (its SQLite stores and their migrations: a
    one-off of seconds on a loaded disk, which would otherwise land on the first backfill)."""
    code = "from pipelines.lib.instance import persistent_instance\nwith persistent_instance(): pass"
    env = {**os.environ, "THREATWATCH_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "dagster_home")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return {}


def run_threatwatch_import(folder: Path, work: Path) -> dict:
    """`threatwatch snapshot import gdelt <every export>`."""
    files = exports(folder)
    _threatwatch(["snapshot", "import", "gdelt", *map(str, files)], work)
    return {"files": len(files)}


def run_threatwatch_backfill(folder: Path, work: Path, profile: Path | None = None) -> dict:
    """`threatwatch backfill gdelt --offline` over the exports' days: stage, validate, publish."""
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import connect_warehouse

    names = [p.name for p in exports(folder)]
    days = sorted({f"{n[:4]}-{n[4:6]}-{n[6:8]}" for n in names})
    _threatwatch(["backfill", "gdelt", "--offline", "--start", days[0], "--end", days[-1], "--quiet"], work, profile)
    paths = paths_from_env(home=work / "home")
    result = {"days": len(days), "publish": "ducklake"}
    with connect_warehouse(paths, read_only=True) as con:
        result["gdelt_events_published"] = con.execute(
            "SELECT count(*) FROM core.fct_conflict_event WHERE source = 'gdelt'").fetchone()[0]
    return result


def child(name: str, folder: Path, work: Path, profile: Path | None) -> dict:
    """Run one measured step in this (child) process."""
    if name == "threatwatch_backfill":
        return run_threatwatch_backfill(folder, work, profile)
    steps = {"duckdb": run_duckdb, "pandas": run_pandas, "threatwatch_setup": run_threatwatch_setup,
             "threatwatch_import": run_threatwatch_import}
    return steps[name](folder, work)


def measure(name: str, folder: Path, work: Path, profile: Path | None = None) -> dict:
    """One step in a child process (and its children): wall time, the largest peak RSS, what it returned."""
    command = [sys.executable, "-m", "benchmarks.gdelt_three_way", "--child", name, "--folder", str(folder),
               "--workdir", str(work), *(["--profile-out", str(profile)] if profile else [])]
    began = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"{name} failed (status {status})")
    reported = json.loads(out.decode().strip().splitlines()[-1])
    # ru_maxrss of a child is its own; the CLI runs in a grandchild, whose peak the child reports
    peak_kb = max(usage.ru_maxrss, reported.pop("_children_maxrss_kb", 0))
    return {"step": name, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1), **reported}


def table(results: dict[str, dict]) -> str:
    """The three-way table with ratios against the bare DuckDB load and the pandas step."""
    tw_seconds = results["threatwatch_import"]["seconds"] + results["threatwatch_backfill"]["seconds"]
    tw_rss = max(results["threatwatch_import"]["peak_rss_mb"], results["threatwatch_backfill"]["peak_rss_mb"])
    rows = [("threatwatch: snapshot import + backfill gdelt --offline", tw_seconds, tw_rss),
            ("bare DuckDB read_csv (unzip + all varchar)", results["duckdb"]["seconds"], results["duckdb"]["peak_rss_mb"]),
            ("plain pandas staging (read, type, filter, Parquet)", results["pandas"]["seconds"],
             results["pandas"]["peak_rss_mb"])]
    lines = ["| path | wall s | peak RSS MB | / duckdb | / pandas |", "|---|---|---|---|---|"]
    for name, seconds, rss in rows:
        lines.append(f"| {name} | {seconds:.1f} | {rss:.0f} | {seconds / results['duckdb']['seconds']:.2f}x "
                     f"| {seconds / results['pandas']['seconds']:.2f}x |")
    tw = results
    lines.append(f"\nthreatwatch: import {tw['threatwatch_import']['seconds']:.1f} s, backfill "
                 f"{tw['threatwatch_backfill']['seconds']:.1f} s (publish: {tw['threatwatch_backfill']['publish']}; "
                 f"creating the Dagster instance beforehand, not counted: {tw['threatwatch_setup']['seconds']:.1f} s); "
                 f"duckdb: unzip {tw['duckdb']['unzip_seconds']} s + read_csv {tw['duckdb']['read_csv_seconds']} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rows-per-file", type=int, default=2_500)
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated subset of duckdb,pandas,threatwatch")
    parser.add_argument("--profile", action="store_true", help="run the backfill under cProfile; print its top entries")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import resource

        result = child(args.child, args.folder, args.workdir, args.profile_out)
        result["_children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(json.dumps(result))
        return
    folder = ensure_exports(args.events, args.rows_per_file)
    work = Path(f"/tmp/threatwatch-three-way-{args.events}")
    chosen = args.paths.split(",")
    results: dict[str, dict] = {}
    steps = [(p,) if p != "threatwatch" else ("threatwatch_setup", "threatwatch_import", "threatwatch_backfill")
             for p in chosen]
    for step in (s for group in steps for s in group):
        where = work / ("threatwatch" if step.startswith("threatwatch") else step)
        if step in ("duckdb", "pandas", "threatwatch_setup"):  # import and backfill work on what setup left
            shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True, exist_ok=True)
        profile = Path(f"/tmp/threatwatch-backfill-{args.events}.prof") if args.profile and step == "threatwatch_backfill" else None
        results[step] = measure(step, folder, where, profile)
        print(json.dumps(results[step]), flush=True)
        if profile:
            import pstats

            pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(45)
    if set(PATHS) <= set(chosen):
        print(table(results))
    if args.profile or not set(PATHS) <= set(chosen):  # a partial or profiled run is not a result
        shutil.rmtree(work, ignore_errors=True)
        return
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"three_way_{args.events}.json"
    out.write_text(json.dumps({"events": args.events, "rows_per_file": args.rows_per_file, "cpus": os.cpu_count(),
                               "steps": results}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
