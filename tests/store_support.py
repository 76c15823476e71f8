"""A throw-away PostgreSQL 15 + PostGIS 3 server for the store tests, and the store fixtures.

The server is Debian's (``make test`` installs ``postgresql-15-postgis-3``), started once per test
session with ``initdb`` in a temporary folder on a free port, as the ``postgres`` user when the
tests run as root (PostgreSQL refuses to run as root), and stopped at the end.  Each test gets its
own database, copied from a template that already holds PostGIS (``CREATE DATABASE ... TEMPLATE``:
a file copy, where ``CREATE EXTENSION postgis`` per test cost seconds).  A watchdog process stops
the server when the test process dies without its teardown (SIGKILL, SIGTERM from ``timeout``), so
no server outlives its session.  When the server cannot be started the PostgreSQL tests FAIL with
the reason: they never skip quietly.

The Beijing default is saved once per backend per session (``saved_beijing``); the tests that only
read it (round trip, the lead's checks on a copy) share that save.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("GEO_COVERAGE_PG_BIN", "/usr/lib/postgresql/15/bin"))
BACKENDS = ("geopackage", "postgis")
TEMPLATE = "gc_template_postgis"
BEIJING_LABEL = "2020 census baseline"


OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_orphaned_servers(*, keep: Path | None = None) -> list[Path]:
    """Stop and remove the servers this fixture started in earlier sessions whose test process is
    gone (only folders it made: ``gc-pg-*`` holding its owner file)."""
    stopped = []
    for folder in Path(tempfile.gettempdir()).glob("gc-pg-*"):
        owner = folder / OWNER_FILE
        if folder == keep or not owner.is_file():
            continue
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            continue
        command = [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(folder / "data"),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        if (folder / "data" / "postmaster.pid").exists():
            subprocess.run(command, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
        stopped.append(folder)
    return stopped


PG_DEPS_LOG = Path(__file__).resolve().parents[1] / "test-artifacts" / "pg-deps.log"


def _install_failure() -> str:
    """Why ``make pg-deps`` could not install the packages (the end of apt's output it kept)."""
    if not PG_DEPS_LOG.is_file():
        return ""
    lines = PG_DEPS_LOG.read_text(errors="replace").strip().splitlines()[-15:]
    return f"; `make pg-deps` failed, {PG_DEPS_LOG.name} ends: " + " | ".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; ``url(db)`` for a database on it."""

    def __init__(self, *, durable: bool = False):
        self.durable = durable  # benchmarks keep fsync on; tests turn it off for speed
        self.folder = Path(tempfile.mkdtemp(prefix="gc-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.password = secrets.token_hex(12)
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        self.started = False
        self._watchdog: subprocess.Popen | None = None

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        command = [str(c) for c in command]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        for tool in ("initdb", "pg_ctl"):
            if not (PG_BIN / tool).exists():
                raise RuntimeError(
                    f"{PG_BIN / tool} is missing: install Debian's postgresql-15 "
                    f"and postgresql-15-postgis-3 (`make pg-deps`){_install_failure()}"
                )
        if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
            raise RuntimeError(
                "PostGIS for PostgreSQL 15 is missing: apt-get install postgresql-15-postgis-3 "
                f"(`make pg-deps`){_install_failure()}"
            )
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        self.folder.chmod(0o700)
        # Whose server this is: a later session stops it if this process died without stopping
        # it (a test run killed with SIGKILL cannot run its teardown).
        (self.folder / OWNER_FILE).write_text(str(os.getpid()))
        stop_orphaned_servers(keep=self.folder)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            shutil.chown(pwfile, "postgres")
        done = self._run(
            PG_BIN / "initdb",
            "-D",
            self.data,
            "-U",
            self.user,
            "--pwfile",
            pwfile,
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        pwfile.unlink()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=100"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        done = self._run(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.folder / "server.log",
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode:
            log = (
                (self.folder / "server.log").read_text(errors="replace")[-2000:]
                if (self.folder / "server.log").exists()
                else ""
            )
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log}")
        self.started = True
        self._start_watchdog()

    def _start_watchdog(self) -> None:
        """A small shell process, in a session of its own, that stops this server and removes its
        folder once the test process is gone however it ended (a SIGKILLed or SIGTERMed pytest
        runs no teardown).  ``stop()`` ends it first on a normal exit."""
        stop = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
        if self._as_postgres:
            stop = ["runuser", "-u", "postgres", "--", *stop]
        script = (
            'owner="$1"; shift; while kill -0 "$owner" 2>/dev/null; do sleep 1; done; '
            '"$@" >/dev/null 2>&1; rm -rf "$FOLDER"'
        )
        self._watchdog = subprocess.Popen(
            ["sh", "-c", script, "gc-pg-watchdog", str(os.getpid()), *stop],
            env={**os.environ, "FOLDER": str(self.folder)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def make_template(self) -> None:
        """A database holding PostGIS, the template of every test's database."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{TEMPLATE}" IS_TEMPLATE true ALLOW_CONNECTIONS false')

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        return (
            f"postgresql://{self.user}:{password or self.password}@127.0.0.1:{self.port}/{database}"
        )

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database; from ``template`` (a file copy) when given, else empty (the store
        then creates the PostGIS extension itself)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        if self.started:
            self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server; a test that needs it fails (never skips) when it cannot
    start."""
    server = PostgresServer()
    try:
        server.start()
        server.make_template()
    except Exception as exc:  # noqa: BLE001 - the reason is the test's failure message
        server.stop()
        pytest.fail(
            f"PostgreSQL + PostGIS could not be started for the store tests: {exc}", pytrace=False
        )
    yield server
    server.stop()


@pytest.fixture
def postgres_url(request, postgres_server):
    """A fresh database on the session's server, holding only PostGIS (dropped after the test)."""
    name = f"gc_{secrets.token_hex(6)}"
    url = postgres_server.create_database(name, template=TEMPLATE)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def store_location(request, tmp_path):
    """Where a new store goes: a GeoPackage path, or a fresh PostGIS database's URL."""
    if request.param == "geopackage":
        return str(tmp_path / "store.gpkg")
    return request.getfixturevalue("postgres_url")


def wait_for(predicate, *, timeout: float = 60.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class SavedBeijing:
    """The Beijing default saved as 2020 '2020 census baseline' by 'tester', once per backend per
    session, through the CLI in this process.  Tests only read it or work on a copy."""

    def __init__(self, request, folder: Path):
        self.request = request
        self.folder = folder
        self.locations: dict[str, str] = {}

    def location(self, backend: str) -> str:
        if backend not in self.locations:
            from geo_coverage.cli import main
            from geo_coverage.dataset import default_data_dir

            if backend == "geopackage":
                location = str(self.folder / "beijing.gpkg")
            else:  # an empty database: here the store creates the PostGIS extension itself
                location = self.request.getfixturevalue("postgres_server").create_database(
                    f"gc_beijing_{secrets.token_hex(4)}"
                )
            argv = ["snapshot", "add", "--store", location, "--year", "2020"]
            argv += ["--label", BEIJING_LABEL, "--author", "tester", str(default_data_dir())]
            assert main(argv) == 0, f"saving the Beijing default to the {backend} store failed"
            self.locations[backend] = location
        return self.locations[backend]

    def copy_to(self, path: Path) -> Path:
        """A private copy of the embedded store (SQLite's backup API: WAL content included)."""
        import sqlite3

        source = sqlite3.connect(self.location("geopackage"))
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return path


@pytest.fixture(scope="session")
def saved_beijing(request, tmp_path_factory):
    return SavedBeijing(request, tmp_path_factory.mktemp("beijing-store"))
