"""Data for bench/segments.py: a migrated Patron database holding N profiles and M events.

The schema comes from the project's own migrations (`initialise`), then rows are bulk-loaded
straight into the tables: on SQLite through the driver's executemany in one transaction with
the journal and fsyncs off; on PostgreSQL through COPY with foreign-key triggers off. The events
table's secondary indexes are dropped for the load and rebuilt from their own definitions
afterwards (one sort each instead of 10M random b-tree inserts), then ANALYZE.

Distributions (one seed, so both databases get the same rows): countries with US ~20%;
created_at uniform over 3 years; ~half the profiles carry a lead_score; events uniform over a
year, 80% of them from the most active 20% of people, 10 names of which "Order Completed" is
5%; consent rows for ~60% of profiles (email channel-wide and email/newsletter).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from patron.consent import create_topic
from patron.instance import initialise
from patron.storage.engine import make_engine, transaction
from patron.storage.migrate import MIGRATIONS

SEED = 20261201
CHUNK = 200_000
CACHE = Path(__file__).resolve().parent.parent / "var" / "bench"
SOURCE = "bench"

COUNTRIES = {"US": 0.20, "KR": 0.25, "GB": 0.10, "DE": 0.10, "CA": 0.08, "FR": 0.07, "JP": 0.07,
             "AU": 0.05, "BR": 0.04, "IN": 0.04}  # fmt: skip
PLANS = {"free": 0.70, "pro": 0.25, "enterprise": 0.05}
EVENT_NAMES = {"Product Viewed": 0.30, "Signed In": 0.15, "Email Opened": 0.12, "Product Added": 0.10,
               "Search Performed": 0.10, "Checkout Started": 0.06, "Order Completed": 0.05,
               "Email Clicked": 0.05, "Cart Viewed": 0.05, "Subscription Renewed": 0.02}  # fmt: skip
CATEGORIES = ("shoes", "shirts", "bags", "hats", "socks")
FIRST_NAMES = ("Minjun", "Seoyeon", "Emily", "James", "Jiwoo", "Olivia", "Hajun", "Noah", "Doyun", "Ava")
# Share of profiles with consent rows, and the state odds of each row.
CONSENT_SHARE = 0.60
CHANNEL_STATES = {"subscribed": 0.85, "unsubscribed": 0.10, "pending": 0.05}
NEWSLETTER_STATES = {"subscribed": 0.70, "unsubscribed": 0.30}
ACTIVE_SHARE, ACTIVE_EVENTS = 0.20, 0.80
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PROFILE_COLUMNS = ("id", "traits", "provenance", "search", "quality", "email_key", "created_at", "updated_at")
IDENTITY_COLUMNS = ("kind", "value", "profile_id", "source", "created_at")
EVENT_COLUMNS = ("profile_id", "source", "message_id", "type", "event", "user_id", "properties", "context",
                 "timestamp", "received_at")  # fmt: skip
CONSENT_COLUMNS = (
    "profile_id",
    "channel",
    "topic",
    "state",
    "since",
    "expires_at",
    "legal_basis",
    "ledger_id",
)


@dataclass(frozen=True, slots=True)
class Size:
    """How much data a run uses."""

    profiles: int
    events: int

    @property
    def label(self) -> str:
        """A file-name-safe key for the cache."""
        return f"{self.profiles}p-{self.events}e"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A database ready to measure."""

    url: str
    generated_at: datetime  # the moment the data's times are relative to
    seconds: float  # generation and load (0 when it came from the cache)
    profiles: int
    events: int


# --- generation ------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, odds: dict[str, float], count: int) -> np.ndarray:
    names = np.array(list(odds), dtype=object)
    weights = np.array(list(odds.values()))
    return names[rng.choice(len(names), size=count, p=weights / weights.sum())]


def _crockford(value: int, width: int) -> str:
    letters = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        letters.append(_CROCKFORD[digit])
    return "".join(reversed(letters))


def _stamps(now: datetime, ages_s: np.ndarray) -> list[datetime]:
    return [now - timedelta(seconds=float(age)) for age in ages_s]


@dataclass(slots=True)
class People:
    """The generated profiles, column by column (index n is person n)."""

    ids: list[str]
    created: list[datetime]
    updated: list[datetime]
    traits: list[str]
    emails: list[str]
    consent: list[tuple[int, str, str]]  # (person, topic, state)


