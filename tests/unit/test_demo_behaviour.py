"""The demo's behavioural events: deterministic, well-formed, with the planted mistakes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import yaml

from patron.demo import behaviour, generate
from patron.demo.behaviour import DEMO_PLAN_YAML, generate_events
from patron.tracking.plan_files import load_yaml


def events() -> list[dict]:
    return generate_events(generate(people=600), seed=3)


def test_the_same_seed_gives_the_same_events() -> None:
    assert events() == events()


def test_messages_are_well_formed_and_in_time_order() -> None:
    messages = events()
    times = [datetime.fromisoformat(m["timestamp"]) for m in messages]
    assert times == sorted(times)
    for message in messages:
        assert message["type"] in ("identify", "track", "page", "group", "alias")
        assert message["messageId"].startswith("demo-")
        assert message.get("userId") or message.get("anonymousId")
        assert message["context"]["library"]["name"] == "analytics.js"


def test_visitors_sign_in_linking_their_anonymous_id() -> None:
    linking = [m for m in events() if m["type"] == "identify" and "anonymousId" in m and "userId" in m]
    assert linking
    traits = [m.get("traits") or m["context"]["traits"] for m in linking]
    assert all("email" in t for t in traits)
    assert any("traits" in m["context"] for m in linking)  # some send them the RudderStack way


def test_the_planted_mistakes_are_there() -> None:
    messages = events()
    names = Counter(m.get("event") for m in messages if m["type"] == "track")
    assert names["Wishlist Added"] == behaviour.UNPLANNED
    assert names["order completed"] + names["productViewed"] == behaviour.BADLY_NAMED
    assert sum(1 for m in messages if m.get("userId") in ("undefined", "null")) == behaviour.BLOCKED_IDS
    ids = Counter(m["messageId"] for m in messages)
    assert sum(n - 1 for n in ids.values()) == behaviour.RESENT
    orders = [m["properties"] for m in messages if m.get("event") == "Order Completed"]
    assert any("revenue" not in o for o in orders) and any(isinstance(o.get("revenue"), str) for o in orders)


def test_the_demo_plan_loads_and_defines_orders() -> None:
    assert yaml.safe_load(DEMO_PLAN_YAML)
    plan = load_yaml(DEMO_PLAN_YAML)
    order = next(e for e in plan.events if e.name == "Order Completed")
    assert {"order_id", "revenue"} <= set(order.schema["required"])
    assert "Wishlist Added" not in {e.name for e in plan.events}
