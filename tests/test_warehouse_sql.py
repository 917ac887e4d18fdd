"""sql/core and sql/marts on hand-made staging rows: columns land by name, ties pick one release, grains hold."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.lib.config import SQL_DIR, paths_from_env
from pipelines.lib.ducklake import connect_warehouse
from pipelines.lib.publish import sql_files
from pipelines.lib.reference import load_country_crosswalk, load_source_precedence

GRAIN_CHECKED = "fct_military_expenditure_latest"


def _sipri_rows(release: str, snapshot_id: str, *, release_sort: str = "2024-2025-1", value: float = 2.1,
                is_estimate: bool = True, is_uncertain: bool = False) -> pl.DataFrame:
    """SIPRI staging rows for Germany 2023: a share of GDP and a dollar amount, with the colour flags."""
    base = {"country_name": "Germany", "iso3": "DEU", "year": 2023, "status": "value", "is_estimate": is_estimate,
            "is_uncertain": is_uncertain, "sheet": "Share of GDP", "source_file": "SIPRI-Milex.xlsx",
            "snapshot_id": snapshot_id, "release_label": release, "release_year": 2025, "data_last_year": 2024,
            "is_portal_export": False, "release_sort": release_sort}
    return pl.DataFrame([
        {**base, "measure": "share_of_gdp", "value": value, "unit": "percent"},
        {**base, "measure": "current_usd", "value": value * 2e12 / 100, "unit": "usd"},
    ])


def _build(con: duckdb.DuckDBPyConnection, sipri: pl.DataFrame, ddl_edit=lambda name, sql: sql) -> None:
    """Run ddl (optionally edited), load the crosswalk and SIPRI staging rows, then core and marts."""
    for path in sql_files("ddl"):
        con.execute(ddl_edit(path.name, path.read_text(encoding="utf-8")))
    countries = load_country_crosswalk().drop("regex").to_arrow()  # noqa: F841 (DuckDB finds it by name)
    precedence = load_source_precedence().to_arrow()  # noqa: F841
    staged = sipri.to_arrow()  # noqa: F841
    con.execute("INSERT INTO core.dim_country BY NAME SELECT * FROM countries")
    con.execute("INSERT INTO meta.source_precedence BY NAME SELECT * FROM precedence")
    con.execute("INSERT INTO staging.stg_sipri BY NAME SELECT * FROM staged")
    for layer in ("core", "marts"):
        for path in sql_files(layer):
            con.execute(path.read_text(encoding="utf-8"))


def _violations(con: duckdb.DuckDBPyConnection, check: str) -> list[tuple]:
    return con.execute((SQL_DIR / "checks" / f"{check}.sql").read_text(encoding="utf-8")).fetchall()


def test_flags_land_in_their_own_columns_whatever_the_core_column_order():
    # Swap the two adjacent booleans in the core table: a positional INSERT would swap the values silently.
    def swap_flags(name: str, sql: str) -> str:
        if name != "04_core.sql":
            return sql
        estimate = re.search(r"^ *is_estimate .*\n", sql, re.M).group(0)
        uncertain = re.search(r"^ *is_uncertain .*\n", sql, re.M).group(0)
        return sql.replace(estimate + uncertain, uncertain + estimate)

    for edit in (lambda name, sql: sql, swap_flags):
        con = duckdb.connect()
        _build(con, _sipri_rows("SIPRI 2025", "20250101T000000Z-aaaa", is_estimate=True, is_uncertain=False), edit)
        rows = con.execute("SELECT measure, is_estimate, is_uncertain, release, source FROM core.fct_military_expenditure "
                           "ORDER BY measure").fetchall()
        assert rows == [("current_usd", True, False, "SIPRI 2025", "sipri"),
                        ("share_of_gdp", True, False, "SIPRI 2025", "sipri")]
        assert con.execute("SELECT is_estimate, is_uncertain FROM marts.military_expenditure_country_year "
                           "WHERE measure = 'share_of_gdp'").fetchall() == [(True, False)]


def test_core_inserts_name_their_columns():
    positional = [f"{p.name}: {m.group(0)!r}" for p in sql_files("core")
                  for m in re.finditer(r"INSERT INTO [\w.]+(?! BY NAME)\s", p.read_text(encoding="utf-8"))]
    assert positional == []


def test_releases_tied_on_release_sort_give_one_current_value():
    # Two SIPRI editions labelled differently with one sort key; the one in the newer snapshot is current.
    con = duckdb.connect()
    _build(con, pl.concat([_sipri_rows("SIPRI 2025 (corrected)", "20250301T000000Z-bbbb", value=2.3),
                           _sipri_rows("SIPRI 2025", "20250101T000000Z-aaaa", value=2.1)]))
    assert con.execute("SELECT count(*) FROM core.fct_military_expenditure").fetchone()[0] == 4
    latest = con.execute("SELECT measure, release FROM core.fct_military_expenditure_latest ORDER BY measure").fetchall()
    assert latest == [("current_usd", "SIPRI 2025 (corrected)"), ("share_of_gdp", "SIPRI 2025 (corrected)")]
    burden = con.execute("SELECT iso3, year, source, share_of_gdp FROM marts.nato_burden_sharing").fetchall()
    assert burden == [("DEU", 2023, "sipri", 2.3)]
    for check in ("fct_military_expenditure_latest_grain", "nato_burden_sharing_grain",
                  "milex_source_disagreements_grain", "military_expenditure_country_year_grain"):
        assert _violations(con, check) == [], check


def test_tie_on_release_sort_and_snapshot_falls_back_to_the_release_label():
    con = duckdb.connect()
    _build(con, pl.concat([_sipri_rows("SIPRI 2025 a", "20250101T000000Z-aaaa", value=2.1),
                           _sipri_rows("SIPRI 2025 b", "20250101T000000Z-aaaa", value=2.2)]))
    assert con.execute("SELECT DISTINCT release FROM core.fct_military_expenditure_latest").fetchall() == [
        ("SIPRI 2025 b",)]


def _marts() -> list[str]:
    names = [m.group(1) for p in sql_files("marts")
             for m in re.finditer(r"CREATE (?:OR REPLACE )?TABLE marts\.(\w+)", p.read_text(encoding="utf-8"))]
    return names + [GRAIN_CHECKED]


def test_every_mart_and_the_latest_view_has_a_grain_check():
    missing = [name for name in _marts() if not (SQL_DIR / "checks" / f"{name}_grain.sql").exists()]
    assert missing == []


@pytest.mark.parametrize("name", _marts())
def test_each_grain_check_catches_a_duplicated_row(published_home: Path, tmp_path: Path, name: str):
    home = tmp_path / "home"
    shutil.copytree(published_home, home)
    with connect_warehouse(paths_from_env(home)) as con:
        assert _violations(con, f"{name}_grain") == []
        if name == GRAIN_CHECKED:  # a view: duplicate a row of the fact under a second, tied release
            con.execute("""INSERT INTO core.fct_military_expenditure
                           SELECT * REPLACE (release || ' (copy)' AS release)
                           FROM core.fct_military_expenditure_latest LIMIT 1""")
            con.execute("CREATE OR REPLACE VIEW core.fct_military_expenditure_latest AS "
                        "SELECT * FROM core.fct_military_expenditure QUALIFY release_sort = "
                        "max(release_sort) OVER (PARTITION BY source, iso3, measure)")
        else:
            assert con.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0] > 0, f"samples leave {name} empty"
            con.execute(f"INSERT INTO marts.{name} SELECT * FROM marts.{name} LIMIT 1")
        assert len(_violations(con, f"{name}_grain")) == 1


def _checked_table(check: str) -> str:
    return re.search(r"^FROM (\S+)", (SQL_DIR / "checks" / f"{check}.sql").read_text(encoding="utf-8"), re.M).group(1)


KEY_CHECKS = sorted(p.stem for p in (SQL_DIR / "checks").glob("*_key.sql"))
COUNTRY_CHECKS = sorted(p.stem for p in (SQL_DIR / "checks").glob("*_in_dim_country.sql")
                        if "ANTI JOIN core.dim_country" in p.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def writable_copy(published_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("keys") / "home"
    shutil.copytree(published_home, home)
    return home


@pytest.mark.parametrize("check", KEY_CHECKS)
def test_each_key_check_catches_a_duplicated_key(writable_copy: Path, check: str):
    """DuckLake enforces no PRIMARY KEY: the key checks are what refuses a second row with the same key."""
    table = _checked_table(check)
    with connect_warehouse(paths_from_env(writable_copy)) as con:
        con.execute("BEGIN TRANSACTION")  # rolled back: the copy stays as published for the next case
        assert _violations(con, check) == []
        if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0:  # e.g. no incident linked in the samples
            schema, name = table.split(".")
            values = ", ".join(f"CAST('1' AS {t})" for (t,) in con.execute(
                "SELECT data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 "
                "AND table_name = $2 ORDER BY column_index", [schema, name]).fetchall())
            con.execute(f"INSERT INTO {table} VALUES ({values})")
        con.execute(f"INSERT INTO {table} SELECT * FROM {table} LIMIT 1")
        assert len(_violations(con, check)) == 1
        con.execute("ROLLBACK")


@pytest.mark.parametrize("check", COUNTRY_CHECKS)
def test_each_country_check_catches_a_code_outside_dim_country(writable_copy: Path, check: str):
    table = _checked_table(check)
    column = re.search(r"ON c\.iso3 = t\.(\w+)", (SQL_DIR / "checks" / f"{check}.sql").read_text()).group(1)
    with connect_warehouse(paths_from_env(writable_copy)) as con:
        con.execute("BEGIN TRANSACTION")
        assert _violations(con, check) == []
        con.execute(f"INSERT INTO {table} SELECT * REPLACE ('XXX' AS {column}) FROM {table} LIMIT 1")
        assert _violations(con, check) == [("XXX",)]
        con.execute("ROLLBACK")
