"""The DuckLake warehouse at 1M and 10M GDELT events of history, side by side, in one command:

    nice -n 10 python -m benchmarks.lakehouse_scale                      # 1M and 10M, 3 new files each
    python -m benchmarks.lakehouse_scale --history 200000 --new-files 2   # a quick look

For each history size: synthetic GDELT export files (benchmarks/gdelt_scale.py) are registered, staged and
validated; the whole history is published, and the same staged files are loaded by a bare DuckDB
`read_parquet` into a fresh DuckLake (what the publish cannot beat); then, several times, one new 15-minute
file (2,500 events) goes through what the GDELT sensor's run does (snapshot, stage, validate, in one Dagster
run) and a publish. Every phase runs in its own process: its wall time and its own peak RSS. Work seconds
exclude the interpreter's start (imports), which a long-running Dagster process does not pay per run.

Targets (issue 10): a new file's stage + validate + publish median <= 10 s, within +-20 % between the two
histories; full publish <= 1.5 x the bare insert; every phase's peak RSS <= 2 GiB.
Results: benchmarks/results/lakehouse_scale.json. `--prepare-only` (or `--keep`) then `--reuse` measures on a
history prepared earlier (same sizes and work folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
GDELT_TABLE = "stg_gdelt_event"
HISTORY_PHASES = ["generate", "register", "stage", "validate"]  # benchmarks.gdelt_scale's own phases


def _staged_files(home: Path) -> list[str]:
    return sorted(str(p) for p in (home / "lake" / GDELT_TABLE).glob("2*/*.parquet")
                  if not p.name.endswith(".quarantine.parquet"))


def phase_publish() -> dict:
    """Publish the warehouse from the lake; the publish's own seconds and what the warehouse then holds."""
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import connect_warehouse
    from pipelines.lib.publish import publish_warehouse

    paths = paths_from_env()
    began = time.perf_counter()
    publish_warehouse(paths)
    seconds = time.perf_counter() - began
    with connect_warehouse(paths, read_only=True) as con:
        events = con.execute("SELECT count(*) FROM core.fct_conflict_event WHERE source = 'gdelt'").fetchone()[0]
        files = con.execute("SELECT count(*) FROM ducklake_list_files('warehouse', 'fct_conflict_event', "
                            "schema => 'core')").fetchone()[0]
    return {"work_seconds": round(seconds, 2), "gdelt_events": events, "event_table_files": files}


def phase_bare_insert(work: Path) -> dict:
    """The floor: every staged GDELT file, read_parquet into one table of a fresh DuckLake, nothing else."""
    import duckdb

    from pipelines.lib.ducklake import load_extensions

    files = _staged_files(work / "home")
    bare = work / "bare"
    shutil.rmtree(bare, ignore_errors=True)
    bare.mkdir()
    con = duckdb.connect()
    load_extensions(con, ("ducklake", "sqlite_scanner"))
    con.execute(f"ATTACH 'ducklake:sqlite:{bare / 'catalog.sqlite'}' AS bare (DATA_PATH '{bare / 'data'}/')")
    began = time.perf_counter()
    con.execute("CREATE TABLE bare.events AS SELECT * FROM read_parquet($1, union_by_name = true)", [files])
    seconds = time.perf_counter() - began
    rows = con.execute("SELECT count(*) FROM bare.events").fetchone()[0]
    con.close()
    shutil.rmtree(bare, ignore_errors=True)
    return {"work_seconds": round(seconds, 2), "rows": rows, "files_read": len(files)}


def run_phase(module: str, name: str, work: Path, args: list[str]) -> dict:
    """One phase in a child process (niced like this one): wall time, its own peak RSS, what it returned."""
    command = [sys.executable, "-m", module, "--phase", name, "--workdir", str(work), *args]
    began = time.perf_counter()
    with open(work / "phases.log", "a", encoding="utf-8") as log:  # Dagster's run log, kept out of the table
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log,
                                 env={**os.environ, "THREATWATCH_HOME": str(work / "home"),
                                      "DAGSTER_HOME": str(work / "dagster_home")})
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"phase {name} ({module}) failed with status {status}: see {work / 'phases.log'}")
    return {"phase": name, "seconds": round(time.perf_counter() - began, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), **json.loads(out.decode().strip().splitlines()[-1])}


