"""Computed traits: each kind kept from events, for everyone or some people, writing only changes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron import computed
from patron.errors import Conflict, Invalid, NotFound
from patron.fields import get_field
from patron.fields.types import format_datetime
from patron.imports.runner import run_import
from patron.storage.engine import transaction
from patron.storage.schema import profiles
from patron.worker import Worker
from tests.conftest import Database
from tests.integration.test_admin import log_in, trait_row

# Close to the real clock, so anything the event processor derives on its own agrees with the
# explicit `now` these tests pass.
NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def person(api: TestClient, user_id: str, **traits: Any) -> str:
    """A profile known by user id (and email), made through the REST API."""
    body = {
        "traits": {"email": f"{user_id}@example.com", **traits},
        "identities": [{"kind": "user_id", "value": user_id}],
    }
    response = api.post("/api/v1/profiles", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def track(api: TestClient, db: Database, calls: list[dict[str, Any]]) -> None:
    """Send tracking calls with the write key ({"userId", "event", "at", "properties"}; "type" for
    other calls) and run the event processor until they are on the timelines."""
    batch = []
    for n, call in enumerate(calls):
        message = {
            "type": call.get("type", "track"),
            "userId": call["userId"],
            "timestamp": format_datetime(call["at"]),
            "messageId": call.get("messageId", f"{call['userId']}-{n}-{call['at'].timestamp()}"),
        }
        if message["type"] == "track":
            message["event"] = call["event"]
            message["properties"] = call.get("properties", {})
        if message["type"] == "page":
            message["name"] = call.get("event", "Home")
        batch.append(message)
    key = base64.b64encode(f"{db.write_key}:".encode()).decode()
    response = api.post("/v1/batch", json={"batch": batch}, headers={"Authorization": f"Basic {key}"})
    assert response.status_code == 200, response.text
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass


def traits_of(db: Database, profile_id: str) -> dict[str, Any]:
    with transaction(db.engine, write=False) as conn:
        return conn.execute(select(profiles.c.traits).where(profiles.c.id == profile_id)).scalar_one()


def refresh(db: Database, ids: list[str] | None = None, now: datetime = NOW) -> int:
    with transaction(db.engine) as conn:
        return computed.refresh(conn, ids, now=now)


@pytest.fixture
def shoppers(db: Database, api: TestClient) -> dict[str, str]:
    """Kim ordered twice (one big order), Lee browsed only, Park never came back."""
    with transaction(db.engine) as conn:
        computed.seed_builtins(conn, now=NOW)
    ids = {name: person(api, name) for name in ("kim", "lee", "park")}
    order = "Order Completed"
    track(
        api,
        db,
        [
            {"type": "identify", "userId": "kim", "at": days_ago(40)},
            {
                "userId": "kim",
                "event": order,
                "at": days_ago(30),
                "properties": {"revenue": 20, "plan": "pro"},
            },
            {
                "userId": "kim",
                "event": order,
                "at": days_ago(3),
                "properties": {"revenue": 99.5, "plan": "team"},
            },
            {"userId": "kim", "event": order, "at": days_ago(2), "properties": {"revenue": "lots"}},
            {"type": "page", "userId": "lee", "event": "Pricing", "at": days_ago(5)},
            {"userId": "lee", "event": "Product Viewed", "at": days_ago(1), "properties": {"revenue": 5}},
        ],
    )
    refresh(db)
    return ids


def test_builtins_keep_first_and_last_seen_orders_revenue_and_activity(
    db: Database, shoppers: dict[str, str]
) -> None:
    kim = traits_of(db, shoppers["kim"])
    assert kim["first_seen"] == format_datetime(days_ago(40))
    assert kim["last_seen"] == format_datetime(days_ago(2))
    assert kim["order_count"] == 3
    assert kim["total_revenue"] == 119.5  # "lots" is not a number: left out of the sum
    assert kim["last_order_at"] == format_datetime(days_ago(2))
    assert kim["active"] is True and kim["last_activity_at"] == format_datetime(days_ago(2))

    lee = traits_of(db, shoppers["lee"])
    # No order yet: no count or sum is written (a segment's count(...) = 0 still finds Lee).
    assert "order_count" not in lee and "total_revenue" not in lee and "last_order_at" not in lee
    assert lee["first_seen"] == format_datetime(days_ago(5)) and lee["last_seen"] == format_datetime(
        days_ago(1)
    )

    park = traits_of(db, shoppers["park"])
    assert "order_count" not in park and "first_seen" not in park


def test_every_computed_trait_is_typed_in_the_data_dictionary(db: Database, shoppers: dict[str, str]) -> None:
    with transaction(db.engine, write=False) as conn:
        types = {
            name: get_field(conn, name) for name in ("first_seen", "order_count", "total_revenue", "active")
        }
    assert types["first_seen"].type == "datetime" and types["first_seen"].source == "computed"
    assert types["order_count"].type == "number" and types["total_revenue"].type == "number"
    assert types["active"].type == "boolean"


def test_a_second_refresh_writes_nothing_and_a_new_event_is_counted(
    db: Database, api: TestClient, shoppers: dict[str, str]
) -> None:
    assert refresh(db) == 0
    track(
        api,
        db,
        [{"userId": "lee", "event": "Order Completed", "at": days_ago(0.5), "properties": {"revenue": 7}}],
    )
    refresh(db)
    lee = traits_of(db, shoppers["lee"])
    assert lee["order_count"] == 1 and lee["total_revenue"] == 7
    assert lee["last_order_at"] == format_datetime(days_ago(0.5))
    assert traits_of(db, shoppers["kim"])["order_count"] == 3
    assert refresh(db) == 0


def test_only_values_that_change_are_written_for_everyone_or_some(
    db: Database, shoppers: dict[str, str]
) -> None:
    much_later = NOW + timedelta(days=200)  # everyone turns inactive; no count, sum or time moves
    assert refresh(db, [shoppers["lee"]], now=much_later) == 1
    assert traits_of(db, shoppers["lee"])["active"] is False
    assert traits_of(db, shoppers["kim"])["active"] is True  # not asked for: left alone
    assert refresh(db, [], now=much_later) == 0
    assert refresh(db, None, now=much_later) == 2  # Kim and Park
    assert traits_of(db, shoppers["park"])["active"] is False


def test_active_turns_false_after_the_window_for_everyone_or_some(
    db: Database, shoppers: dict[str, str]
) -> None:
    later = NOW + timedelta(days=177)
    assert refresh(db, [shoppers["kim"]], now=later) == 0  # last activity 2 days ago: still within 180
    much_later = NOW + timedelta(days=200)
    refresh(db, [shoppers["kim"]], now=much_later)
    assert traits_of(db, shoppers["kim"])["active"] is False
    assert traits_of(db, shoppers["lee"])["active"] is True
    refresh(db, None, now=much_later)
    assert traits_of(db, shoppers["lee"])["active"] is False


def test_defining_a_count_with_filters_computes_it_at_once(db: Database, shoppers: dict[str, str]) -> None:
    with transaction(db.engine) as conn:
        trait = computed.define_computed(
            conn,
            name="big_orders",
            kind="count",
            event="Order Completed",
            where=[{"property": "revenue", "op": ">=", "value": 50}],
            description="Orders of 50 or more",
            now=NOW,
        )
        assert get_field(conn, "big_orders").type == "number"
    assert trait.as_dict()["type"] == "number" and trait.as_dict()["builtin"] is False
    assert traits_of(db, shoppers["kim"])["big_orders"] == 1
    assert traits_of(db, shoppers["lee"]).get("big_orders") is None  # no order at all


@pytest.mark.parametrize(
    ("kind", "event", "prop", "where", "expected"),
    [
        ("first", "Order Completed", None, [{"property": "plan", "op": "=", "value": "team"}], days_ago(3)),
        ("first", "Order Completed", None, [], days_ago(30)),
        ("sum", "Order Completed", "revenue", [{"property": "plan", "op": "contains", "value": "pr"}], 20),
        ("last_seen", None, None, None, days_ago(2)),
    ],
)
def test_each_kind_of_definition(
    db: Database,
    shoppers: dict[str, str],
    kind: str,
    event: str | None,
    prop: str | None,
    where: Any,
    expected: Any,
) -> None:
    with transaction(db.engine) as conn:
        computed.define_computed(
            conn, name="probe", kind=kind, event=event, property=prop, where=where, now=NOW
        )
    value = traits_of(db, shoppers["kim"])["probe"]
    assert value == (format_datetime(expected) if isinstance(expected, datetime) else expected)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": "1st", "kind": "count", "event": "X"}, "name"),
        ({"name": "email", "kind": "count", "event": "X"}, "name"),
        ({"name": "n", "kind": "median", "event": "X"}, "kind"),
        ({"name": "n", "kind": "count"}, "event"),
        ({"name": "n", "kind": "sum", "event": "X"}, "property"),
        ({"name": "n", "kind": "count", "event": "X", "property": "revenue"}, "property"),
        ({"name": "n", "kind": "first_seen", "event": "X"}, "event"),
        ({"name": "n", "kind": "count", "event": "X", "where": [{"property": "a", "op": "~", "value": 1}]},
         "where[0].op"),
        ({"name": "n", "kind": "active"}, "kind"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_naming_the_field(
    db: Database, fields: dict[str, Any], named: str
) -> None:
    with transaction(db.engine) as conn, pytest.raises(Invalid) as refused:
        computed.define_computed(conn, **fields, now=NOW)
    assert refused.value.field == named


def test_names_already_taken_are_conflicts(db: Database, shoppers: dict[str, str]) -> None:
    with transaction(db.engine) as conn, pytest.raises(Conflict):
        computed.define_computed(conn, name="order_count", kind="count", event="Order Completed", now=NOW)


def test_deleting_removes_the_values_but_builtins_stay(db: Database, shoppers: dict[str, str]) -> None:
    with transaction(db.engine) as conn:
        computed.define_computed(conn, name="views", kind="count", event="Product Viewed", now=NOW)
    assert traits_of(db, shoppers["lee"])["views"] == 1
    with transaction(db.engine) as conn:
        assert computed.delete_computed(conn, "views") == 1  # only Lee viewed a product
        with pytest.raises(NotFound):
            computed.get_computed(conn, "views")
        with pytest.raises(Invalid):
            computed.delete_computed(conn, "order_count")
    assert "views" not in traits_of(db, shoppers["lee"])


def test_seeding_builtins_twice_adds_nothing(db: Database, shoppers: dict[str, str]) -> None:
    with transaction(db.engine) as conn:
        assert computed.seed_builtins(conn, now=NOW) == 0
        names = [t.name for t in computed.list_computed(conn)]
    assert names[:6] == sorted(b["name"] for b in computed.BUILTINS)


def import_csv(db: Database, text: str) -> dict[str, Any]:
    """Import a CSV as `patron import` does; the summary's JSON form."""
    summary = run_import(
        db.engine, text.encode(), source="shop", default_region=None, batch_size=100, parallel_min_rows=10**9
    )
    return summary.as_dict()