def people(size: Size, now: datetime) -> People:
    """Profiles with traits and consent, deterministic for a size."""
    rng = np.random.default_rng(SEED)
    count = size.profiles
    three_years_s = 3 * 365.25 * 86400
    ages = rng.uniform(0, three_years_s, count)
    since_update = ages * rng.uniform(0, 1, count)
    created = _stamps(now, ages)
    updated = _stamps(now, since_update)
    countries = _pick(rng, COUNTRIES, count)
    plans = _pick(rng, PLANS, count)
    has_score = rng.uniform(0, 1, count) < 0.5
    scores = np.floor(100 * rng.beta(2, 5, count)).astype(int)
    first = rng.integers(0, len(FIRST_NAMES), count)
    # ULID shape: creation milliseconds, then 80 bits that are unique per person (odd multiplier).
    ids = [
        _crockford(int(moment.timestamp() * 1000), 10) + _crockford((n * 0x9E3779B97F4A7C15) % 2**80, 16)
        for n, moment in enumerate(created)
    ]
    emails = [f"person{n}@example.com" for n in range(count)]
    traits = []
    for n in range(count):
        document = {"email": emails[n], "first_name": FIRST_NAMES[first[n]], "country": countries[n],
                    "plan": plans[n]}  # fmt: skip
        if has_score[n]:
            document["lead_score"] = int(scores[n])
        traits.append(json.dumps(document, separators=(",", ":")))
    consenting = np.flatnonzero(rng.uniform(0, 1, count) < CONSENT_SHARE)
    channel = _pick(rng, CHANNEL_STATES, len(consenting))
    newsletter = _pick(rng, NEWSLETTER_STATES, len(consenting))
    consent = [(int(n), "", str(c)) for n, c in zip(consenting, channel, strict=True)]
    consent += [(int(n), "newsletter", str(s)) for n, s in zip(consenting, newsletter, strict=True)]
    return People(ids, created, updated, traits, emails, consent)


def event_chunks(size: Size, now: datetime) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    """(person index, name, age in seconds, first message number) per chunk, oldest first."""
    rng = np.random.default_rng(SEED + 1)
    count = size.events
    year_s = 365 * 86400.0
    ages = np.sort(rng.uniform(0, year_s, count))[::-1]  # arrival order: oldest first
    order = rng.permutation(size.profiles)
    active = order[: max(1, int(size.profiles * ACTIVE_SHARE))]
    from_active = rng.uniform(0, 1, count) < ACTIVE_EVENTS
    who = np.where(
        from_active, active[rng.integers(0, len(active), count)], rng.integers(0, size.profiles, count)
    )
    names = _pick(rng, EVENT_NAMES, count)
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        yield who[start:stop], names[start:stop], ages[start:stop], start


def _properties(name: str, number: int) -> str:
    if name == "Order Completed":
        currency = "USD" if number % 4 else "EUR"
        return f'{{"order_id":"o{number}","revenue":{10 + (number * 7919) % 490}.5,"currency":"{currency}"}}'
    if name in ("Product Viewed", "Product Added"):
        return f'{{"product_id":"p{number % 5000}","category":"{CATEGORIES[number % len(CATEGORIES)]}"}}'
    return "{}"


# --- loading ---------------------------------------------------------------------------------


def _sqlite_time(moment: datetime) -> str:
    # What UTCDateTime stores on SQLite (storage.bulk.driver_datetime): naive UTC text.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _rows(
    size: Size, now: datetime, crowd: People, stamp: Callable[[datetime], str], suffix: str
) -> Iterator[tuple[str, list[tuple]]]:
    """(table, rows) batches in load order; `stamp` turns a datetime into the driver's text, whose
    zone `suffix` the event times (formatted by numpy) end with."""
    created = [stamp(m) for m in crowd.created]
    updated = [stamp(m) for m in crowd.updated]
    ids = crowd.ids
    for start in range(0, size.profiles, CHUNK):
        span = range(start, min(size.profiles, start + CHUNK))
        yield (
            "profiles",
            [(ids[n], crowd.traits[n], "{}", "", "", crowd.emails[n], created[n], updated[n]) for n in span],
        )
        yield (
            "identities",
            [("email", crowd.emails[n], ids[n], SOURCE, created[n]) for n in span]
            + [("user_id", f"u{n}", ids[n], SOURCE, created[n]) for n in span],
        )
    consent = [
        (ids[n], "email", topic, state, created[n], None, "consent", 0) for n, topic, state in crowd.consent
    ]
    for start in range(0, len(consent), CHUNK):
        yield "consent_states", consent[start : start + CHUNK]
    base = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")
    for who, names, ages, first in event_chunks(size, now):
        moments = base - (ages * 1e6).astype("timedelta64[us]")
        texts = np.char.add(np.char.replace(np.datetime_as_string(moments, unit="us"), "T", " "), suffix)
        users = [f"u{n}" for n in who.tolist()]
        rows = [
            (ids[n], SOURCE, f"{first + k:012d}", "track", name, users[k], _properties(name, first + k), "{}",
             at, at)
            for k, (n, name, at) in enumerate(zip(who.tolist(), names.tolist(), texts.tolist(), strict=True))
        ]  # fmt: skip
        yield "events", rows


