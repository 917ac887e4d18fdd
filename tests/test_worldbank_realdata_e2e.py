"""Real WDI files imported by hand and published: every country value reaches the warehouse unchanged."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.config import paths_from_env
from pipelines.run import run_pipeline
from tests.conftest import shared_path
from tests.warehouse_compare import open_warehouse

pytestmark = pytest.mark.realdata

WB = ("defense_spending", "worldbank")
VINTAGES = {
    "2026": [
        "API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_211.zip",
        "API_MS.MIL.XPND.CD_DS2_en_csv_v2_280448/API_MS.MIL.XPND.CD_DS2_en_csv_v2_280448.csv",
        "API_MS.MIL.TOTL.P1_DS2_en_csv_v2_115556/API_MS.MIL.TOTL.P1_DS2_en_csv_v2_115556.csv",
    ],
    "2024-2025": [
        "API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302/API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302.csv",
        "API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302/Metadata_Country_API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2_26302.csv",
        "API_MS.MIL.XPND.CD_DS2_en_csv_v2_47475/API_MS.MIL.XPND.CD_DS2_en_csv_v2_47475.csv",
    ],
}
MEASURE = {"MS.MIL.XPND.GD.ZS": "share_of_gdp", "MS.MIL.XPND.CD": "current_usd", "MS.MIL.TOTL.P1": "armed_forces_personnel"}


def _texts(path: Path) -> list[tuple[str, str]]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            return [(n, z.read(n).decode("utf-8-sig")) for n in z.namelist()]
    return [(path.name, path.read_bytes().decode("utf-8-sig"))]


def independent_reading(paths: list[Path]) -> dict[tuple[str, int, str], float]:
    """Country values read with the csv module alone: aggregates are codes with an empty Region."""
    values, aggregates = {}, {"INX"}
    for path in paths:
        for name, text in _texts(path):
            rows = list(csv.reader(io.StringIO(text)))
            if name.startswith("Metadata_Country"):
                header = rows[0]
                aggregates |= {r[0] for r in rows[1:] if r and r[header.index("Region")] == ""}
            elif name.startswith("API_"):
                start = next(i for i, r in enumerate(rows) if r and r[0] == "Country Name")
                header = rows[start]
                for r in rows[start + 1:]:
                    if not r:
                        continue
                    for col, cell in zip(header[4:], r[4:]):
                        if col and cell != "":
                            values[(r[1], int(col), MEASURE[r[3]])] = float(cell)
    return {k: v for k, v in values.items() if k[0] not in aggregates}


@pytest.mark.parametrize("vintage", sorted(VINTAGES))
def test_imported_real_files_publish_identical_numbers(vintage: str, tw_home: Path):
    paths = [shared_path(*WB, *rel.split("/")) for rel in VINTAGES[vintage]]
    assert main(["snapshot", "import", "worldbank", *map(str, paths)]) == 0
    summary = run_pipeline(offline=True)
    assert summary.success, summary.render()
    expected = independent_reading(paths)
    with open_warehouse() as con:
        published = {
            (iso3, year, measure): value
            for iso3, year, measure, value in con.execute(
                "SELECT iso3, year, measure, value FROM core.fct_military_expenditure WHERE source = 'worldbank'"
            ).fetchall()
        }
        quarantined = con.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'worldbank'").fetchone()[0]
    assert quarantined == 0
    assert published == expected  # same keys, bit-identical values, no aggregate among them
    assert len(published) > 10_000


def test_two_real_vintages_are_both_kept_and_revisions_show_the_moves(tw_home: Path):
    older = [shared_path(*WB, *rel.split("/")) for rel in VINTAGES["2024-2025"][:2]]  # GD.ZS, Last Updated 2025-03-24
    newer = [shared_path(*WB, VINTAGES["2026"][0])]  # GD.ZS zip, Last Updated 2026-02-24
    for files in (newer, older):  # import order must not decide which release is the latest
        assert main(["snapshot", "import", "worldbank", *map(str, files)]) == 0
        summary = run_pipeline(offline=True)
        assert summary.success, summary.render()
    old_values, new_values = independent_reading(older), independent_reading(newer)
    revised = {k: (old_values[k], new_values[k]) for k in old_values.keys() & new_values.keys()
               if old_values[k] != new_values[k]}
    assert revised  # the 2026 release revises history
    with open_warehouse() as con:
        releases = [r for (r,) in con.execute("SELECT release FROM meta.releases WHERE source = 'worldbank' ORDER BY release_sort").fetchall()]
        assert releases == ["WDI 2025-03-24", "WDI 2026-02-24"]
        latest = dict(((i, y, m), v) for i, y, m, v in con.execute(
            "SELECT iso3, year, measure, value FROM core.fct_military_expenditure_latest WHERE source = 'worldbank'").fetchall())
        assert latest == new_values
        as_published = dict(((i, y, m), v) for i, y, m, v in con.execute(
            "SELECT iso3, year, measure, value FROM core.milex_as_published('WDI 2025-03-24')").fetchall())
        assert as_published == old_values
        moves = {(i, y, m): (p, v) for i, y, m, p, v in con.execute(
            "SELECT iso3, year, measure, previous_value, value FROM marts.milex_revisions "
            "WHERE release = 'WDI 2026-02-24' AND previous_value IS DISTINCT FROM value "
            "AND previous_value IS NOT NULL").fetchall()}
    assert moves == revised
