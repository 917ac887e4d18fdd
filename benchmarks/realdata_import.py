"""Every real file in ../shared/data imported by hand and published, timed with peak memory.

    python -m benchmarks.realdata_import

What a user with the downloaded files does: `threatwatch snapshot import <source> <files>` for each source
(all five SIPRI vintages, both WDI vintages, the NATO workbook, EuRepoC, CFR, CISA KEV, MITRE ATT&CK, DCID,
UCDP GED/ACD, ACLED, the four GDELT files), then one `threatwatch run --offline`: stage, validate with GX,
publish. The files are the ones the real-data tests import (tests/test_*_realdata*.py); the user-edited
copies, portal exports, VCDB, the CSIS PDF, lookups and crosswalks are not source files ThreatWatch imports.
MITRE's per-group files are first joined into one STIX bundle per domain, as the real-data test does.
Skips (exit 0) when ../shared/data is absent. Results: benchmarks/results/realdata_import.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"
WDI = "defense_spending/worldbank"
WDI_VINTAGES = (  # one snapshot each: the 2026 release, then the 2024-2025 one
    [f"{WDI}/API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_211.zip",
     f"{WDI}/API_MS.MIL.XPND.CD_DS2_en_csv_v2_280448/API_MS.MIL.XPND.CD_DS2_en_csv_v2_280448.csv",
     f"{WDI}/API_MS.MIL.TOTL.P1_DS2_en_csv_v2_115556/API_MS.MIL.TOTL.P1_DS2_en_csv_v2_115556.csv"],
    [f"{WDI}/API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302/API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302.csv",
     f"{WDI}/API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302/Metadata_Country_API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302.csv",
     f"{WDI}/API_MS.MIL.XPND.CD_DS2_en_csv_v2_47475/API_MS.MIL.XPND.CD_DS2_en_csv_v2_47475.csv"],
)
SIPRI = ["SIPRI-Milex-data-1949-2020_0.xlsx", "SIPRI-Milex-data-1949-2022.xlsx", "SIPRI-Milex-data-1948-2023.xlsx",
         "SIPRI-Milex-data-1949-2024_2.xlsx", "SIPRI-Milex-data-1949-2025_v1.2.xlsx"]
GDELT = ["20250104161500", "20250104163000", "20250104164500", "20250104170000"]


def imports(bundles: Path) -> list[tuple[str, list[Path]]]:
    """(source, files) of each `snapshot import`, in the order a user would run them."""
    def shared(*rels: str) -> list[Path]:
        return [SHARED / r for r in rels]

    return [
        ("sipri", shared(*(f"defense_spending/sipri/{n}" for n in SIPRI))),
        *(("worldbank", shared(*v)) for v in WDI_VINTAGES),
        ("nato", shared("defense_spending/nato/240617-def-exp-2024-TABLES-en.xlsx")),
        ("cisa_kev", shared("cyber_incidents/cisa_kev/known_exploited_vulnerabilities.json")),
        ("dcid", shared("cyber_incidents/dcid/DCID_2.0_Release_update_February_2023.xlsx")),
        ("mitre_attack", sorted(bundles.glob("*.json"))),
        ("eurepoc", shared(*(f"cyber_incidents/eurepoc/EuRepoC_{k}_1.1.csv"
                             for k in ("Global_Database", "Attribution_dataset", "Receiver_dataset")))),
        ("cfr", shared("cyber_incidents/cfr_cyber_operations/jenniblan_jsis480/cyber-operations-incidents.csv")),
        ("ucdp_ged", shared("conflict_events/ucdp/conflict_data_ukr.csv")),
        ("ucdp_ged", shared("conflict_events/ucdp/GEDEvent_v23_1.geojson")),
        ("ucdp_acd", shared("conflict_events/ucdp/UcdpPrioConflict_v23_1.csv")),
        ("acled", shared("conflict_events/acled/acled.csv")),
        *(("gdelt", shared(f"conflict_events/gdelt/{s}.export.CSV")) for s in GDELT),
    ]


def attack_bundles(folder: Path) -> None:
    """One STIX bundle per ATT&CK domain from the per-group files (the importer reads bundles)."""
    folder.mkdir(parents=True, exist_ok=True)
    for domain in ("enterprise-attack", "mobile-attack", "ics-attack"):
        objects = []
        for path in sorted((SHARED / "cyber_incidents" / "mitre_attack" / domain / "intrusion-set").glob("*.json")):
            objects += json.loads(path.read_text(encoding="utf-8"))["objects"]
        (folder / f"{domain}.json").write_text(json.dumps({"type": "bundle", "id": f"bundle--{domain}",
                                                           "objects": objects}), encoding="utf-8")


def child(step: str, work: Path) -> dict:
    """One measured step, in this (child) process."""
    from pipelines.cli import main

    if step == "import":
        done = [main(["snapshot", "import", source, *map(str, files)]) for source, files in imports(work / "bundles")]
        if any(done):
            raise SystemExit(f"an import failed: {done}")
        return {"imports": len(done)}
    if main(["run", "--offline", "--quiet"]) != 0:
        raise SystemExit("threatwatch run --offline failed")
    return published(work)


def published(work: Path) -> dict:
    """Rows of the published core tables and views, and the size of the warehouse's data files."""
    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import ALIAS, connect_warehouse

    paths = paths_from_env(home=work / "home")
    with connect_warehouse(paths, read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = $1 "
                                            "AND table_schema = 'core' ORDER BY 1", [ALIAS]).fetchall()]
        rows = {t: con.execute(f'SELECT count(*) FROM core."{t}"').fetchone()[0] for t in tables}
    size = sum(f.stat().st_size for f in Path(paths.data_path).rglob("*") if f.is_file())
    return {"publish": "ducklake", "core_rows": rows, "warehouse_mb": round(size / 2**20, 1)}


def measure(step: str, work: Path) -> dict:
    """A step in its own process: wall time, peak RSS and what it returned."""
    env = {**os.environ, "THREATWATCH_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "dagster_home")}
    for name in ("THREATWATCH_WAREHOUSE", "THREATWATCH_CATALOG", "THREATWATCH_DATA_PATH"):
        env.pop(name, None)  # the embedded default under the benchmark's own home
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.realdata_import", "--child", step, str(work)],
                            stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"step {step} failed (status {status})")
    return {"step": step, "seconds": round(time.perf_counter() - began, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            **json.loads(out.decode().strip().splitlines()[-1])}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], Path(sys.argv[3]))))
        return
    if not SHARED.is_dir():
        print(f"skipped: no real data at {SHARED}")
        return
    work = Path("/tmp/threatwatch-realdata-import")
    shutil.rmtree(work, ignore_errors=True)
    attack_bundles(work / "bundles")
    files = [p for _, group in imports(work / "bundles") for p in group]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise SystemExit(f"real data incomplete, missing: {missing}")
    steps = [measure(step, work) for step in ("import", "run")]
    for step in steps:
        print(json.dumps(step))
    total = sum(s["seconds"] for s in steps)
    peak = max(s["peak_rss_mb"] for s in steps)
    print(f"\n{len(files)} files, {sum(p.stat().st_size for p in files) / 2**20:.1f} MB: imported in "
          f"{steps[0]['seconds']:.1f} s, staged, validated and published in {steps[1]['seconds']:.1f} s "
          f"({total:.1f} s in all, peak RSS {peak:.0f} MB; publish: {steps[1]['publish']})")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "realdata_import.json"
    out.write_text(json.dumps({"files": len(files), "cpus": os.cpu_count(), "steps": steps}, indent=2) + "\n",
                   encoding="utf-8")
    print(f"wrote {out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
