"""The `threatwatch` command: read-only SQL, snapshot import/list, readable output."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.config import SAMPLES_DIR


def test_sql_prints_a_table(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT iso3, nato_member_since FROM core.dim_country WHERE iso3 IN ('FIN','SWE') ORDER BY 1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["iso3", "nato_member_since"]
    assert [line.split() for line in out[2:4]] == [["FIN", "2023"], ["SWE", "2024"]]
    assert out[-1] == "(2 rows)"


def test_sql_is_read_only(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "DELETE FROM core.dim_country"]) == 2
    assert "read-only" in capsys.readouterr().err.lower()
    assert main(["sql", "SELECT count(*) > 200 FROM core.dim_country"]) == 0
    assert "True" in capsys.readouterr().out


def test_sql_limit_is_reported(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT * FROM core.dim_country", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "(3 rows)" in out and "first 3 rows shown" in out


def test_sql_without_a_warehouse_says_what_to_do(tw_home: Path):
    with pytest.raises(SystemExit, match="threatwatch run --offline"):
        main(["sql", "SELECT 1"])


def test_snapshot_import_twice_creates_one_snapshot_and_list_shows_it(tw_home: Path, capsys: pytest.CaptureFixture):
    zip_path = SAMPLES_DIR / "worldbank" / "bulk" / "MS.MIL.XPND.CD.csv.zip"
    assert main(["snapshot", "import", "worldbank", str(zip_path)]) == 0
    first = capsys.readouterr().out
    assert "imported 1 file(s) as worldbank snapshot" in first
    assert main(["snapshot", "import", "worldbank", str(zip_path)]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(["snapshot", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[-1] == "(1 row)"
    assert listing[2].split()[:3] == ["worldbank", first.split()[6], "import"]


def test_import_of_unknown_source_is_refused(tw_home: Path, tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("a\n")
    with pytest.raises(KeyError, match="unknown source id 'nope'"):
        main(["snapshot", "import", "nope", str(f)])


def test_export_carries_the_licence_notice_of_every_contributing_source(copied_home: Path, tmp_path: Path):
    import duckdb

    out = tmp_path / "burden.parquet"
    assert main(["export", "marts.nato_burden_sharing", str(out)]) == 0
    notice = (tmp_path / "burden.parquet.NOTICE.txt").read_text()
    for source, licence in (("sipri", "less than 10%"), ("nato", "credit NATO"), ("worldbank", "CC BY 4.0")):
        assert f"[{source}]" in notice and licence in notice
    inside = duckdb.sql(f"SELECT value FROM parquet_kv_metadata('{out}') WHERE key = 'threatwatch_notice'").fetchall()[0][0]
    assert inside.decode() == notice
    with duckdb.connect(str(copied_home / "warehouse.duckdb"), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM marts.nato_burden_sharing").fetchone()[0]
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall()[0][0] == expected


def test_export_of_a_single_source_table_names_only_that_source(copied_home: Path, tmp_path: Path):
    out = tmp_path / "wb.csv"
    assert main(["export", "staging.stg_worldbank", str(out)]) == 0
    notice = (tmp_path / "wb.csv.NOTICE.txt").read_text()
    assert "[worldbank]" in notice and "[sipri]" not in notice
    assert out.read_text().splitlines()[0].startswith("iso3,")


def test_export_refuses_bad_names_and_formats(copied_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["export", "marts.x; DROP TABLE y", str(tmp_path / "a.csv")]) == 2
    assert main(["export", "marts.nato_burden_sharing", str(tmp_path / "a.xlsx")]) == 2
    assert main(["export", "marts.nope", str(tmp_path / "a.csv")]) == 2
    err = capsys.readouterr().err
    assert "not a schema.table name" in err and ".parquet or .csv" in err and "no table or view marts.nope" in err
