"""Consent speed on SQLite and PostgreSQL: importing 100,000 contacts with consent columns
(against the same import without them), appending to the ledger through record_many,
rebuilding every profile's state from the ledger, the send audience of one topic, and the
latency of RFC 8058 one-click unsubscribes over real HTTP.

PostgreSQL: a database created for the run on PATRON_TEST_POSTGRES_URL's server (default: the
local server), dropped afterwards (bench/scratch.py). Run: .venv/bin/python bench/consent.py [--rows N]
[--clicks N] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from scratch import scratch_postgres
from sqlalchemy import Engine, select

from patron.config import Settings
from patron.consent import Change, audience, create_topic, links_for, record_many, refresh_states
from patron.consent.imports import ConsentOptions
from patron.imports import run_import
from patron.instance import initialise
from patron.storage.engine import make_engine, transaction
from patron.storage.schema import profiles
from patron.web.app import create_app

HEADER = "Email,Country,Accepts Marketing,Lists,Consented At,Last Order At\n"
TOPICS = ("newsletter", "offers", "product_updates", "events")
# Express opt-in, opt-out and implied regions, roughly as a Korean shop with foreign customers sees them.
COUNTRIES = (("KR", 45), ("US", 25), ("CA", 10), ("GB", 10), ("DE", 10))
CONSENT = ConsentOptions(
    consent_column="Accepts Marketing",
    topics_column="Lists",
    at_column="Consented At",
    purchase_column="Last Order At",
    notice_version="bench-2026-01",
)
APPEND_BATCH = 5000


def write_csv(path: Path, rows: int) -> None:
    """A shop export: country, a yes or no, topic lists, a consent time on about 60% of rows."""
    rng = random.Random(20261201)
    codes, weights = zip(*COUNTRIES, strict=True)
    start = datetime(2024, 1, 1)
    lines = [HEADER]
    for n in range(rows):
        country = rng.choices(codes, weights)[0]
        says = "yes" if rng.random() < 0.7 else "no"
        lists = ";".join(rng.sample(TOPICS, rng.choice((0, 1, 1, 2)))) if says == "yes" else ""
        at = (
            (start + timedelta(minutes=rng.randrange(900 * 1440))).isoformat(" ")
            if rng.random() < 0.6
            else ""
        )
        order = (start + timedelta(days=rng.randrange(900))).date().isoformat() if rng.random() < 0.5 else ""
        lines.append(f'person{n}@example.com,{country},{says},"{lists}",{at},{order}\n')
    path.write_text("".join(lines))


def fresh(url: str) -> Engine:
    """A migrated, initialised database with the four topics."""
    engine = make_engine(url)
    initialise(engine)
    with transaction(engine) as conn:
        for key in TOPICS:
            create_topic(conn, {"key": key, "default": "opt_out" if key == "offers" else "opt_in"})
    return engine


def timed_import(engine: Engine, data: bytes, consent: ConsentOptions | None) -> tuple[float, Any]:
    """Seconds and summary of one import, as `patron import` runs it (read-ahead processes included)."""
    settings = Settings()
    summary = run_import(
        engine,
        data,
        source="shop",
        default_region=None,
        batch_size=settings.import_batch_size,
        parallel_min_rows=settings.import_parallel_min_rows,
        consent=consent,
    )
    return summary.seconds, summary


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def ledger_append(engine: Engine, profile_ids: list[str]) -> float:
    """Seconds to append one grant of 'events' per profile, APPEND_BATCH per transaction."""
    moment = datetime.now(UTC) - timedelta(days=1)
    started = time.perf_counter()
    for begin in range(0, len(profile_ids), APPEND_BATCH):
        items = [
            (pid, Change(channel="email", action="grant", topic="events", method="api", occurred_at=moment))
            for pid in profile_ids[begin : begin + APPEND_BATCH]
        ]
        with transaction(engine) as conn:
            record_many(conn, items)
    return time.perf_counter() - started


def free_port() -> int:
    """A local TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(engine: Engine, url: str) -> Iterator[Settings]:
    """The app under uvicorn in a thread on a free port; yields settings whose base URL is it."""
    port = free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", secret_key="bench-secret")
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine=engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield settings
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def one_clicks(engine: Engine, url: str, profile_ids: list[str]) -> list[float]:
    """Milliseconds per one-click POST, as a mailbox provider sends it, one after another."""
    with serving(engine, url) as settings:
        with transaction(engine, write=False) as conn:
            links = [links_for(conn, settings, pid)["unsubscribe"] for pid in profile_ids]
        latencies = []
        # One kept-alive connection: the figure is the server's work, not TCP set-up.
        address = urlsplit(settings.base_url)
        client = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        try:
            for link in links:
                started = time.perf_counter()
                client.request(
                    "POST",
                    urlsplit(link).path,
                    body="List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = client.getresponse()
                body = response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    raise RuntimeError(f"one-click answered {response.status}: {body[:200]!r}")
        finally:
            client.close()
    return latencies


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(name: str, urls: tuple[str, str], data: bytes, clicks: int) -> None:
    """Every figure for one database; urls: one database for the plain import, one for the rest."""
    plain_s, plain = timed_import(fresh(urls[0]), data, None)
    engine = fresh(urls[1])
    consent_s, summary = timed_import(engine, data, CONSENT)
    tally = summary.consent
    print(
        f"{name:<10} import {summary.rows:,} rows: {plain.rows / plain_s:,.0f} rows/s without consent "
        f"({plain_s:.2f} s), {summary.rows / consent_s:,.0f} rows/s with ({consent_s:.2f} s, "
        f"+{100 * (consent_s / plain_s - 1):.0f}%): granted {tally.granted:,} ({tally.implied:,} implied), "
        f"withdrawn {tally.withdrawn:,}, unproven {tally.unproven:,}, lapsed {tally.lapsed:,}"
    )
    with transaction(engine, write=False) as conn:
        profile_ids = list(conn.execute(select(profiles.c.id).order_by(profiles.c.id)).scalars())
    append_s = ledger_append(engine, profile_ids)
    print(
        f"{name:<10} ledger append via record_many: {len(profile_ids) / append_s:,.0f} rows/s "
        f"({len(profile_ids):,} grants in {append_s:.2f} s, state refresh included)"
    )

    def rebuild() -> None:
        with transaction(engine) as conn:
            refresh_states(conn, profile_ids)

    rebuild_s, _ = timed(rebuild)
    print(
        f"{name:<10} full state rebuild: {len(profile_ids) / rebuild_s:,.0f} profiles/s "
        f"({len(profile_ids):,} profiles in {rebuild_s:.2f} s)"
    )

    def newsletter_audience() -> list[str]:
        with transaction(engine, write=False) as conn:
            return audience(conn, "email", "newsletter")

    audience_s, members = timed(newsletter_audience)
    print(
        f"{name:<10} audience('email', 'newsletter') over {len(profile_ids):,} profiles: "
        f"{audience_s:.2f} s ({len(members):,} may be mailed)"
    )
    latencies = one_clicks(engine, urls[1], random.Random(5).sample(profile_ids, clicks))
    print(
        f"{name:<10} one-click POST /u/{{token}} over HTTP, {clicks:,} requests: "
        f"p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
        f"mean {statistics.fmean(latencies):.1f} ms"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--clicks", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "consent.csv"
        write_csv(path, args.rows)
        data = path.read_bytes()
        sqlite_urls = (f"sqlite:///{directory / 'plain.db'}", f"sqlite:///{directory / 'consent.db'}")
        measure("sqlite", sqlite_urls, data, args.clicks)
        if not args.skip_postgres:
            with scratch_postgres() as plain_url, scratch_postgres() as consent_url:
                measure("postgresql", (plain_url, consent_url), data, args.clicks)


if __name__ == "__main__":
    main()