def measure(events: int, new_files: int, rows_per_file: int, work: Path, reuse: bool, log,
            prepare_only: bool = False) -> dict:
    """Every phase for one history size (only the history's, with `prepare_only`)."""
    gdelt = ["--events", str(events), "--rows-per-file", str(rows_per_file)]
    phases = []
    prepared = work / "history.json"
    if reuse and prepared.exists():
        phases = json.loads(prepared.read_text(encoding="utf-8"))
        log(f"{events:,}: reusing the prepared history in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
        (work / "dagster_home").mkdir(parents=True)
        shutil.copyfile(Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml",
                        work / "dagster_home" / "dagster.yaml")
        for name in HISTORY_PHASES:
            phases.append(run_phase("benchmarks.gdelt_scale", name, work, gdelt))
            log(f"{events:,}: {json.dumps(phases[-1])}")
        prepared.write_text(json.dumps(phases), encoding="utf-8")
    if prepare_only:
        return {"events": events, "phases": phases}
    for existing in (work / "home").glob("catalog.sqlite*"):  # a reused history is published afresh
        existing.unlink()
    shutil.rmtree(work / "home" / "warehouse", ignore_errors=True)
    full = run_phase("benchmarks.lakehouse_scale", "publish", work, [])
    bare = run_phase("benchmarks.lakehouse_scale", "bare_insert", work, [])
    phases += [{**full, "phase": "publish history"}, {**bare, "phase": "bare read_parquet insert"}]
    log(f"{events:,}: {json.dumps(full)}\n{events:,}: {json.dumps(bare)}")
    cycles = []
    for n in range(new_files):
        added = run_phase("benchmarks.gdelt_scale", "new_file", work, gdelt)
        run = run_phase("benchmarks.gdelt_scale", "sensor_run", work, gdelt)
        publish = run_phase("benchmarks.lakehouse_scale", "publish", work, [])
        if not run.get("success"):
            raise SystemExit(f"the sensor's run of new file {added['file']} failed")
        cycles.append({"file": added["file"], "stage_validate_seconds": run["run_seconds"],
                       "publish_seconds": publish["work_seconds"],
                       "work_seconds": round(run["run_seconds"] + publish["work_seconds"], 2),
                       "wall_seconds": round(run["seconds"] + publish["seconds"], 2),
                       "peak_rss_mb": max(run["peak_rss_mb"], publish["peak_rss_mb"]), "steps": run["step_seconds"]})
        phases += [{**run, "phase": f"new file {n + 1}: snapshot + stage + validate run"},
                   {**publish, "phase": f"new file {n + 1}: publish"}]
        log(f"{events:,}: new file {n + 1}: {json.dumps(cycles[-1])}")
    return {"events": events, "phases": phases, "cycles": cycles,
            "new_file_median_seconds": round(statistics.median(c["work_seconds"] for c in cycles), 2),
            "new_file_median_wall_seconds": round(statistics.median(c["wall_seconds"] for c in cycles), 2),
            "publish_vs_bare": round(full["work_seconds"] / bare["work_seconds"], 2),
            "peak_rss_mb": max(p["peak_rss_mb"] for p in phases)}


def render(runs: list[dict]) -> str:
    """The side-by-side table and the three targets."""
    head = "| phase | " + " | ".join(f"{r['events']:,}: s / peak MB" for r in runs) + " |"
    lines = [head, "|---|" + "---|" * len(runs)]
    names = list(dict.fromkeys(p["phase"] for r in runs for p in r["phases"]))
    for name in names:
        cells = []
        for r in runs:
            p = next((p for p in r["phases"] if p["phase"] == name), None)
            work = f" (work {p['work_seconds']})" if p and "work_seconds" in p else ""
            cells.append(f"{p['seconds']}{work} / {p['peak_rss_mb']:.0f}" if p else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for r in runs:
        lines.append(f"{r['events']:,} history: new file stage + validate + publish median {r['new_file_median_seconds']} s "
                     f"of work ({r['new_file_median_wall_seconds']} s with each process's start; target <= 10); "
                     f"full publish / bare insert {r['publish_vs_bare']} (target <= 1.5); "
                     f"peak RSS {r['peak_rss_mb']:.0f} MB (target <= 2048)")
    if len(runs) >= 2:
        small, large = runs[0]["new_file_median_seconds"], runs[-1]["new_file_median_seconds"]
        lines.append(f"new file at {runs[-1]['events']:,} vs {runs[0]['events']:,}: {large / small - 1:+.0%} "
                     "(target within +-20 %)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--new-files", type=int, default=3)
    parser.add_argument("--rows-per-file", type=int, default=2_500)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/threatwatch-lakehouse"))
    parser.add_argument("--reuse", action="store_true", help="reuse a history prepared by an earlier run")
    parser.add_argument("--keep", action="store_true", help="keep the work folders (needed for --reuse)")
    parser.add_argument("--prepare-only", action="store_true", help="prepare (and keep) the histories, measure nothing")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = {"publish": phase_publish, "bare_insert": lambda: phase_bare_insert(args.workdir)}[args.phase]()
        print(json.dumps(result))
        return
    runs = []
    for events in args.history:
        work = args.workdir / str(events)
        runs.append(measure(events, args.new_files, args.rows_per_file, work, args.reuse,
                            lambda line: print(line, flush=True), args.prepare_only))
        if not (args.keep or args.prepare_only):
            shutil.rmtree(work, ignore_errors=True)
    if args.prepare_only:
        return
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "lakehouse_scale.json"
    out.write_text(json.dumps({"cpus": os.cpu_count(), "rows_per_file": args.rows_per_file, "runs": runs},
                              indent=2) + "\n", encoding="utf-8")
    print(render(runs))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