def test_an_import_that_merges_a_visitor_in_brings_the_visitors_orders_along(
    db: Database, api: TestClient, shoppers: dict[str, str]
) -> None:
    track(
        api,
        db,
        [{"userId": "park", "event": "Order Completed", "at": days_ago(9), "properties": {"revenue": 8}}],
    )
    assert traits_of(db, shoppers["park"])["order_count"] == 1
    key = base64.b64encode(f"{db.write_key}:".encode()).decode()
    visit = {
        "type": "track",
        "anonymousId": "browser-park",
        "event": "Order Completed",
        "properties": {"revenue": 42},
        "timestamp": format_datetime(days_ago(4)),
        "messageId": "park-anonymous-order",
    }
    response = api.post("/v1/batch", json={"batch": [visit]}, headers={"Authorization": f"Basic {key}"})
    assert response.status_code == 200, response.text
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass

    # Kim's row only changes a trait: the computed values read from events stay as they were.
    summary = import_csv(
        db, "email,anonymous_id,city\npark@example.com,browser-park,Busan\nkim@example.com,,Seoul\n"
    )
    assert (summary["updated"], summary["rejected"]) == (2, 0)

    park = traits_of(db, shoppers["park"])
    assert park["city"] == "Busan"
    # Both profiles had one order: the merged person has two, counted from the events again.
    assert park["order_count"] == 2 and park["total_revenue"] == 50
    assert park["last_order_at"] == format_datetime(days_ago(4))
    kim = traits_of(db, shoppers["kim"])
    assert kim["city"] == "Seoul" and kim["order_count"] == 3 and kim["total_revenue"] == 119.5


def test_the_profile_page_says_which_traits_patron_computed(
    app_client: TestClient, db: Database, shoppers: dict[str, str]
) -> None:
    log_in(app_client, db)
    page = app_client.get(f"/admin/contacts/{shoppers['kim']}").text
    for name in ("order_count", "first_seen", "active", "last_activity_at"):
        assert ">computed</span>" in trait_row(page, name), name
    assert ">computed</span>" not in trait_row(page, "email")  # set by a source: it names that source
