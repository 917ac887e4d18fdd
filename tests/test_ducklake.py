"""The warehouse connection: extensions from wheels, catalog configuration, read-only attach."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib.config import paths_from_env
from pipelines.lib.ducklake import (
    CatalogConfig,
    WarehouseError,
    WarehouseNotFoundError,
    connect_warehouse,
    extension_path,
    load_extensions,
)


def test_extensions_load_from_the_wheels_with_autoinstall_off():
    con = duckdb.connect()
    load_extensions(con)
    loaded = dict(con.execute("SELECT extension_name, install_mode FROM duckdb_extensions() WHERE loaded").fetchall())
    assert {"ducklake", "sqlite_scanner", "postgres_scanner"} <= set(loaded)
    assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0] is False
    assert extension_path("ducklake").name == "ducklake.duckdb_extension"


def test_default_catalog_is_a_sqlite_file_and_data_folder_under_home(tw_home: Path, monkeypatch):
    monkeypatch.delenv("THREATWATCH_CATALOG", raising=False)
    monkeypatch.delenv("THREATWATCH_DATA_PATH", raising=False)
    config = CatalogConfig.from_env(paths_from_env())
    assert (config.kind, config.target) == ("sqlite", str(tw_home / "catalog.sqlite"))
    assert config.data_path == f"{tw_home / 'warehouse'}/"
    assert config.uri == f"ducklake:sqlite:{tw_home / 'catalog.sqlite'}"


def test_postgres_catalog_from_conninfo_and_never_a_password_in_it(tw_home: Path, monkeypatch):
    monkeypatch.setenv("THREATWATCH_CATALOG", "postgres:host=127.0.0.1 port=5432 dbname=tw user=tw")
    monkeypatch.setenv("THREATWATCH_DATA_PATH", "s3://bucket/warehouse/")
    config = CatalogConfig.from_env(paths_from_env())
    assert config.uri == "ducklake:postgres:host=127.0.0.1 port=5432 dbname=tw user=tw"
    assert config.data_path == "s3://bucket/warehouse/" and config.extensions[1] == "postgres_scanner"
    monkeypatch.setenv("THREATWATCH_CATALOG", "postgres:host=127.0.0.1 dbname=tw password=secret")
    with pytest.raises(WarehouseError, match="THREATWATCH_CATALOG_PASSWORD"):
        CatalogConfig.from_env(paths_from_env())
    monkeypatch.setenv("THREATWATCH_CATALOG", "mysql:whatever")
    with pytest.raises(WarehouseError, match="sqlite:<path> or postgres:<conninfo>"):
        CatalogConfig.from_env(paths_from_env())


def test_writer_creates_the_lake_and_readers_attach_read_only(tw_home: Path):
    paths = paths_from_env()
    with pytest.raises(WarehouseNotFoundError, match="no published warehouse"):
        connect_warehouse(paths, read_only=True)
    with connect_warehouse(paths) as con:
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT 42 AS answer")
    with connect_warehouse(paths, read_only=True) as con:
        assert con.execute("SELECT answer FROM core.t").fetchall() == [(42,)]
        with pytest.raises(duckdb.Error, match="read-only|read only"):
            con.execute("INSERT INTO core.t VALUES (1)")
