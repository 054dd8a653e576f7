"""The demo's segment definitions, scoring rules and recent activity, checked without a database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from patron.demo.segments import (
    CUSTOMERS,
    DEMO_SEGMENTS,
    EXAMPLE,
    RULES,
    STAGES,
    RecentActivity,
)
from patron.scoring.rules import checked_rule
from patron.segments import parse, to_text
from patron.segments.store import referenced_names, walk

ISSUE_EXAMPLE = (
    'country = "US" and created_at > now - 6 months and count(event "Order Completed" in last 30 days) >= 2'
    ' and subscribed(email, "newsletter") and not in segment "Customers"'
)
DEFINITIONS = {name: text for name, _, text in DEMO_SEGMENTS}


def test_the_example_segment_is_the_issues_example_word_for_word() -> None:
    assert parse(DEFINITIONS[EXAMPLE]) == parse(ISSUE_EXAMPLE)
    assert parse(DEFINITIONS[EXAMPLE])["and"][-1] == {"not": {"segment": CUSTOMERS}}


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_every_demo_definition_parses_and_round_trips(name: str) -> None:
    tree = parse(DEFINITIONS[name])
    assert parse(to_text(tree)) == tree
    assert referenced_names(tree) <= set(DEFINITIONS) - {name}


def test_the_demo_segments_show_every_kind_of_condition() -> None:
    nodes = [node for text in DEFINITIONS.values() for node in walk(parse(text))]
    kinds = {
        key
        for node in nodes
        for key in ("and", "or", "not", "identity", "subscribed", "segment")
        if key in node
    }
    assert kinds == {"and", "or", "not", "identity", "subscribed", "segment"}
    assert {node["agg"] for node in nodes if "event" in node} == {"count", "sum"}
    assert any(node.get("where") for node in nodes if "event" in node)
    assert {node["op"] for node in nodes if "trait" in node} >= {"=", ">=", ">", "<", "in", "contains"}
    relative = [node for node in nodes if isinstance(node.get("value"), dict) and "now" in node["value"]]
    assert {node["trait"] for node in relative} == {"created_at", "last_order_at"}
    assert {"lead_score", "lead_stage"} <= {node["trait"] for node in nodes if "trait" in node}
    assert len(DEFINITIONS) == len(DEMO_SEGMENTS)  # names are unique


def test_scoring_rules_and_stages_are_valid() -> None:
    checked = [checked_rule(rule) for rule in RULES]
    assert {rule["kind"] for rule in checked} == {"event", "trait"}
    assert any(rule["max_awards"] for rule in checked) and any(rule["repeat"] == "once" for rule in checked)
    assert list(STAGES.values()) == sorted(STAGES.values()) and {"MQL", "SQL"} <= set(STAGES)
    engaged = parse(DEFINITIONS["Engaged leads"])
    stage_values = next(node["value"] for node in walk(engaged) if node.get("trait") == "lead_stage")
    assert set(stage_values) <= set(STAGES)


def test_recent_activity_messages_are_deterministic_and_in_the_past() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    shoppers = {f"p{n}": (f"C{n:04d}", "US" if n % 2 else "KR") for n in range(200)}

    def sent(seed: str) -> list[dict]:
        activity = RecentActivity(random.Random(seed), now)
        for profile_id in ["p1", "p3"]:
            user_id, country = shoppers[profile_id]
            activity._order(user_id, country, now - timedelta(days=10))
        activity._visit("C0002", "KR", now - timedelta(days=3), [("p-103", "Desk lamp", "Home", 68000)])
        return activity.items

    first, again = sent("segments-7"), sent("segments-7")
    assert first == again and len({m["messageId"] for m in first}) == len(first)
    assert all(datetime.fromisoformat(m["timestamp"]) <= now for m in first)
    orders = [m for m in first if m.get("event") == "Order Completed"]
    assert len(orders) == 2 and all(o["properties"]["currency"] == "USD" for o in orders)
    viewed = [m for m in first if m.get("event") == "Product Viewed" and m["userId"] == "C0002"]
    assert viewed[0]["properties"] == {"product_id": "p-103", "name": "Desk lamp", "category": "Home",
                                       "price": 68000, "currency": "KRW"}  # fmt: skip
