"""Segment speed on SQLite and PostgreSQL, over 1,000,000 profiles and 10,000,000 events.

For one 4-condition segment (a trait, a 6-month window on created_at, an event count in 30 days,
a topic subscription) it prints:
  (a) the same question asked as one hand-written SQL query (the schema's own indexes);
  (b) count(*) over `segments.compile.matching` (Patron's compiled query);
  (c) the materialising evaluation: `create_segment` (validation and first fill) and
      `membership.evaluate` again with nothing changed;
  (d) real time: with 20 live segments, one track event at a time is put into the intake as
      /v1/track does (`tracking.intake.prepare` + `store`, committed), then timed until the
      processor's transaction (`process_chunk` + `derive.react`) has committed the membership;
      p50/p95 over --samples events. Also the one-profile check of the 4-condition segment.
Targets (the issue): (c) within 4x of (a), about 1 s; (d) p95 <= 5 ms.

Data: bench/segments_data.py (cached SQLite file under var/bench/, a scratch PostgreSQL database
per run, bench/scratch.py). Run: .venv/bin/python bench/segments.py [--profiles N] [--events N]
[--db sqlite|postgresql|both] [--samples N] [--explain] [--fresh]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from scratch import scratch_postgres
from segments_data import CACHE, Loaded, Size, postgres_database, sqlite_database
from sqlalchemy import Connection, Engine, func, select, text

from patron.config import Settings
from patron.identity import rules_from
from patron.segments import compile as segment_sql
from patron.segments import membership
from patron.segments.definition import parse
from patron.segments.store import create_segment
from patron.storage.bulk import driver_datetime
from patron.storage.engine import make_engine, transaction
from patron.storage.schema import events, identities, profiles
from patron.tracking.dictionary import load_checker
from patron.tracking.intake import Source, prepare, store
from patron.tracking.processing import process_chunk

FOUR_CONDITIONS = (
    'country = "US" and created_at > now - 6 months and count(event "Order Completed" in last 30 days) >= 2 '
    'and subscribed(email, "newsletter")'
)
# The other 19 live segments: traits, event counts and sums in windows, consent, lead_score, nesting.
LIVE = (
    ("Korea", 'country = "KR"'),
    ("Paying North America", 'plan in ["pro", "enterprise"] and country in ["US", "CA"]'),
    ("Buyers 30d", 'count(event "Order Completed" in last 30 days) >= 1'),
    ("Browsers 7d", 'count(event "Product Viewed" in last 7 days) >= 3'),
    ("Hot leads", "lead_score >= 50"),
    ("Warm leads reachable", "lead_score >= 20 and subscribed(email)"),
    ("Newsletter", 'subscribed(email, "newsletter")'),
    ("Not reachable", "not subscribed(email)"),
    ("New this month", "created_at > now - 30 days"),
    ("Big spenders 90d", 'sum(revenue of event "Order Completed" in last 90 days) >= 200'),
    ("Signed in lately", 'last(event "Signed In") > now - 14 days'),
    ("UK with email", 'has email and country = "GB"'),
    ("Clickers", 'count(event "Email Clicked" in last 30 days) >= 1 and subscribed(email, "newsletter")'),
    ("New buyers", 'first(event "Order Completed") > now - 60 days'),
    (
        "Abandoned cart",
        'count(event "Product Added" in last 1 days) >= 1 '
        'and count(event "Order Completed" in last 1 days) = 0',
    ),
    ("Free but keen", 'plan = "free" and lead_score >= 30'),
    ("Dollar regulars", 'count(event "Order Completed" where currency = "USD" in last 365 days) >= 3'),
    ("US buyers", 'in segment "Buyers 30d" and country = "US"'),
    ("Old accounts abroad", 'country != "US" and created_at < now - 2 years'),
)
TRACKED = (
    "Order Completed",
    "Order Completed",
    "Product Viewed",
    "Product Added",
    "Signed In",
    "Email Clicked",
)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def repeated(action: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """One warm-up call, then `runs` timed calls: (seconds of each, the last result)."""
    result = action()
    seconds = []
    for _ in range(runs):
        took, result = timed(action)
        seconds.append(took)
    return seconds, result


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(seconds: list[float]) -> str:
    """Median and range of some timings."""
    return f"{statistics.median(seconds):.3f} s (of {len(seconds)}: {min(seconds):.3f}-{max(seconds):.3f})"


# --- (a) the hand-written query --------------------------------------------------------------

HAND_WRITTEN = {
    "sqlite": """
        WITH buyers AS (
            SELECT profile_id FROM events
            WHERE event = 'Order Completed' AND timestamp >= :window_start
            GROUP BY profile_id HAVING count(*) >= 2
        )
        SELECT count(*) FROM buyers JOIN profiles p ON p.id = buyers.profile_id
        WHERE json_extract(p.traits, '$.country') = 'US' AND json_type(p.traits, '$.country') = 'text'
          AND p.created_at > :signed_up_after
          AND EXISTS (SELECT 1 FROM consent_states c WHERE c.profile_id = p.id AND c.channel = 'email'
                      AND c.topic = 'newsletter' AND c.state = 'subscribed'
                      AND (c.expires_at IS NULL OR c.expires_at > :now))
          AND NOT EXISTS (SELECT 1 FROM consent_states g WHERE g.profile_id = p.id AND g.channel = 'email'
                          AND g.topic = '' AND g.state = 'unsubscribed')
    """,
    "postgresql": """
        WITH buyers AS (
            SELECT profile_id FROM events
            WHERE event = 'Order Completed' AND timestamp >= :window_start
            GROUP BY profile_id HAVING count(*) >= 2
        )
        SELECT count(*) FROM buyers JOIN profiles p ON p.id = buyers.profile_id
        WHERE p.traits ->> 'country' = 'US' AND jsonb_typeof(p.traits -> 'country') = 'string'
          AND p.created_at > :signed_up_after
          AND EXISTS (SELECT 1 FROM consent_states c WHERE c.profile_id = p.id AND c.channel = 'email'
                      AND c.topic = 'newsletter' AND c.state = 'subscribed'
                      AND (c.expires_at IS NULL OR c.expires_at > :now))
          AND NOT EXISTS (SELECT 1 FROM consent_states g WHERE g.profile_id = p.id AND g.channel = 'email'
                          AND g.topic = '' AND g.state = 'unsubscribed')
    """,
}


def hand_written_count(conn: Connection, now: datetime) -> int:
    """Members of the 4-condition segment by the query a developer would write for it."""
    values = {
        "window_start": now - timedelta(days=30),
        "signed_up_after": now - relativedelta(months=6),
        "now": now,
    }
    bound = {key: driver_datetime(conn, value) for key, value in values.items()}
    return conn.execute(text(HAND_WRITTEN[conn.dialect.name]), bound).scalar_one()


def compiled_count(conn: Connection, tree: dict[str, Any], now: datetime) -> int:
    """Members of a definition by Patron's compiled query, counted in the database."""
    return conn.execute(
        select(func.count()).select_from(segment_sql.matching(conn, tree, now=now).subquery())
    ).scalar_one()


