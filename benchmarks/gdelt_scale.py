"""GDELT at scale: synthetic export files of N events, staged, validated and published by the real code path.

    python -m benchmarks.gdelt_scale --events 1000000            # ~400 files of 2,500 rows, ~4 days
    python -m benchmarks.gdelt_scale --events 10000000 --keep    # ~4,000 files, ~42 days

Each phase runs in its own process, so its peak memory (max RSS) is its own. The last phases add one new
15-minute file to the newest day, stage it incrementally (as the sensor does) and publish again: the cost
of a new file against the cost of the history. Results go to benchmarks/results/gdelt_<N>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl

RESULTS = Path(__file__).resolve().parent / "results"
START = datetime(2025, 3, 1, tzinfo=timezone.utc)
SLOT = timedelta(minutes=15)
# A small, realistic vocabulary: CAMEO codes with leading zeros, FIPS action-geo countries, CAMEO actors.
EVENT_CODES = ["010", "0211", "036", "040", "042", "043", "051", "057", "112", "120", "130", "141", "145", "173",
               "180", "183", "190", "193", "195"]
QUAD = {"01": 1, "02": 1, "03": 1, "04": 1, "05": 1, "11": 3, "12": 3, "13": 3, "14": 3, "17": 4, "18": 4, "19": 4}
FIPS = ["US", "UK", "IS", "NI", "GM", "RS", "UP", "CH", "IN", "SY", "IZ", "AF", "FR", "TU", "PK", "SU", "CG"]
ACTORS = [("USA", "UNITED STATES"), ("RUS", "RUSSIA"), ("UKR", "UKRAINE"), ("ISR", "ISRAEL"), ("GOV", "GOVERNMENT"),
          ("MIL", "MILITARY"), ("REB", "REBEL"), ("", "")]


def export_frame(first_id: int, rows: int, stamp: datetime, rng: np.random.Generator) -> pl.DataFrame:
    """One 15-minute export: 61 tab-separated columns in GDELT 2.0 order, synthetic but well formed."""
    from transforms.conflict_events.gdelt import GDELT_EVENT_COLUMNS

    code = rng.choice(EVENT_CODES, rows)
    root = np.array([c[:2] for c in code])
    actor1 = rng.integers(0, len(ACTORS), rows)
    actor2 = rng.integers(0, len(ACTORS), rows)
    fips = rng.choice(FIPS, rows)
    geo_type = rng.choice([0, 1, 3, 4], rows, p=[0.03, 0.4, 0.2, 0.37])
    lat = np.where(geo_type == 0, np.nan, rng.uniform(-60, 70, rows).round(4))
    lon = np.where(geo_type == 0, np.nan, rng.uniform(-170, 170, rows).round(4))
    days_back = rng.choice([0, 0, 0, 1, 7, 30], rows)
    event_day = [(stamp - timedelta(days=int(d))).strftime("%Y%m%d") for d in days_back]
    values: dict[str, object] = {name: [""] * rows for name in GDELT_EVENT_COLUMNS}
    values.update({
        "GLOBALEVENTID": [str(first_id + i) for i in range(rows)],
        "SQLDATE": event_day,
        "MonthYear": [d[:6] for d in event_day],
        "Year": [d[:4] for d in event_day],
        "FractionDate": [f"{int(d[:4]) + (int(d[4:6]) - 1) / 12:.4f}" for d in event_day],
        "Actor1Code": [ACTORS[i][0] for i in actor1], "Actor1Name": [ACTORS[i][1] for i in actor1],
        "Actor2Code": [ACTORS[i][0] for i in actor2], "Actor2Name": [ACTORS[i][1] for i in actor2],
        "IsRootEvent": rng.choice(["0", "1"], rows).tolist(),
        "EventCode": code.tolist(), "EventBaseCode": [c[:3] for c in code], "EventRootCode": root.tolist(),
        "QuadClass": [str(QUAD.get(r, 2)) for r in root],
        "GoldsteinScale": rng.uniform(-10, 10, rows).round(1).astype(str).tolist(),
        "NumMentions": rng.integers(1, 40, rows).astype(str).tolist(),
        "NumSources": rng.integers(1, 10, rows).astype(str).tolist(),
        "NumArticles": rng.integers(1, 40, rows).astype(str).tolist(),
        "AvgTone": rng.uniform(-10, 5, rows).round(6).astype(str).tolist(),
        "ActionGeo_Type": geo_type.astype(str).tolist(),
        "ActionGeo_FullName": [f"Place {i % 997}, {f}" if t else "" for i, (f, t) in enumerate(zip(fips, geo_type))],
        "ActionGeo_CountryCode": [f if t else "" for f, t in zip(fips, geo_type)],
        "ActionGeo_ADM1Code": [f"{f}0{i % 9}" if t else "" for i, (f, t) in enumerate(zip(fips, geo_type))],
        "ActionGeo_Lat": ["" if np.isnan(v) else str(v) for v in lat],
        "ActionGeo_Long": ["" if np.isnan(v) else str(v) for v in lon],
        "ActionGeo_FeatureID": [str(-(i % 50000)) if t else "" for i, t in enumerate(geo_type)],
        "DATEADDED": [stamp.strftime("%Y%m%d%H%M%S")] * rows,
        "SOURCEURL": [f"https://news.example.org/{first_id + i}" for i in range(rows)],
    })
    return pl.DataFrame(values, schema={c: pl.Utf8 for c in GDELT_EVENT_COLUMNS})


def write_export(folder: Path, first_id: int, rows: int, stamp: datetime, rng: np.random.Generator) -> tuple[Path, str, int]:
    """Write `<ts>.export.CSV.zip` as GDELT does (one member, tab-separated, no header, no quoting)."""
    name = f"{stamp:%Y%m%d%H%M%S}.export.CSV"
    text = io.BytesIO()
    export_frame(first_id, rows, stamp, rng).write_csv(text, separator="\t", include_header=False, quote_style="never")
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6]), text.getvalue(), zipfile.ZIP_DEFLATED)
    data = path.read_bytes()
    return path, hashlib.md5(data).hexdigest(), len(data)


def phase_generate(work: Path, events: int, rows_per_file: int) -> dict:
    """Write the export zips and a masterfilelist.txt with their sizes and md5s."""
    folder = work / "published"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20250301)
    lines, made, stamp = [], 0, START
    while made < events:
        rows = min(rows_per_file, events - made)
        path, md5, size = write_export(folder, 1_000_000_000 + made, rows, stamp, rng)
        lines.append(f"{size} {md5} http://data.gdeltproject.org/gdeltv2/{path.name}")
        made += rows
        stamp += SLOT
    (folder / "masterfilelist.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"files": len(lines), "events": made, "first": START.isoformat(), "last": (stamp - SLOT).isoformat()}


def _register(work: Path, names: list[str] | None = None) -> int:
    from pipelines.lib.acquire import register_event_sample
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.snapshots import SnapshotStore
    from transforms.conflict_events.gdelt_files import parse_gdelt_file_list

    folder = work / "published"
    listing = parse_gdelt_file_list((folder / "masterfilelist.txt").read_text(encoding="utf-8"), "masterfilelist.txt")
    params = {r["file_name"]: {"expected_md5": r["md5"], "expected_size": r["size"]} for r in listing.iter_rows(named=True)}
    store = SnapshotStore(paths_from_env().snapshots)
    chosen = names or sorted(params)
    for name in chosen:
        register_event_sample(store, "gdelt", [folder / name], params)
    return len(chosen)


def _days(work: Path) -> tuple[str, ...]:
    names = [p.name for p in (work / "published").glob("*.export.CSV.zip")]
    return tuple(sorted({f"{n[:4]}-{n[4:6]}-{n[6:8]}" for n in names}))


def phase_stage(work: Path, incremental: bool = False, days: tuple[str, ...] | None = None) -> dict:
    """Stage the days (replace), or only the newest day's new file (incremental, as the sensor does)."""
    from pipelines.lib.partition_staging import stage_window
    from pipelines.defs.gdelt.assets import SPEC
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.lake import Lake
    from pipelines.lib.reference import load_country_crosswalk
    from pipelines.lib.snapshots import SnapshotStore

    paths = paths_from_env()
    counts, _ = stage_window(SPEC, SnapshotStore(paths.snapshots), Lake(paths.lake), days or _days(work),
                          load_country_crosswalk(), incremental=incremental)
    return {"rows_staged": sum(n for by in counts.values() for n in by.values()), "partitions": len(counts)}


