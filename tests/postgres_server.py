"""A throwaway PostgreSQL cluster for the catalog tests: initdb in a temp folder, 127.0.0.1 on a free port.

The server is real (Debian's `postgresql` package, installed by .ci/run): the DuckLake PostgreSQL catalog is
tested against what users run, not a mock. PostgreSQL refuses to run as root, so under root the cluster
belongs to the `postgres` OS user the package creates; otherwise to the current user. Clients log in as a
password-authenticated role over TCP (scram-sha-256), as a deployed catalog would.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROLE = "threatwatch"
ADMIN = "tw_admin"
RUNUSER = shutil.which("runuser") or next((p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()), None)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why (tests that need it skip with it)."""


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and psql: $THREATWATCH_TEST_PG_BINDIR, PATH, or Debian's newest."""
    wanted = ("initdb", "pg_ctl", "psql")
    chosen = os.environ.get("THREATWATCH_TEST_PG_BINDIR")
    # Debian keeps the server binaries off PATH, one folder per major version; the newest wins
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    on_path = shutil.which("initdb")
    candidates = [Path(chosen)] if chosen else [*debian, *([Path(on_path).resolve().parent] if on_path else [])]
    for folder in candidates:
        if all((folder / name).is_file() for name in wanted):
            return folder
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl, psql) not found; "
                              "install Debian's 'postgresql' package or set THREATWATCH_TEST_PG_BINDIR")


def _server_user() -> pwd.struct_passwd | None:
    """The OS user the cluster runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    if not RUNUSER:
        raise PostgresUnavailable("running as root and 'runuser' is not available to start PostgreSQL as another user")
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable("running as root and there is no 'postgres' OS user to own the cluster "
                                  "(PostgreSQL refuses to run as root)") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running cluster: where it listens, the role clients use, and how to make databases in it."""

    bindir: Path
    root: Path
    port: int = 0
    host: str = "127.0.0.1"
    user: str = ROLE
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    _owner: pwd.struct_passwd | None = field(default=None, repr=False)
    _databases: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def conninfo(self, dbname: str) -> str:
        """The libpq conninfo a client uses, without the password (that travels in the environment)."""
        return f"host={self.host} port={self.port} dbname={dbname} user={self.user}"

    def _as_owner(self, command: list[str]) -> list[str]:
        return [RUNUSER, "-u", self._owner.pw_name, "--", *command] if self._owner else command

    def _run(self, command: list[str], what: str, timeout: float = 120) -> str:
        done = subprocess.run(self._as_owner(command), cwd=self.root, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{what} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")
        return done.stdout

    def psql(self, sql: str, dbname: str = "postgres", user: str = ADMIN, password: str | None = None) -> str:
        """Run SQL over TCP with a password, as a remote client would; raises on any error."""
        env = {**os.environ, "PGPASSWORD": self.admin_password if password is None else password,
               "PGCONNECT_TIMEOUT": "10"}
        done = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host,
             "-p", str(self.port), "-U", user, "-d", dbname, "-c", sql],
            capture_output=True, text=True, env=env, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql as {user} on {dbname} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def start(self) -> "PostgresServer":
        """initdb, start on a free port (retried if another process takes it first), create the client role."""
        self._owner = _server_user()
        if self._owner:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        pwfile = self.root / "admin.pw"
        pwfile.write_text(self.admin_password + "\n", encoding="utf-8")
        if self._owner:
            os.chown(pwfile, self._owner.pw_uid, self._owner.pw_gid)
        pwfile.chmod(0o600)
        self._run([str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", ADMIN, f"--pwfile={pwfile}",
                   "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"], "initdb")
        pwfile.unlink()
        for attempt in range(3):
            self.port = _free_port()
            options = (f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories={self.root}"
                       " -c fsync=off -c max_connections=50 -c shared_buffers=32MB")
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                           "-o", options, "-w", "-t", "60", "start"], "pg_ctl start")
                break
            except PostgresUnavailable:
                if attempt == 2:
                    raise PostgresUnavailable(f"PostgreSQL did not start: {self.log_tail()}") from None
        self.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{self.password}'")
        return self

    def create_database(self, prefix: str = "catalog") -> str:
        """A fresh, empty database owned by the client role (one per test keeps catalogs apart)."""
        self._databases += 1
        name = f"{prefix}_{self._databases}_{secrets.token_hex(3)}"
        self.psql(f"CREATE DATABASE {name} OWNER {ROLE}")
        return name

    def clone_database(self, source: str) -> str:
        """A copy of a database (a published catalog) for a test that changes it; nobody may be connected to it."""
        self._databases += 1
        clone = f"{source.split('_')[0]}_{self._databases}_{secrets.token_hex(3)}"
        self.psql(f"CREATE DATABASE {clone} TEMPLATE {source} OWNER {ROLE}")
        return clone

    def catalog_env(self, dbname: str) -> dict[str, str]:
        """The environment that points ThreatWatch's DuckLake catalog at `dbname` (password apart, as deployed)."""
        return {"THREATWATCH_CATALOG": f"postgres:{self.conninfo(dbname)}", "THREATWATCH_CATALOG_PASSWORD": self.password}

    def log_tail(self, chars: int = 2000) -> str:
        log = self.root / "server.log"
        return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else "(no server log)"

    def stop(self) -> None:
        """Stop the server (fast, then immediate) and delete the cluster folder."""
        if (self.data_dir / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                try:
                    self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "-t", "30",
                               "stop"], "pg_ctl stop", timeout=60)
                    break
                except (PostgresUnavailable, subprocess.TimeoutExpired):
                    time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """A started throwaway cluster in a new temp folder (/tmp: the server's OS user must reach it)."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="threatwatch-pg-"))
    server = PostgresServer(bindir=bindir, root=root)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