def explain(conn: Connection, tree: dict[str, Any], now: datetime) -> None:
    """Print the plans of the hand-written and the compiled query (ANALYZE on PostgreSQL)."""
    compiled = select(func.count()).select_from(segment_sql.matching(conn, tree, now=now).subquery())
    values = {"window_start": now - timedelta(days=30), "signed_up_after": now - relativedelta(months=6),
              "now": now}  # fmt: skip
    bound = {key: driver_datetime(conn, value) for key, value in values.items()}
    postgresql = conn.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
    print("  -- hand-written:")
    for row in conn.execute(text(prefix + HAND_WRITTEN[conn.dialect.name]), bound):
        print("    ", row[-1])
    sql = compiled.compile(conn, compile_kwargs={"render_postcompile": True})
    print("  -- compiled:\n", "   ", str(sql).replace("\n", "\n    "))
    params = sql.construct_params()
    driver_sql = str(sql)
    for row in conn.exec_driver_sql(prefix + driver_sql, _positional(conn, sql, params)):
        print("    ", row[-1])


def _positional(conn: Connection, sql: Any, params: dict[str, Any]) -> Any:
    if conn.dialect.name == "postgresql":
        return {key: _driver_value(conn, value) for key, value in params.items()}
    return tuple(_driver_value(conn, params[name]) for name in sql.positiontup)


def _driver_value(conn: Connection, value: Any) -> Any:
    if isinstance(value, datetime):
        return driver_datetime(conn, value)
    return value


# --- (d) real time ---------------------------------------------------------------------------