def phase_validate() -> dict:
    """Run the GX suite on every staged partition file without a verdict."""
    from pipelines.lib.source_checks import validate_pending
    from pipelines.defs.gdelt.assets import SPEC
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.lake import Lake

    reports = validate_pending(SPEC, Lake(paths_from_env().lake), None)
    return {"partitions_validated": len(reports), "rows": sum(r.row_count for _, r in reports),
            "all_passed": all(r.success for _, r in reports)}


def phase_publish() -> dict:
    """Load every validated staged file into the DuckLake warehouse and commit it."""
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import connect_warehouse
    from pipelines.lib.publish import publish_warehouse

    paths = paths_from_env()
    publish_warehouse(paths)
    with connect_warehouse(paths, read_only=True) as con:
        events = con.execute("SELECT count(*) FROM core.fct_conflict_event WHERE source = 'gdelt'").fetchone()[0]
        monthly = con.execute("SELECT count(*) FROM marts.conflict_monthly").fetchone()[0]
    return {"gdelt_events_published": events, "conflict_monthly_rows": monthly,
            "warehouse_mb": round(sum(f.stat().st_size for f in Path(paths.data_path).rglob("*") if f.is_file()) / 2**20, 1)}


def phase_new_file(work: Path, rows: int) -> dict:
    """One more 15-minute file after the last, appended to the master list, registered as a snapshot."""
    folder = work / "published"
    listing = (folder / "masterfilelist.txt").read_text(encoding="utf-8").splitlines()
    last = datetime.strptime(listing[-1].rsplit("/", 1)[1][:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    # ids after every earlier new file's, so several new files never repeat an event id
    path, md5, size = write_export(folder, 2_000_000_000 + len(listing) * rows, rows, last + SLOT,
                                   np.random.default_rng(len(listing)))
    listing.append(f"{size} {md5} http://data.gdeltproject.org/gdeltv2/{path.name}")
    (folder / "masterfilelist.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
    _register(work, [path.name])
    return {"file": path.name, "rows": rows}


def phase_sensor_run(work: Path) -> dict:
    """What the GDELT sensor's run does with the new file, in process: the offline snapshot asset, staging
    (incremental) and the blocking GX check on the newest day; each step's own seconds from the run's events."""
    from dagster import DagsterEventType, DagsterInstance

    from pipelines.definitions import build_definitions
    from pipelines.lib.source_spec import INCREMENTAL_TAG

    job = build_definitions(offline=True).resolve_job_def("gdelt_job")
    began = time.perf_counter()
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, partition_key=_days(work)[-1], raise_on_error=False,
                                        tags={INCREMENTAL_TAG: "true"})
        run_seconds = time.perf_counter() - began
        starts, steps = {}, {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is not None and event.event_type == DagsterEventType.STEP_START:
                starts[event.step_key] = entry.timestamp
            elif event is not None and event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                steps[event.step_key] = round(entry.timestamp - starts[event.step_key], 2)
    return {"success": result.success, "run_seconds": round(run_seconds, 2), "step_seconds": steps}


def run_phase(name: str, work: Path, args: list[str]) -> dict:
    """Run one phase in a child process: its wall time, its own peak RSS, and what it returned."""
    command = [sys.executable, "-m", "benchmarks.gdelt_scale", "--phase", name, "--workdir", str(work), *args]
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, env={**os.environ, "THREATWATCH_HOME": str(work / "home")})
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"phase {name} failed (status {status})")
    return {"phase": name, "seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            **json.loads(out.decode().strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rows-per-file", type=int, default=2_500)  # ~240k events a day, GDELT's order
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.workdir or Path(f"/tmp/threatwatch-bench-{args.events}")
    if args.phase:
        result = {
            "generate": lambda: phase_generate(work, args.events, args.rows_per_file),
            "register": lambda: {"snapshots": _register(work)},
            "stage": lambda: phase_stage(work),
            "validate": phase_validate,
            "publish": phase_publish,
            "new_file": lambda: phase_new_file(work, args.rows_per_file),
            "stage_new_file": lambda: phase_stage(work, incremental=True, days=_days(work)[-1:]),
            "sensor_run": lambda: phase_sensor_run(work),
        }[args.phase]()
        print(json.dumps(result))
        return
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    phases = ["generate", "register", "stage", "validate", "publish", "new_file", "stage_new_file", "validate",
              "publish", "new_file", "sensor_run"]
    results = []
    for name in phases:
        results.append(run_phase(name, work, ["--events", str(args.events), "--rows-per-file", str(args.rows_per_file)]))
        print(json.dumps(results[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"gdelt_{args.events}.json"
    out.write_text(json.dumps({"events": args.events, "rows_per_file": args.rows_per_file, "cpus": os.cpu_count(),
                               "phases": results}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
