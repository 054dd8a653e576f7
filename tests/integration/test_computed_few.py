"""The real-time path for computed traits (a few people, one grouped read) gives the values the
whole-population path (one statement per trait) gives, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patron import computed
from patron.computed.few import refresh_few
from patron.computed.refresh import refresh_trait
from patron.storage.engine import transaction
from tests.conftest import Database
from tests.integration.test_computed_traits import NOW, days_ago, person, track, traits_of

PRICING = [{"property": "path", "op": "=", "value": "/pricing"}]
SHAPES = [
    {"kind": "count", "event": "Order Completed"},
    {"kind": "count", "event": "Page Viewed", "where": PRICING},
    {"kind": "sum", "event": "Order Completed", "property": "revenue"},
    {"kind": "sum", "event": "Order Completed", "property": "revenue",
     "where": [{"property": "currency", "op": "=", "value": "KRW"}]},
    {"kind": "first", "event": "Order Completed"},
    {"kind": "last", "event": "Page Viewed"},
    {"kind": "first_seen"},
    {"kind": "last_seen"},
]  # fmt: skip


def test_few_and_everyone_agree(db: Database, api: TestClient) -> None:
    people = [person(api, name) for name in ("kim", "lee", "park", "choi")]
    order = "Order Completed"
    track(api, db, [
        {"userId": "kim", "event": order, "at": days_ago(40), "properties": {"revenue": 12.5}},
        {"userId": "kim", "event": order, "at": days_ago(3), "properties": {"revenue": 3e4, "currency": "KRW"}},  # noqa: E501
        {"userId": "kim", "event": "Page Viewed", "at": days_ago(2), "properties": {"path": "/pricing"}},
        {"userId": "lee", "event": "Order Completed", "at": days_ago(9), "properties": {"revenue": "a lot"}},
        {"userId": "lee", "event": "Page Viewed", "at": days_ago(1), "properties": {"path": "/blog"}},
        {"userId": "park", "type": "page", "event": "Home", "at": days_ago(300)},
    ])  # fmt: skip
    with transaction(db.engine) as conn:
        for n, shape in enumerate(SHAPES):
            for side in ("few", "all"):
                computed.define_computed(conn, name=f"{side}_{n}", description=side, **shape, now=NOW)
        traits = computed.list_computed(conn)
        refresh_few(conn, [t for t in traits if t.name.startswith("few_")], people, now=NOW)
        for trait in traits:
            if trait.name.startswith("all_"):
                refresh_trait(conn, trait, None, now=NOW)
    compared = 0
    for profile_id in people:
        held = traits_of(db, profile_id)
        for n in range(len(SHAPES)):
            assert held.get(f"few_{n}") == held.get(f"all_{n}"), (profile_id, SHAPES[n], held)
            compared += f"all_{n}" in held
    assert compared >= 12  # most shapes hold a value for someone


def test_activity_follows_each_event(db: Database, api: TestClient) -> None:
    kim = person(api, "kim")
    track(api, db, [{"userId": "kim", "event": "Page Viewed", "at": days_ago(200)}])
    assert traits_of(db, kim)["active"] is False
    track(api, db, [{"userId": "kim", "event": "Page Viewed", "at": days_ago(1)}])
    held = traits_of(db, kim)
    assert held["active"] is True and held["last_activity_at"] == held["last_seen"]