def track_message(user: int, rng: random.Random) -> dict[str, Any]:
    """One track call as an SDK sends it."""
    event = rng.choice(TRACKED)
    properties: dict[str, Any] = {}
    if event == "Order Completed":
        properties = {"order_id": uuid.uuid4().hex[:12], "revenue": round(rng.uniform(10, 300), 2),
                      "currency": rng.choice(("USD", "USD", "EUR"))}  # fmt: skip
    elif event.startswith("Product"):
        properties = {"product_id": f"p{rng.randrange(5000)}", "category": "shoes"}
    return {
        "type": "track",
        "userId": f"u{user}",
        "event": event,
        "properties": properties,
        "messageId": uuid.uuid4().hex,
        "timestamp": datetime.now(UTC).isoformat(),
    }


class Tracker:
    """Sends track events the way /v1/track does and runs the processor after each one."""

    def __init__(self, engine: Engine, loaded: Loaded, samples: int) -> None:
        self.engine = engine
        self.settings = Settings()
        self.rules = rules_from(self.settings)
        with transaction(engine, write=False) as conn:
            self.plan = load_checker(conn)
        self.source = Source(name="bench-sdk")
        self.rng = random.Random(7)
        self.people = [self.rng.randrange(loaded.profiles) for _ in range(samples)]
        with transaction(engine, write=False) as conn:
            query = select(identities.c.value, identities.c.profile_id).where(
                identities.c.kind == "user_id", identities.c.value.in_([f"u{n}" for n in self.people])
            )
            self.owner = dict(conn.execute(query).all())

    def send_all(self) -> tuple[list[float], list[float]]:
        """Milliseconds of each intake write, and from its commit to the processor's commit."""
        intake_ms, latency_ms = [], []
        for n in self.people:
            prepared = prepare(
                [track_message(n, self.rng)], source=self.source, received_at=datetime.now(UTC),
                rules=self.rules, plan=self.plan,
            )  # fmt: skip
            started = time.perf_counter()
            with transaction(self.engine) as conn:
                store(conn, prepared)
            accepted = time.perf_counter()
            # What the worker's processor runs: process_chunk ends with derive.react for the
            # profiles it touched, so membership commits with the event.
            with transaction(self.engine) as conn:
                done = process_chunk(conn, rules=self.rules, default_region=self.settings.default_region)
            finished = time.perf_counter()
            if done.events != 1:
                raise RuntimeError(f"the processor took {done.events} events, expected the one just sent")
            intake_ms.append((accepted - started) * 1000)
            latency_ms.append((finished - accepted) * 1000)
        return intake_ms, latency_ms


def realtime(tracker: Tracker, four: dict[str, Any], live: int) -> None:
    """Latency from an accepted track event to committed membership, and the one-profile check."""
    engine = tracker.engine
    with transaction(engine, write=False) as conn:
        before = segment_events(conn)
    intake_ms, latency_ms = tracker.send_all()
    with transaction(engine, write=False) as conn:
        after = segment_events(conn)
    print(
        f"  (d) track event -> membership of {live} live segments committed (process_chunk with "
        f"derive.react), {len(latency_ms)} events: {_ms(latency_ms)}, max {max(latency_ms):.1f} ms; "
        f"{after[0] - before[0]} entries, {after[1] - before[1]} exits"
    )
    print(f"      intake write before it (the /v1/track transaction): {_ms(intake_ms)}")
    check_ms, react_ms = [], []
    for n in tracker.people:
        pid = tracker.owner[f"u{n}"]
        with transaction(engine, write=False) as conn:
            now = datetime.now(UTC)
            took, _ = timed(
                lambda conn=conn, pid=pid, now=now: conn.execute(
                    segment_sql.matching(conn, four, now=now, profile_ids=[pid])
                ).all()
            )
            check_ms.append(took * 1000)
        with transaction(engine) as conn:
            took, _ = timed(lambda conn=conn, pid=pid: membership.react(conn, [pid]))
            react_ms.append(took * 1000)
    print(f"      one-profile check of the 4-condition segment: {_ms(check_ms, 2)}")
    print(f"      segments.react of one profile over {live} segments, nothing changed: {_ms(react_ms, 2)}")


def _ms(values: list[float], digits: int = 1) -> str:
    return f"p50 {percentile(values, 0.5):.{digits}f} ms, p95 {percentile(values, 0.95):.{digits}f} ms"


def segment_events(conn: Connection) -> tuple[int, int]:
    """How many "Segment Entered" and "Segment Exited" events there are."""
    counted = dict(
        conn.execute(
            select(events.c.event, func.count())
            .where(events.c.type == membership.EVENT_TYPE)
            .group_by(events.c.event)
        ).all()
    )
    return counted.get(membership.ENTERED, 0), counted.get(membership.EXITED, 0)


