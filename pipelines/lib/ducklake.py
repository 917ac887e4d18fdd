"""The warehouse connection: a DuckLake (catalog + Parquet data files), attached as `warehouse`.

The catalog is a SQLite file by default (one machine: several processes read while one writes) or a
PostgreSQL database (several writers, several machines); configuration only, the code is the same.
DuckDB's extensions come from the pinned `duckdb-extension-*` wheels and are loaded by path with
autoinstall and autoload off, so nothing is ever downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lib.config import Paths

ALIAS = "warehouse"  # the attached DuckLake's name: queries say core.dim_country after USE warehouse
# extension name -> the wheel's package; each wheel holds extensions/v<duckdb version>/<name>.duckdb_extension
EXTENSION_PACKAGES = {
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}
PASSWORD_ENV = "THREATWATCH_CATALOG_PASSWORD"
_PASSWORD_IN_CONNINFO = re.compile(r"(^|\s)password\s*=", re.IGNORECASE)


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened: a missing extension wheel, a bad catalog setting, no catalog yet."""


class WarehouseNotFoundError(WarehouseError):
    """Reading was asked of a warehouse that was never published."""


def extension_path(name: str) -> Path:
    """The extension file shipped in its wheel for the running DuckDB version."""
    package = EXTENSION_PACKAGES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(f"DuckDB extension {name} is not installed: pip install {package.replace('_', '-')}"
                             f"=={duckdb.__version__}")
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise WarehouseError(f"{package} has no extension for DuckDB {duckdb.__version__} ({path} missing): "
                             "install the wheel of the same version as duckdb")
    return path


def load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = tuple(EXTENSION_PACKAGES)) -> None:
    """Load the extensions from their wheels; DuckDB may never fetch one from the network."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for name in names:
        con.execute(f"LOAD '{extension_path(name)}'")


@dataclass(frozen=True)
class CatalogConfig:
    """Where the DuckLake's catalog lives and where its data files go."""

    kind: str  # sqlite | postgres
    target: str  # the SQLite file, or a libpq conninfo without password
    data_path: str

    @classmethod
    def from_env(cls, paths: Paths) -> "CatalogConfig":
        """The configuration of `paths` (THREATWATCH_CATALOG / THREATWATCH_DATA_PATH, see config.py)."""
        kind, sep, target = paths.catalog.partition(":")
        if not sep or kind not in ("sqlite", "postgres") or not target.strip():
            raise WarehouseError(f"THREATWATCH_CATALOG must be sqlite:<path> or postgres:<conninfo>, not {kind!r}…")
        if kind == "postgres" and _PASSWORD_IN_CONNINFO.search(target):
            raise WarehouseError(f"THREATWATCH_CATALOG must not hold the password: set {PASSWORD_ENV}")
        return cls(kind=kind, target=target.strip(), data_path=paths.data_path)

    @property
    def extensions(self) -> tuple[str, ...]:
        return ("ducklake", "sqlite_scanner" if self.kind == "sqlite" else "postgres_scanner")

    @property
    def uri(self) -> str:
        """What ATTACH takes, e.g. ducklake:sqlite:/data/catalog.sqlite."""
        return f"ducklake:{self.kind}:{self.target}"

    def attach_sql(self, alias: str = ALIAS, read_only: bool = False) -> str:
        """The ATTACH statement; the configured DATA_PATH wins over the one stored (a moved home still reads)."""
        options = [f"DATA_PATH {_quote(self.data_path)}", "OVERRIDE_DATA_PATH true"]
        if read_only:
            options.append("READ_ONLY")
        return f"ATTACH {_quote(self.uri)} AS {alias} ({', '.join(options)})"

    def describe(self) -> str:
        """The configuration for logs and metadata: never a password (none is ever in it)."""
        return f"{self.uri} (data {self.data_path})"

    def exists(self) -> bool:
        """Whether the catalog was created (a PostgreSQL catalog is assumed to be: its server says)."""
        return self.kind != "sqlite" or Path(self.target).is_file()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _prepare_sqlite_catalog(path: Path) -> None:
    # WAL lets readers in other processes read the catalog while a publish commits to it.
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode = WAL")


def _use_password_from_env() -> None:
    # libpq reads PGPASSWORD when it connects, so the password never enters a conninfo, a log or an error.
    password = os.environ.get(PASSWORD_ENV)
    if password:
        os.environ["PGPASSWORD"] = password


def connect_warehouse(paths: Paths, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the warehouse DuckLake attached as `warehouse` and in use.

    Read-only connections attach READ_ONLY and refuse a warehouse that was never published.
    """
    config = CatalogConfig.from_env(paths)
    if config.kind == "sqlite":
        catalog = Path(config.target)
        if not catalog.is_file():
            if read_only:
                raise WarehouseNotFoundError(f"no published warehouse at {config.describe()}: "
                                             "run `threatwatch run --offline` first")
            _prepare_sqlite_catalog(catalog)
    else:
        _use_password_from_env()
    if not read_only and "://" not in config.data_path:
        Path(config.data_path).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        load_extensions(con, config.extensions)
        con.execute("SET TimeZone = 'UTC'")  # dates cut from timestamps are UTC days, as the lake's partitions
        try:
            con.execute(config.attach_sql(read_only=read_only))
        except duckdb.Error as exc:
            message = str(exc)
            password = os.environ.get(PASSWORD_ENV) or os.environ.get("PGPASSWORD")
            if password:
                message = message.replace(password, "***")
            raise WarehouseError(f"cannot attach the warehouse {config.describe()}: {message}") from None
        con.execute(f"USE {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con
