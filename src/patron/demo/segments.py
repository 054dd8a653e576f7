"""The demo's segments and lead scoring, with the last ninety days of shop activity behind them.

The demo's imported history ends at a fixed date, so "in last 30 days" would find nothing on the
day someone runs the demo. This module sends a deterministic wave of recent activity relative to
now (visits, product views, a handful of newsletter readers in the US who start buying in the shop),
then saves segments that show every kind of condition, and replays their evaluation every few
days over the last ninety so the admin's size-over-time chart has a shape. Everything goes
through the public paths (tracking ingest, the consent ledger, scoring, segments); the same seed
and the same day give the same result.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from patron import scoring
from patron.demo.behaviour import LIBRARY, PRODUCTS
from patron.demo.loading import send_events
from patron.identity.rules import IdentityRules
from patron.segments import create_segment, evaluate, list_segments, matching, parse
from patron.storage.engine import transaction
from patron.storage.schema import identities, profiles
from patron.storage.traits import trait_text
from patron.storage.types import utcnow

Progress = Callable[[str, int, int], None]
Product = tuple[str, str, str, int]  # id, name, category, price in won
HISTORY_DAYS = 90
STEP_DAYS = 3  # how often the replay re-evaluates: the chart's resolution
MAX_BUYERS = 12
LOOKER_SHARE, VISITOR_SHARE = 0.03, 0.2
DESK_LAMP = next(product for product in PRODUCTS if product[0] == "p-103")

CUSTOMERS = "Customers"
EXAMPLE = "New US repeat buyers"
# (name, description, definition); order matters only for reading: references resolve by name.
DEMO_SEGMENTS: list[tuple[str, str, str]] = [
    (CUSTOMERS, "Bought something, by the shop's books or the CRM's",
     'total_orders >= 1 or lead_status = "customer"'),
    (EXAMPLE,
     "New US sign-ups ordering again within a month, on the newsletter, whom the shop's books do "
     "not count as customers yet",
     'country = "US" and created_at > now - 6 months\n'
     '  and count(event "Order Completed" in last 30 days) >= 2\n'
     '  and subscribed(email, "newsletter") and not in segment "Customers"'),
    ("Korean customers", "Customers in Korea", 'country = "KR" and in segment "Customers"'),
    ("Engaged leads", "Scored past MQL by what they did, not customers yet",
     'lead_score >= 40 and lead_stage in ["MQL", "SQL"] and not in segment "Customers"'),
    ("Inactive", "Reachable by email, nothing viewed for 30 days nor ordered for 90",
     'has email and count(event "Product Viewed" in last 30 days) = 0\n'
     '  and count(event "Order Completed" in last 90 days) = 0'),
    ("No email address", "Known people Patron cannot email", "not has email and (has phone or has user_id)"),
    ("Desk lamp lookers", "Looked at the desk lamp twice in two weeks and bought nothing",
     'count(event "Product Viewed" where product_id = "p-103" in last 14 days) >= 2\n'
     '  and count(event "Order Completed" in last 14 days) = 0'),
    ("Big spenders in won", "Orders in won adding up to 50,000 or more",
     'sum(revenue of event "Order Completed" where currency = "KRW") >= 50000'),
    ("Lapsed customers", "Customers whose last shop order is more than six months old",
     'in segment "Customers" and last_order_at < now - 6 months'),
    ("Offers readers", "On the newsletter's offers list and subscribed to offers",
     'newsletter_lists contains "offers" and subscribed(email, "offers")'),
    ("Open CRM deals", "CRM leads still in play with a deal value",
     'lead_status in ["new", "contacted", "qualified"] and deal_value > 0'),
]  # fmt: skip
STAGES: dict[str, float] = {"subscriber": 0, "lead": 10, "MQL": 40, "SQL": 80, "customer": 150}
HALF_LIFE_DAYS = 30  # a visit a month ago counts half
RULES: list[dict[str, Any]] = [
    {"name": "Visited the shop", "kind": "event", "event": "Home", "points": 1},
    {"name": "Viewed a product", "kind": "event", "event": "Product Viewed", "points": 3},
    {"name": "Looked at the desk lamp", "kind": "event", "event": "Product Viewed", "points": 5,
     "where": [{"property": "product_id", "op": "=", "value": "p-103"}], "repeat": "once"},
    {"name": "Ordered", "kind": "event", "event": "Order Completed", "points": 25, "max_awards": 10},
    {"name": "Newsletter subscriber", "kind": "trait", "points": 10,
     "condition": 'subscribed(email, "newsletter")'},
]  # fmt: skip
# Who may become one of the example's new buyers: checked before the segments exist.
_NEW_US_READER = {
    "and": [
        {"trait": "country", "op": "=", "value": "US"},
        {"subscribed": {"channel": "email", "topic": "newsletter"}},
        {"not": {"segment": CUSTOMERS}},
    ]
}


def load_demo_segments(
    engine: Engine,
    *,
    seed: int,
    rules: IdentityRules,
    default_region: str | None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Scoring, recent activity, the demo's segments and their last ninety days; skipped (with
    the segments' sizes) when a previous demo run saved them."""
    now = now or utcnow()
    with transaction(engine) as conn:
        if any(segment.name == CUSTOMERS for segment in list_segments(conn)):
            return {"skipped": "segments already loaded", "segments": _sizes(conn)}
        activity = RecentActivity(random.Random(f"segments-{seed}"), now)
        messages = activity.messages(conn)
    sent = send_events(
        engine, messages, rules=rules, default_region=default_region, progress=progress,
        labels=("Recent activity", "Recent activity"),
    )["accepted"]  # fmt: skip
    with transaction(engine) as conn:
        # After the recent activity: a new rule scores everyone's past events, faded by their age.
        scoring.set_stages(
            conn, [{"name": name, "threshold": points} for name, points in STAGES.items()], now=now
        )
        scoring.set_half_life(conn, HALF_LIFE_DAYS, now=now)
        for rule in RULES:
            scoring.create_rule(conn, rule, now=now)
        _replay(conn, now, progress)
        sizes = _sizes(conn)
    return {
        "recent_events": sent,
        "new_buyers": len(activity.buyers),
        "rules": len(RULES),
        "stages": list(STAGES),
        "segments": sizes,
    }


