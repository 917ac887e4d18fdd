"""Column documentation: sql/columns.csv covers every column analysts can query, and reaches Dagster and DuckDB."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from pipelines.definitions import defs
from pipelines.defs.warehouse.assets import WAREHOUSE_TABLES, warehouse_key
from pipelines.lib.column_docs import ANY_TABLE, COLUMNS_CSV, column_doc, comment_columns, load_column_docs
from pipelines.lib.config import SQL_DIR
from pipelines.lib.ducklake import load_extensions
from pipelines.lib.source_checks import describe_expectations
from pipelines.lib.sql_schema import LAYERS, warehouse_columns
from pipelines.lib.staged_tables import STAGED_TABLES
from pipelines.lib.validation import Expect
from tests.warehouse_compare import open_warehouse


def _sql_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    for layer in LAYERS:
        for path in sorted((SQL_DIR / layer).glob("*.sql")):
            con.execute(path.read_text(encoding="utf-8"))


def test_every_column_of_every_staged_and_warehouse_table_is_documented():
    tables = warehouse_columns()
    assert {t.warehouse_table for t in STAGED_TABLES} <= set(tables)
    assert set(WAREHOUSE_TABLES) <= set(tables)
    undocumented = [f"{t}.{c}" for t, columns in tables.items() for c, _ in columns if column_doc(t, c) is None]
    assert undocumented == []


def test_every_documentation_row_names_a_column_that_exists():
    tables = warehouse_columns()
    columns = {c for cols in tables.values() for c, _ in cols}
    stale = [f"{t}.{c}" for t, c in load_column_docs()
             if (t == ANY_TABLE and c not in columns) or (t != ANY_TABLE and c not in dict(tables.get(t, ())))]
    assert stale == []


def test_a_table_row_wins_over_the_any_table_row():
    own, anywhere = column_doc("core.dim_country", "name"), column_doc("core.dim_threat_actor", "name")
    assert own.description != anywhere.description
    assert column_doc("core.dim_country", "no_such_column") is None
    assert column_doc("marts.nato_burden_sharing", "share_of_gdp").unit == "percent"


def test_a_column_documented_twice_or_without_text_is_refused(tmp_path: Path):
    twice = tmp_path / "twice.csv"
    twice.write_text("table,column,unit,description\n*,iso3,,a\n*,iso3,,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"twice.csv line 3: \*.iso3 is documented twice"):
        load_column_docs.__wrapped__(twice)
    empty = tmp_path / "empty.csv"
    empty.write_text("table,column,unit,description\ncore.t,x,usd, \n", encoding="utf-8")
    with pytest.raises(ValueError, match="core.t.x has no description"):
        load_column_docs.__wrapped__(empty)


def test_the_committed_csv_is_sorted_and_unique():
    with open(COLUMNS_CSV, encoding="utf-8", newline="") as handle:
        rows = [(r["table"] != ANY_TABLE, r["table"], r["column"]) for r in csv.DictReader(handle)]
    assert rows == sorted(set(rows))  # '*' rows first, then by table and column: a reviewer finds a column


def _asset_columns(key: AssetKey) -> list:
    node = defs.resolve_asset_graph().get(key)
    return node.metadata["dagster/column_schema"].columns


@pytest.mark.parametrize("table", STAGED_TABLES, ids=lambda t: t.name)
def test_every_staged_asset_carries_its_documented_columns(table):
    columns = _asset_columns(AssetKey(["staging", table.name]))
    assert [c.name for c in columns] == [c for c, _ in warehouse_columns()[table.warehouse_table]]
    assert all(c.description for c in columns)


@pytest.mark.parametrize("table", sorted(WAREHOUSE_TABLES))
def test_every_warehouse_asset_carries_its_documented_columns(table):
    columns = _asset_columns(warehouse_key(table))
    assert [c.name for c in columns] == [c for c, _ in warehouse_columns()[table]]
    assert all(c.description for c in columns)


def test_units_travel_as_column_tags():
    columns = {c.name: c for c in _asset_columns(warehouse_key("marts.nato_burden_sharing"))}
    assert columns["usd_to_2pct"].tags == {"unit": "US dollars"}
    assert columns["share_of_gdp"].tags == {"unit": "percent"}
    assert columns["iso3"].tags == {}


def test_every_asset_has_an_owner_and_layer_domain_tags():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners and node.owners[0].startswith("team:"), key
        assert node.tags["layer"] in ("snapshot", "staging", "warehouse", "maintenance") and node.tags["domain"], key
        assert len(key.path) == 1 or node.tags["layer"] == key.path[0], key


def test_plain_duckdb_gets_a_comment_on_every_column():
    con = duckdb.connect()
    _sql_warehouse(con)
    assert comment_columns(con) > 700
    missing = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                          "WHERE schema_name IN ('staging', 'core', 'marts', 'meta') AND comment IS NULL").fetchall()
    assert missing == []
    comment = con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts' "
                          "AND table_name = 'nato_burden_sharing' AND column_name = 'usd_to_2pct'").fetchone()[0]
    assert comment == "Extra spending needed to reach 2% of GDP (0 when met) (unit: US dollars)"


def test_a_ducklake_catalog_keeps_table_column_comments_and_leaves_views_alone(tmp_path: Path):
    con = duckdb.connect()
    load_extensions(con, ("ducklake", "sqlite_scanner"))
    con.execute(f"ATTACH 'ducklake:sqlite:{tmp_path / 'catalog.sqlite'}' AS w (DATA_PATH '{tmp_path / 'data'}')")
    con.execute("USE w")
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.dim_country (iso3 VARCHAR, name VARCHAR)")
    con.execute("CREATE VIEW core.milex_notes AS SELECT iso3 FROM core.dim_country")  # DuckLake refuses view comments
    assert comment_columns(con) == 2
    con.close()
    again = duckdb.connect()  # the comments are in the catalog, not in the session
    load_extensions(again, ("ducklake", "sqlite_scanner"))
    again.execute(f"ATTACH 'ducklake:sqlite:{tmp_path / 'catalog.sqlite'}' AS w (DATA_PATH '{tmp_path / 'data'}', READ_ONLY)")
    got = dict(again.execute("SELECT table_name || '.' || column_name, comment FROM duckdb_columns() "
                             "WHERE database_name = 'w'").fetchall())
    assert got["dim_country.name"] == "Common English name of the country or territory"
    assert got["milex_notes.iso3"] is None


def test_a_published_warehouse_says_what_its_columns_mean(published_home: Path):
    # The warehouse is a DuckLake: its tables' columns carry comments, its views' cannot (see comment_columns).
    with open_warehouse(published_home) as con:
        comments = dict(con.execute(
            "SELECT table_name || '.' || column_name, comment FROM duckdb_columns() c "
            "WHERE database_name = current_database() AND schema_name = 'core' AND table_name IN "
            "(SELECT table_name FROM duckdb_tables() WHERE database_name = c.database_name AND schema_name = 'core')"
        ).fetchall())
    assert comments["fct_military_expenditure.value"].startswith("The published value, in the row's unit")
    assert None not in comments.values()


def test_expectations_are_described_by_kind_and_column_without_values():
    text = describe_expectations([
        Expect("expect_column_values_to_not_be_null", {"column": "iso3"}),
        Expect("expect_column_values_to_not_be_null", {"column": "year"}),
        Expect("expect_column_values_to_be_between", {"column": "year", "min_value": 1949, "max_value": 2027}),
        Expect("expect_compound_columns_to_be_unique", {"column_list": ["iso3", "year"]}),
        Expect("expect_table_row_count_to_be_between", {"min_value": 5, "max_value": 30}),
        Expect("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "a", "column_B": "b"}),
    ])
    assert text == ("not null: iso3, year; unique together: (iso3, year); within stated bounds: year; "
                    "row count within bounds; column pair values a to be greater than b")


def test_every_gx_check_lists_what_its_suite_expects():
    graph = defs.resolve_asset_graph()
    gx = [graph.get_check_spec(k) for k in graph.asset_check_keys if k.name.startswith("gx_")]
    assert len(gx) == len(STAGED_TABLES)
    for spec in gx:
        assert "Expects not null: " in spec.description, spec.key
    nato = next(s for s in gx if s.key.name == "gx_stg_nato")
    assert "unique together: (iso3, measure, year)" in nato.description
    assert "after the first snapshot, the row count within bounds" in nato.description
