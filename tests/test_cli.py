"""The `threatwatch` command: read-only SQL, snapshot import/list, readable output, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.config import SAMPLES_DIR
from tests.warehouse_compare import open_warehouse


def one_line_error(capsys: pytest.CaptureFixture) -> str:
    """The command's stderr, asserted to be exactly one line and no traceback; stdout must be empty."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("threatwatch: error: "), captured.err
    assert "Traceback" not in captured.err and not captured.out
    return lines[0]


def test_sql_prints_a_table(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT iso3, nato_member_since FROM core.dim_country WHERE iso3 IN ('FIN','SWE') ORDER BY 1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["iso3", "nato_member_since"]
    assert [line.split() for line in out[2:4]] == [["FIN", "2023"], ["SWE", "2024"]]
    assert out[-1] == "(2 rows)"


FINLAND_AND_SWEDEN = ("SELECT iso3, nato_member_since, eu_member_until, name LIKE '%,%' AS has_comma "
                      "FROM core.dim_country WHERE iso3 IN ('FIN','SWE') ORDER BY 1")


def test_sql_prints_csv_for_scripts(copied_home: Path, capsys: pytest.CaptureFixture):
    import csv

    assert main(["sql", FINLAND_AND_SWEDEN, "--format", "csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows == [["iso3", "nato_member_since", "eu_member_until", "has_comma"],
                    ["FIN", "2023", "", "False"], ["SWE", "2024", "", "False"]]


def test_sql_prints_json_for_scripts_and_the_limit_note_on_stderr(copied_home: Path, capsys: pytest.CaptureFixture):
    import json

    assert main(["sql", FINLAND_AND_SWEDEN, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"iso3": "FIN", "nato_member_since": 2023, "eu_member_until": None, "has_comma": False},
        {"iso3": "SWE", "nato_member_since": 2024, "eu_member_until": None, "has_comma": False}]
    assert main(["sql", "SELECT iso3, valid_from FROM core.dim_country ORDER BY 1", "--format", "json", "--limit", "2"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 2 and "first 2 rows shown" in captured.err


def test_sql_reads_the_warehouse_as_it_was_at_an_earlier_snapshot(copied_home: Path, capsys: pytest.CaptureFixture):
    import json

    from pipelines.lib.config import paths_from_env
    from pipelines.lib.ducklake import connect_warehouse

    first = "SELECT max(snapshot_id) AS id, max(snapshot_time)::VARCHAR AS at FROM warehouse.snapshots()"
    assert main(["sql", first, "--format", "json"]) == 0
    [before] = json.loads(capsys.readouterr().out)
    with connect_warehouse(paths_from_env()) as con:  # a later change, as a later publish would make
        con.execute("DELETE FROM core.dim_country WHERE iso3 = 'SWE'")
    count = "SELECT count(*) AS n FROM core.dim_country"
    for query, expected in ((count, 258), (f"{count} AT (VERSION => {before['id']})", 259),
                            (f"{count} AT (TIMESTAMP => TIMESTAMPTZ '{before['at']}')", 259)):
        assert main(["sql", query, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out) == [{"n": expected}], query
    assert main(["sql", "SELECT commit_message FROM warehouse.snapshots() WHERE author = 'threatwatch'", "--format", "csv"]) == 0
    assert "publish by run" in capsys.readouterr().out


def test_sql_is_read_only(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "DELETE FROM core.dim_country"]) == 2
    assert "read-only" in capsys.readouterr().err.lower()
    assert main(["sql", "SELECT count(*) > 200 FROM core.dim_country"]) == 0
    assert capsys.readouterr().out.splitlines()[2].strip() == "true"


def test_sql_limit_is_reported(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT * FROM core.dim_country", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "(3 rows)" in out and "first 3 rows shown" in out


def test_sql_without_a_warehouse_says_what_to_do(tw_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT 1"]) == 2
    assert "threatwatch run --offline" in one_line_error(capsys)


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


def test_import_of_unknown_source_is_one_line_naming_it(tw_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    f = tmp_path / "x.csv"
    f.write_text("a\n")
    assert main(["snapshot", "import", "nosuchsource", str(f)]) == 2
    error = one_line_error(capsys)
    assert "unknown source id 'nosuchsource'" in error and "worldbank" in error


def test_import_of_a_missing_file_is_one_line_naming_it(tw_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["snapshot", "import", "worldbank", str(tmp_path / "nope.zip")]) == 2
    assert "nope.zip" in one_line_error(capsys)
    assert not (tw_home / "snapshots").exists() or not list((tw_home / "snapshots").rglob("manifest.json"))


def test_list_of_unknown_source_is_an_error_not_an_empty_table(tw_home: Path, capsys: pytest.CaptureFixture):
    assert main(["snapshot", "list", "nosuchsource"]) == 2
    assert "unknown source id 'nosuchsource'" in one_line_error(capsys)


def test_export_carries_the_licence_notice_of_every_contributing_source(copied_home: Path, tmp_path: Path):
    import duckdb

    out = tmp_path / "burden.parquet"
    assert main(["export", "marts.nato_burden_sharing", str(out)]) == 0
    notice = (tmp_path / "burden.parquet.NOTICE.txt").read_text()
    for source, licence in (("sipri", "less than 10%"), ("nato", "credit NATO"), ("worldbank", "CC BY 4.0")):
        assert f"[{source}]" in notice and licence in notice
    inside = duckdb.sql(f"SELECT value FROM parquet_kv_metadata('{out}') WHERE key = 'threatwatch_notice'").fetchall()[0][0]
    assert inside.decode() == notice
    with open_warehouse(copied_home) as con:
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


def test_empty_sql_is_a_one_line_error(copied_home: Path, capsys: pytest.CaptureFixture):
    for query in ("", "   ", "-- only a comment"):
        assert main(["sql", query]) == 2
        assert "no SQL statement" in one_line_error(capsys)


@pytest.mark.parametrize("query", [
    "COPY (SELECT 1) TO '{out}'",
    "COPY core.dim_country TO '{out}' (FORMAT parquet)",
    "EXPORT DATABASE '{dir}'",
    "ATTACH '{dir}/other.duckdb' AS other",
    "DETACH warehouse",
    "INSTALL httpfs",
    "LOAD parquet",
    "SET threads = 1",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "CREATE TABLE t AS SELECT 1",
    "IMPORT DATABASE '{dir}'",
])
def test_sql_refuses_everything_but_reading(copied_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture, query: str):
    target = tmp_path / "target"
    target.mkdir()
    assert main(["sql", query.format(out=target / "x.csv", dir=target)]) == 2
    error = one_line_error(capsys)
    # IMPORT is expanded while parsing, which is locked down like the query's connection
    assert "read-only" in error or (query.startswith("IMPORT") and "disabled by configuration" in error)
    assert list(target.iterdir()) == []


def test_sql_cannot_read_or_write_files_from_a_select(copied_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("a\n1\n")
    assert main(["sql", f"SELECT * FROM read_csv('{secret}')"]) == 2
    assert "disabled by configuration" in one_line_error(capsys)


def test_sql_refuses_several_statements_instead_of_showing_the_last(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT 1 AS a; SELECT 2 AS b"]) == 2
    assert "2 statements" in one_line_error(capsys)


def test_sql_error_is_one_line(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT * FROM core.nope"]) == 2
    assert "Table with name nope does not exist" in one_line_error(capsys)


def test_sql_prints_booleans_as_sql_does_and_aligns_decimals(copied_home: Path, capsys: pytest.CaptureFixture):
    assert main(["sql", "SELECT * FROM (VALUES (true, 2.5::DOUBLE), (false, 13.125::DOUBLE), (NULL, 7::DOUBLE)) t(ok, pct)"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines[2:5]] == [["true", "2.500"], ["false", "13.125"], ["NULL", "7.000"]]
    assert len({line.index(".") for line in lines[2:5]}) == 1  # the decimal points line up


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tw_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture):
    import pipelines.lib.snapshots as snapshots

    def broken(self, source=None):
        raise RuntimeError("the disk is on fire\nsecond line")

    monkeypatch.setattr(snapshots.SnapshotStore, "list", broken)
    assert main(["snapshot", "list"]) == 2
    assert one_line_error(capsys) == ("threatwatch: error: RuntimeError: the disk is on fire "
                                      "(--debug shows the traceback)")
    assert main(["--debug", "snapshot", "list"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["snapshot", "list", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
