"""The throwaway PostgreSQL cluster the catalog tests run on: real, password-only, on loopback, cleaned up."""

from __future__ import annotations

import pytest

from tests.postgres_server import ROLE, PostgresServer, start_postgres


def test_role_logs_in_over_tcp_with_its_password_only(postgres_server: PostgresServer) -> None:
    database = postgres_server.create_database("probe")
    who = postgres_server.psql("SELECT current_user || ' ' || current_database() || ' ' || inet_server_addr()",
                               dbname=database, user=ROLE, password=postgres_server.password)
    assert who == f"{ROLE} {database} 127.0.0.1/32"
    with pytest.raises(RuntimeError, match="password authentication failed"):
        postgres_server.psql("SELECT 1", dbname=database, user=ROLE, password="not-" + postgres_server.password)


def test_each_database_is_fresh_and_owned_by_the_role(postgres_server: PostgresServer) -> None:
    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second
    login = {"user": ROLE, "password": postgres_server.password}
    postgres_server.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)", dbname=first, **login)
    assert postgres_server.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'", dbname=second, **login) == "0"


def test_conninfo_never_carries_the_password(postgres_server: PostgresServer) -> None:
    info = postgres_server.conninfo("x")
    assert postgres_server.password not in info and "password" not in info
    assert postgres_server.password not in repr(postgres_server)


def test_stop_removes_the_cluster_and_frees_the_port(postgres_server: PostgresServer) -> None:
    server = start_postgres()  # its own cluster: the session's must stay up
    assert (server.data_dir / "PG_VERSION").exists()
    server.stop()
    assert not server.root.exists()
    with pytest.raises(RuntimeError, match="Connection refused|could not connect|failed"):
        server.psql("SELECT 1")