def _sizes(conn: Connection) -> dict[str, int]:
    return {segment.name: segment.member_count for segment in list_segments(conn)}


def _replay(conn: Connection, now: datetime, progress: Progress | None) -> None:
    """Save the segments as of ninety days ago and re-evaluate them every few days up to now,
    so memberships enter and leave on the days their windows say."""
    start = now - timedelta(days=HISTORY_DAYS)
    ids = [
        create_segment(conn, name=name, description=description, definition=text, now=start).id
        for name, description, text in DEMO_SEGMENTS
    ]
    moments = [start + timedelta(days=d) for d in range(STEP_DAYS, HISTORY_DAYS, STEP_DAYS)] + [now]
    for step, moment in enumerate(moments, start=1):
        for segment_id in ids:
            evaluate(conn, segment_id, now=moment)
        if progress:
            progress("Replaying segments", step, len(moments))


class RecentActivity:
    """The last ninety days of the shop, relative to now, as tracking messages."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.items: list[dict[str, Any]] = []
        self.buyers: list[str] = []

    def messages(self, conn: Connection) -> list[dict[str, Any]]:
        """New US buyers from the newsletter's readers, desk-lamp lookers, everyday visits."""
        shoppers = _shoppers(conn)  # profile id -> (user id, country), in user id order
        readers = _new_buyers(conn, self.now)[:MAX_BUYERS]
        for index, (profile_id, email) in enumerate(readers):
            user_id = shoppers[profile_id][0] if profile_id in shoppers else f"W{index + 1:05d}"
            # Two in three are this month's buyers; the others bought two months ago and have
            # since left the "last 30 days" window, so the segment's history shows them leaving.
            days_ago = self.rng.uniform(8, 26) if index % 3 != 2 else self.rng.uniform(50, 80)
            first = self.now - timedelta(days=days_ago)
            # Signs up in the shop with the address the newsletter knows: the orders join them.
            self._add(first - timedelta(minutes=20), "identify", user_id, traits={"email": email})
            self._order(user_id, "US", first)
            self._order(user_id, "US", first + timedelta(days=self.rng.uniform(1, 6)))
            self.buyers.append(user_id)
        bought = {profile_id for profile_id, _ in readers}
        others = [profile_id for profile_id in shoppers if profile_id not in bought]
        lookers = self.rng.sample(others, max(3, int(len(others) * LOOKER_SHARE)))
        for profile_id in lookers:
            user_id, country = shoppers[profile_id]
            for days_ago in sorted(self.rng.sample(range(1, 13), 2), reverse=True):
                self._visit(user_id, country, self._at(days_ago), [DESK_LAMP])
        for profile_id in self.rng.sample(others, int(len(others) * VISITOR_SHARE)):
            user_id, country = shoppers[profile_id]
            for _ in range(self.rng.randrange(1, 4)):
                viewed = [self.rng.choice(PRODUCTS) for _ in range(self.rng.randrange(1, 4))]
                self._visit(user_id, country, self._at(self.rng.uniform(0.1, HISTORY_DAYS)), viewed)
        return sorted(self.items, key=lambda m: m["timestamp"])

    def _at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago, seconds=self.rng.randrange(3600))

    def _add(self, when: datetime, kind: str, user_id: str, **fields: Any) -> None:
        self.items.append(
            {
                "type": kind,
                "userId": user_id,
                **fields,
                "timestamp": when.isoformat(timespec="seconds"),
                "messageId": f"demo-recent-{len(self.items):06d}",
                "context": {"library": LIBRARY, "ip": f"203.0.113.{self.rng.randrange(1, 255)}"},
            }
        )

    def _visit(self, user_id: str, country: str, when: datetime, viewed: Sequence[Product]) -> None:
        home = {"path": "/", "url": "https://shop.example/", "title": "Home"}
        self._add(when, "page", user_id, name="Home", properties=home)
        currency = _currency(country)
        for product_id, name, category, price in viewed:
            when += timedelta(seconds=self.rng.randrange(20, 300))
            properties = {"product_id": product_id, "name": name, "category": category,
                          "price": _price(price, currency), "currency": currency}  # fmt: skip
            self._add(when, "track", user_id, event="Product Viewed", properties=properties)

    def _order(self, user_id: str, country: str, when: datetime) -> None:
        product = self.rng.choice(PRODUCTS)
        self._visit(user_id, country, when - timedelta(minutes=15), [product])
        currency = _currency(country)
        price = _price(product[3], currency)
        self._add(
            when,
            "track",
            user_id,
            event="Order Completed",
            properties={
                "order_id": f"o-r{len(self.items):05d}",
                "revenue": price,
                "currency": currency,
                "products": [{"product_id": product[0], "quantity": 1, "price": price}],
            },
        )