COLUMNS = {"profiles": PROFILE_COLUMNS, "identities": IDENTITY_COLUMNS, "consent_states": CONSENT_COLUMNS,
           "events": EVENT_COLUMNS}  # fmt: skip


def _prepare_schema(url: str) -> Engine:
    """Migrated and initialised, with the newsletter topic the consent rows name."""
    engine = make_engine(url)
    initialise(engine)
    with transaction(engine) as conn:
        create_topic(conn, {"key": "newsletter", "name": "Newsletter", "default": "opt_in"})
    return engine


def schema_revision() -> str:
    """The migrations' head: a cached file made before a new migration is made again."""
    return str(ScriptDirectory(str(MIGRATIONS)).get_current_head())


def load_sqlite(path: Path, size: Size, now: datetime) -> None:
    """Create `path` with the schema, then load every row in one transaction."""
    engine = _prepare_schema(f"sqlite:///{path}")
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA journal_mode=OFF")  # a failed load is thrown away, never rolled back
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache
    db.execute("PRAGMA temp_store=MEMORY")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
    ).fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    crowd = people(size, now)
    for table, rows in _rows(size, now, crowd, _sqlite_time, ""):
        columns = COLUMNS[table]
        marks = ", ".join("?" for _ in columns)
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()


def load_postgres(url: str, size: Size, now: datetime) -> None:
    """Schema by migration, rows by COPY (foreign-key triggers off: the rows agree by construction)."""
    engine = _prepare_schema(url)
    engine.dispose()
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as db:
        db.execute("SET session_replication_role = replica")
        db.execute("SET maintenance_work_mem = '512MB'")
        indexes = db.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'events' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        crowd = people(size, now)
        with db.cursor() as cursor:
            for table, rows in _rows(size, now, crowd, _pg_time, "+00"):
                with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                    copy.write("".join(_copy_line(row) for row in rows))
        for _, sql in indexes:
            db.execute(sql)
        db.commit()
    with psycopg.connect(plain, autocommit=True) as db:
        # A freshly copied table has no visibility map: index-only scans would visit the heap.
        db.execute("VACUUM (ANALYZE)")


def _copy_line(row: tuple) -> str:
    # COPY text format; no generated value holds a tab, newline or backslash.
    return "\t".join("\\N" if value is None else str(value) for value in row) + "\n"


def sqlite_database(size: Size, work: Path, *, fresh: bool = False) -> Loaded:
    """A working copy of the cached SQLite file for `size` (generated first when missing)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = f"segments-{size.label}-{schema_revision()}"
    cached, marker = CACHE / f"{key}.db", CACHE / f"{key}.json"
    seconds = 0.0
    if fresh or not marker.exists():
        marker.unlink(missing_ok=True)
        cached.unlink(missing_ok=True)
        now = datetime.now(UTC)
        started = time.perf_counter()
        load_sqlite(cached, size, now)
        seconds = time.perf_counter() - started
        # Written last: a file without its marker is a failed run and is made again.
        marker.write_text(json.dumps({"generated_at": now.isoformat(), "seconds": seconds}))
    facts = json.loads(marker.read_text())
    target = work / "segments.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(cached, target)
    return Loaded(f"sqlite:///{target}", datetime.fromisoformat(facts["generated_at"]), seconds,
                  size.profiles, size.events)  # fmt: skip


def postgres_database(url: str, size: Size) -> Loaded:
    """Load `size` into the (empty, scratch) PostgreSQL database at `url`."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    load_postgres(url, size, now)
    return Loaded(url, now, time.perf_counter() - started, size.profiles, size.events)
