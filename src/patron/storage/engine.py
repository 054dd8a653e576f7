"""Engines for SQLite (WAL, busy timeout, write-intent transactions) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

# A writer waits this long for SQLite's lock before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite's own default (~4 MB of WAL): small, frequent checkpoints keep request latency even;
# bulk imports defer theirs to the end instead (bulk_connection).
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 1000
# Page cache of a bulk job's connection, in KiB (SQLite's default is 2,000): the identity and
# profile indexes an import inserts into at random stay in memory (bench/import.py: -0.5 s a
# 100,000-row import). Only what is touched is allocated; the default returns afterwards.
SQLITE_BULK_CACHE_KIB = 131_072
SQLITE_DEFAULT_CACHE_KIB = 2_000
# Connections kept open: as many as the web server's threads use at once, so busy moments
# do not open (and set up) fresh ones.
SQLITE_POOL_SIZE = 20
_WRITE = "patron_write"


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and route them to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, tuned per dialect; the same code runs on both."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    # No JIT: on segment and report queries over a million profiles it spent more time compiling
    # (2.4 s of a 6.9 s query, bench/segments.py) than it could save.
    kwargs.setdefault("connect_args", {"options": "-c jit=off"})
    return create_engine(
        url,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        **kwargs,
    )


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
    kwargs.setdefault("max_overflow", SQLITE_POOL_SIZE)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # pysqlite would emit its own deferred BEGIN; we emit ours in _on_begin instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: durable across application crashes, fsyncs only at checkpoints.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Sorts and DISTINCT b-trees (the quality report) stay in memory, not in temp files.
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Deleted and overwritten content is zeroed as it is freed, so an erased person's data
        # (and old values of anyone's) does not linger in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A transaction that will write takes the write lock up front. Upgrading a deferred
        # read transaction to a write fails at once with SQLITE_BUSY under WAL, busy timeout
        # or not, whenever another writer committed in between.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


_writer_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """Serialises this process's SQLite writers (a no-op on PostgreSQL).

    SQLite admits one writer; a thread that finds the lock taken is put to sleep by SQLite's
    busy handler in steps of up to 100 ms, however soon the lock frees. Waiting on a Python lock
    instead wakes it at once: ingest's p99 latency fell from ~430 ms (bench/ingest.py).
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    lock = _writer_locks.get(engine)
    if lock is None:
        lock = _writer_locks.setdefault(engine, threading.Lock())
    return lock


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Connection]:
    """One transaction at the edge (a request, a job step, a CLI command); commits on success."""
    with engine.connect() as conn:
        if not write:
            with conn.begin():
                yield conn
            return
        conn.execution_options(**{_WRITE: True})
        with writer_lock(engine), conn.begin():
            yield conn


@contextmanager
def bulk_connection(engine: Engine) -> Iterator[Connection]:
    """One connection for a bulk job's many write transactions (`with conn.begin(): ...`).

    On SQLite the WAL is checkpointed once, at the end, instead of every few batches: index
    pages that many batches touch are then copied into the database file once, not once per
    checkpoint (bench/import.py: a third less commit time). PostgreSQL: a plain connection.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        if conn.dialect.name != "sqlite":
            yield conn
            return
        # Straight to the driver: a checkpoint cannot run inside the transaction SQLAlchemy
        # would begin, and pysqlite is in autocommit mode here (see _on_connect).
        driver = conn.connection.driver_connection
        driver.execute("PRAGMA wal_autocheckpoint=0")
        driver.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
        try:
            yield conn
        finally:
            conn.rollback()
            driver.execute(f"PRAGMA cache_size=-{SQLITE_DEFAULT_CACHE_KIB}")
            driver.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)")


def is_postgresql(conn: Connection) -> bool:
    """True when `conn` talks to PostgreSQL."""
    return conn.dialect.name == "postgresql"