def _new_buyers(conn: Connection, now: datetime) -> list[tuple[str, str]]:
    """(profile id, email) of US newsletter readers who are not customers, in email order."""
    trees = {name: parse(text) for name, _, text in DEMO_SEGMENTS}
    readers = matching(conn, _NEW_US_READER, now=now, resolve=trees.__getitem__).subquery()
    email = func.min(identities.c.value)
    rows = conn.execute(
        select(identities.c.profile_id, email)
        .join(readers, readers.c.id == identities.c.profile_id)
        .where(identities.c.kind == "email")
        .group_by(identities.c.profile_id)
        .order_by(email)
    )
    return [(row[0], row[1]) for row in rows]


def _shoppers(conn: Connection) -> dict[str, tuple[str, str]]:
    """Profile id -> (user id, country) of everyone the shop knows by a user id, in user id order."""
    country = func.coalesce(trait_text(conn.dialect.name, "country"), "")
    rows = conn.execute(
        select(identities.c.profile_id, func.min(identities.c.value), func.max(country))
        .join(profiles, profiles.c.id == identities.c.profile_id)
        .where(identities.c.kind == "user_id")
        .group_by(identities.c.profile_id)
        .order_by(func.min(identities.c.value))
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _currency(country: str) -> str:
    return "KRW" if country == "KR" else "USD"


def _price(won: int, currency: str) -> float:
    return won if currency == "KRW" else round(won / 1300, 2)
