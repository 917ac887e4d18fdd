"""Bad input fails the run with a message naming source, snapshot and problem; the warehouse stays as it was."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipelines.lib.config import SAMPLES_DIR, paths_from_env
from pipelines.run import run_pipeline
from pipelines.lib.snapshots import SnapshotStore
from tests.warehouse_compare import warehouse_state

BULK = SAMPLES_DIR / "worldbank" / "bulk"


def _rewrite_zip(src: Path, dest: Path, edit) -> Path:
    """Copy a bulk zip, passing its data CSV (not the metadata) through `edit`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("API_"):
                data = edit(data)
            zout.writestr(info, data)
    return dest


def _import_and_run(tmp_path: Path, edit) -> tuple[str, str, str]:
    """Import the four sample zips with one edited, run offline; return (output, snapshot id, edited file)."""
    from pipelines.cli import main

    files = []
    for z in sorted(BULK.glob("*.zip")):
        if z.name.startswith("MS.MIL.XPND.GD.ZS"):
            z = _rewrite_zip(z, tmp_path / z.name, edit)
            edited = z.name
        files.append(str(z))
    assert main(["snapshot", "import", "worldbank", *files]) == 0
    snapshot_id = SnapshotStore(paths_from_env().snapshots).latest("worldbank").snapshot_id
    summary = run_pipeline(offline=True)
    assert not summary.success
    return summary.render(), snapshot_id, edited


def set_france_latest_year(text: bytes):
    """An edit that replaces France's value in the last year column of a bulk CSV."""

    def edit(data: bytes) -> bytes:
        lines = data.split(b"\r\n")
        row = next(i for i, line in enumerate(lines) if line.startswith(b'"France"'))
        cells = lines[row].split(b",")
        cells[-3] = text  # the line ends with the last year, then the trailing empty column
        lines[row] = b",".join(cells)
        return b"\r\n".join(lines)

    return edit


@pytest.fixture
def warehouse_before(copied_home: Path) -> tuple:
    return warehouse_state()


def test_changed_header_names_source_snapshot_file_and_column(tmp_path, warehouse_before):
    output, snapshot_id, edited = _import_and_run(tmp_path, lambda b: b.replace(b'"Country Code"', b'"Country ISO"', 1))
    assert "[worldbank]" in output and snapshot_id in output and edited in output
    assert "Country Code" in output
    assert "Nothing published" in output
    assert warehouse_state() == warehouse_before


def test_non_numeric_value_is_named(tmp_path, warehouse_before):
    output, snapshot_id, edited = _import_and_run(tmp_path, set_france_latest_year(b'"n/a"'))
    assert "[worldbank]" in output and snapshot_id in output and edited in output
    assert "FRA" in output and "n/a" in output
    assert warehouse_state() == warehouse_before


def test_unknown_country_fails_validation_naming_it(tmp_path, warehouse_before):
    def add_atlantis(data: bytes) -> bytes:
        lines = data.split(b"\r\n")
        row = next(i for i, line in enumerate(lines) if line.startswith(b'"France"'))
        lines.insert(row + 1, lines[row].replace(b'"France","FRA"', b'"Atlantis","ATL"'))
        return b"\r\n".join(lines)

    output, snapshot_id, _ = _import_and_run(tmp_path, add_atlantis)
    assert "gx_stg_worldbank " in output.replace("FAILED", " FAILED") and "FAILED" in output
    assert "Atlantis (ATL)" in output
    assert warehouse_state() == warehouse_before


def test_corrupt_zip_names_the_file(tmp_path, warehouse_before):
    from pipelines.cli import main

    broken = tmp_path / "MS.MIL.XPND.GD.ZS.csv.zip"
    broken.write_bytes((BULK / broken.name).read_bytes()[:500])
    others = [str(z) for z in sorted(BULK.glob("*.zip")) if z.name != broken.name]
    assert main(["snapshot", "import", "worldbank", str(broken), *others]) == 0
    snapshot_id = SnapshotStore(paths_from_env().snapshots).latest("worldbank").snapshot_id
    summary = run_pipeline(offline=True)
    output = summary.render()
    assert not summary.success
    assert "[worldbank]" in output and snapshot_id in output and broken.name in output
    assert warehouse_state() == warehouse_before


def test_partial_snapshot_is_blocked_by_the_row_count_bound(warehouse_before):
    from pipelines.cli import main

    assert main(["snapshot", "import", "worldbank", str(BULK / "MS.MIL.XPND.GD.ZS.csv.zip")]) == 0
    summary = run_pipeline(offline=True)
    assert not summary.success
    assert "expect_table_row_count_to_be_between failed" in summary.render()
    assert warehouse_state() == warehouse_before


def test_failed_validation_is_never_published_later(tmp_path, warehouse_before):
    """A publish run on its own after a failed check still loads only validated snapshots."""
    from pipelines.lib.publish import publish_warehouse

    _import_and_run(tmp_path, lambda b: b.replace(b'"France","FRA"', b'"Atlantis","ATL"', 1))
    bad = SnapshotStore(paths_from_env().snapshots).latest("worldbank").snapshot_id
    report = publish_warehouse(paths_from_env())
    assert report.loaded["stg_worldbank"] != bad


def test_unreviewed_share_above_100_blocks_publication(tmp_path, warehouse_before):
    output, _, _ = _import_and_run(tmp_path, set_france_latest_year(b'"150.5"'))
    assert "share_value: expect_column_values_to_be_between failed" in output and "150.5" in output
    assert warehouse_state() == warehouse_before


def _import_zip_and_run(zip_path: Path) -> tuple[str, str]:
    """Import the sample bulk zips with `zip_path` in place of the GDP-share one, run offline."""
    from pipelines.cli import main

    others = [str(z) for z in sorted(BULK.glob("*.zip")) if not z.name.startswith("MS.MIL.XPND.GD.ZS")]
    assert main(["snapshot", "import", "worldbank", str(zip_path), *others]) == 0
    snapshot_id = SnapshotStore(paths_from_env().snapshots).latest("worldbank").snapshot_id
    summary = run_pipeline(offline=True)
    assert not summary.success
    return summary.render(), snapshot_id


def test_a_bulk_zip_member_escaping_its_folder_is_refused(tmp_path, warehouse_before):
    def escape(src: Path, dest: Path) -> Path:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(f"../../{info.filename}" if info.filename.startswith("API_") else info.filename,
                              zin.read(info))
        return dest

    evil = escape(BULK / "MS.MIL.XPND.GD.ZS.csv.zip", tmp_path / "MS.MIL.XPND.GD.ZS.csv.zip")
    output, snapshot_id = _import_zip_and_run(evil)
    assert "[worldbank]" in output and snapshot_id in output and evil.name in output
    assert "'../../API_" in output and "directory part" in output
    assert warehouse_state() == warehouse_before


def test_a_bulk_zip_bomb_is_refused_before_it_is_inflated(tmp_path, warehouse_before):
    from tests.zip_bombs import zip_bomb

    # 190 MB of zeros in ~190 KB: a ratio no CSV has.
    bomb = zip_bomb(tmp_path / "MS.MIL.XPND.GD.ZS.csv.zip", "API_MS.MIL.XPND.GD.ZS_DS2_en_csv_v2.csv", 190 * 1024**2)
    output, snapshot_id = _import_zip_and_run(bomb)
    assert "[worldbank]" in output and snapshot_id in output and bomb.name in output
    assert "refused before decompressing" in output
    assert warehouse_state() == warehouse_before
