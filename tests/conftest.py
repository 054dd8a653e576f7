"""Shared fixtures: a fresh SQLite file and a fresh PostgreSQL database per test run.

PostgreSQL comes from PATRON_TEST_POSTGRES_URL (default: the local server, database `test`).
When none answers, a throwaway cluster is started with initdb/pg_ctl if the binaries exist;
otherwise the PostgreSQL half is skipped with one line saying why — except under CI=true,
where it must run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, delete, text

from patron.config import Settings
from patron.instance import InitResult, initialise
from patron.storage.engine import make_engine, transaction
from patron.storage.migrate import upgrade
from patron.storage.schema import metadata

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(_plain(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _throwaway_cluster(tmp: Path) -> tuple[str, Path, list[str]] | None:
    """Start a private PostgreSQL with initdb/pg_ctl; None when the binaries are missing.

    Returns (server URL, data directory, command prefix to run pg_ctl as the cluster's owner).
    """
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
    initdb = candidates[-1]
    if not initdb or not os.path.exists(initdb):
        return None
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres system user
        if (
            shutil.which("runuser") is None
            or subprocess.run(["id", "postgres"], capture_output=True).returncode
        ):
            return None
        as_owner = ["runuser", "-u", "postgres", "--"]
        os.chmod(tmp, 0o777)
    bindir = Path(initdb).parent
    data = tmp / "pgdata"
    subprocess.run(
        [*as_owner, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True, capture_output=True
    )
    port = _free_port()
    subprocess.run(
        [
            *as_owner,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1",
            "-l",
            str(tmp / "pg.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", data, as_owner


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """URL of a database created for this test run (dropped afterwards)."""
    server = os.environ.get("PATRON_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    cluster: tuple[Path, list[str]] | None = None
    if not _reachable(server):
        # Directly under /tmp: pytest's own temp tree is private to root, and the cluster's
        # owner (postgres, when the tests run as root) must be able to reach it.
        started = _throwaway_cluster(Path(tempfile.mkdtemp(prefix="patron-pg-")))
        if started is None:
            reason = f"PostgreSQL tests skipped: nothing answers at {server} and no initdb to start one"
            if IN_CI:
                pytest.fail(reason.replace("skipped", "cannot be skipped under CI"))
            pytest.skip(reason)
        server, data, as_owner = started
        cluster = (data, as_owner)
    name = f"patron_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_plain(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(_plain(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if cluster is not None:
        data, as_owner = cluster
        pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
        subprocess.run([*as_owner, pg_ctl, "-D", str(data), "stop", "-m", "fast"], capture_output=True)
        shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of an SQLite file made for this test run."""
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'patron.db'}"


@dataclass
class Database:
    """A migrated, emptied database for one test, with the keys `init` printed."""

    name: str
    url: str
    engine: Engine
    init: InitResult

    @property
    def settings(self) -> Settings:
        """Settings pointing at this database."""
        return Settings(database_url=self.url, secret_key="test-secret", default_region="US")

    @property
    def admin_key(self) -> str:
        """The admin API key `init` created."""
        assert self.init.admin_api_key
        return self.init.admin_api_key

    @property
    def write_key(self) -> str:
        """The write key `init` created."""
        assert self.init.write_key
        return self.init.write_key

    def env(self) -> dict[str, str]:
        """Environment for running the real `patron` command against this database."""
        return {
            **os.environ,
            "PATRON_DATABASE_URL": self.url,
            "PATRON_SECRET_KEY": "test-secret",
            "PATRON_DEFAULT_REGION": "US",
        }


_engines: dict[str, Engine] = {}


def _migrated_engine(url: str) -> Engine:
    if url not in _engines:
        engine = make_engine(url)
        upgrade(engine)
        _engines[url] = engine
    return _engines[url]


def empty_database(engine: Engine) -> None:
    """Remove every row from every table, keeping the schema."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on PostgreSQL, each starting empty and initialised."""
    url = request.getfixturevalue(f"{request.param}_url")
    engine = _migrated_engine(url)
    empty_database(engine)
    return Database(request.param, url, engine, initialise(engine))


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Database:
    """An empty, initialised SQLite database (for tests that need only one)."""
    engine = _migrated_engine(sqlite_url)
    empty_database(engine)
    return Database("sqlite", sqlite_url, engine, initialise(engine))


@pytest.fixture
def postgresql_db(postgresql_url: str) -> Database:
    """An empty, initialised PostgreSQL database."""
    engine = _migrated_engine(postgresql_url)
    empty_database(engine)
    return Database("postgresql", postgresql_url, engine, initialise(engine))


def run_patron(
    database: Database, *args: str, cwd: Path | None = None, check: bool = True, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `patron` entry point as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "patron", *args],
        env=database.env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"patron {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A scratch directory for files a test writes."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)