# --- one database ----------------------------------------------------------------------------


def measure(name: str, loaded: Loaded, *, runs: int, samples: int, show_plans: bool) -> None:
    """Every figure for one database."""
    engine = make_engine(loaded.url)
    now = datetime.now(UTC)
    four = parse(FOUR_CONDITIONS)
    with transaction(engine, write=False) as conn:
        total = conn.execute(select(func.count()).select_from(profiles)).scalar_one()
    print(
        f"{name}: {total:,} profiles, {loaded.events:,} events; generation and load "
        + (f"{loaded.seconds:.0f} s" if loaded.seconds else "skipped (cached file)")
        + f"; load average {os.getloadavg()[0]:.1f} (other work on the machine moves every figure)"
    )

    def hand() -> int:
        with transaction(engine, write=False) as conn:
            return hand_written_count(conn, now)

    def compiled() -> int:
        with transaction(engine, write=False) as conn:
            return compiled_count(conn, four, now)

    hand_s, expected = repeated(hand, runs)
    compiled_s, counted = repeated(compiled, runs)
    agree = "same count" if counted == expected else f"COUNTS DIFFER: hand-written {expected:,}"
    print(f"  (a) hand-written SQL: {spread(hand_s)}, {expected:,} members")
    print(f"  (b) count over compile.matching: {spread(compiled_s)}, {counted:,} members ({agree}); "
          f"{statistics.median(compiled_s) / statistics.median(hand_s):.1f}x (a)")  # fmt: skip
    if show_plans:
        with transaction(engine, write=False) as conn:
            explain(conn, four, now)

    tracker = Tracker(engine, loaded, samples)
    _, bare_ms = tracker.send_all()
    print(f"      processor alone, no segments saved yet (same events): {_ms(bare_ms)}")

    with transaction(engine) as conn:
        fill_s, segment = timed(
            lambda: create_segment(conn, name="US newsletter buyers", definition=FOUR_CONDITIONS)
        )
    evaluate_s = []
    for _ in range(runs):
        with transaction(engine) as conn:
            took, changes = timed(lambda: membership.evaluate(conn, segment.id))
        evaluate_s.append(took)
        if changes.as_dict() != {"entered": 0, "exited": 0}:
            raise RuntimeError(f"re-evaluation with no data change changed membership: {changes.as_dict()}")
    median_eval = statistics.median(evaluate_s)
    print(
        f"  (c) create_segment (check + first fill): {fill_s:.3f} s; membership.evaluate, nothing changed: "
        f"{spread(evaluate_s)}; {median_eval / statistics.median(hand_s):.1f}x (a)"
    )

    created = []
    for segment_name, definition in LIVE:
        with transaction(engine) as conn:
            took, saved = timed(
                lambda conn=conn, n=segment_name, d=definition: create_segment(conn, name=n, definition=d)
            )
        created.append((took, segment_name, saved.member_count))
    total_s = sum(t for t, _, _ in created)
    print(f"      {len(LIVE)} more live segments created (each filled): {total_s:.1f} s "
          "in all; seconds (members) each:")  # fmt: skip
    for took, segment_name, count in sorted(created, reverse=True):
        print(f"        {took:7.2f} s  {segment_name} ({count:,})")
    realtime(tracker, four, 1 + len(LIVE))
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of (a), (b), (c) after a warm-up")
    parser.add_argument("--samples", type=int, default=200, help="track events for (d)")
    parser.add_argument("--explain", action="store_true", help="print the query plans of (a) and (b)")
    parser.add_argument("--fresh", action="store_true", help="generate the SQLite file even if cached")
    args = parser.parse_args()
    size = Size(args.profiles, args.events)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; definition: {FOUR_CONDITIONS}"
    )
    options = {"runs": args.runs, "samples": args.samples, "show_plans": args.explain}
    if args.db in ("sqlite", "both"):
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            took, loaded = timed(lambda: sqlite_database(size, Path(tmp), fresh=args.fresh))
            print(f"sqlite: working copy ready in {took:.0f} s")
            measure("sqlite", loaded, **options)
    if args.db in ("postgresql", "both"):
        with scratch_postgres() as url:
            measure("postgresql", postgres_database(url, size), **options)


if __name__ == "__main__":
    main()
