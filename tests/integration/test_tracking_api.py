"""The Segment-compatible tracking API over HTTP, and the event processor, on both databases."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from patron.web.app import create_app
from patron.worker import Worker
from tests.conftest import Database
from tests.integration.calls import api_get


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.fixture
def tracker(db: Database, app_client: TestClient) -> TestClient:
    """A client sending with the write key, as server SDKs do."""
    app_client.headers.update(basic(db.write_key))
    return app_client


def process(db: Database) -> None:
    """Run the event processor until the intake is empty."""
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass


def profile_of(client: TestClient, db: Database, **identity: str) -> dict:
    return api_get(client, db, "/api/v1/profiles/lookup", **identity)


def test_identify_then_track_builds_a_profile_and_its_timeline(tracker: TestClient, db: Database) -> None:
    identify = tracker.post(
        "/v1/identify",
        json={
            "userId": "u-1",
            "traits": {"email": " Kim@Example.com ", "first_name": "민준", "plan": "pro"},
            "messageId": "m-1",
        },
    )
    assert identify.status_code == 200 and identify.json() == {"success": True}
    tracker.post(
        "/v1/track",
        json={
            "userId": "u-1",
            "event": "Order Completed",
            "properties": {"order_id": "o-9", "revenue": 39.5},
            "messageId": "m-2",
        },
    )
    process(db)
    person = profile_of(tracker, db, email="kim@example.com")
    assert {"kind": "user_id", "value": "u-1"} in person["identities"]
    assert person["traits"]["plan"] == "pro" and person["provenance"]["plan"]["source"] == "default"
    timeline = api_get(tracker, db, f"/api/v1/profiles/{person['id']}/events")["data"]
    assert [(e["type"], e["event"]) for e in timeline] == [("track", "Order Completed"), ("identify", None)]
    assert timeline[0]["properties"] == {"order_id": "o-9", "revenue": 39.5}
    assert {"id", "type", "event", "properties", "timestamp", "message_id"} <= set(timeline[0])
    assert api_get(tracker, db, "/api/v1/stats")["events"] == 2


def test_a_visitor_who_signs_up_keeps_their_anonymous_history(tracker: TestClient, db: Database) -> None:
    tracker.post("/v1/page", json={"anonymousId": "anon-7", "name": "Home", "properties": {"path": "/"}})
    process(db)
    visitor = profile_of(tracker, db, anonymous_id="anon-7")
    tracker.post(
        "/v1/identify", json={"userId": "u-7", "anonymousId": "anon-7", "traits": {"email": "v@example.com"}}
    )
    process(db)
    assert profile_of(tracker, db, user_id="u-7")["id"] == visitor["id"]  # the same person, now known
    events = api_get(tracker, db, f"/api/v1/profiles/{visitor['id']}/events")["data"]
    assert sorted(e["type"] for e in events) == ["identify", "page"]


def test_anonymous_history_on_a_new_device_joins_the_known_person(tracker: TestClient, db: Database) -> None:
    tracker.post(
        "/v1/identify", json={"userId": "u-8", "traits": {"email": "eight@example.com", "plan": "pro"}}
    )
    tracker.post(
        "/v1/track", json={"anonymousId": "phone-8", "event": "Product Viewed", "properties": {"sku": "a"}}
    )
    process(db)
    known, visitor = profile_of(tracker, db, user_id="u-8"), profile_of(tracker, db, anonymous_id="phone-8")
    assert known["id"] != visitor["id"]
    tracker.post("/v1/identify", json={"userId": "u-8", "anonymousId": "phone-8"})
    process(db)
    person = profile_of(tracker, db, anonymous_id="phone-8")
    assert person["id"] == known["id"]
    assert api_get(tracker, db, "/api/v1/stats")["profiles"] == 1
    events = api_get(tracker, db, f"/api/v1/profiles/{known['id']}/events")["data"]
    assert sorted(e["type"] for e in events) == ["identify", "identify", "track"]
    merges = api_get(tracker, db, f"/api/v1/profiles/{known['id']}/merges")["data"]
    assert merges[0]["absorbed_id"] == visitor["id"]
    assert {"kind": "anonymous_id", "value": "phone-8"} in merges[0]["absorbed"]["identities"]


def test_alias_links_the_previous_id_to_the_user(tracker: TestClient, db: Database) -> None:
    tracker.post("/v1/track", json={"anonymousId": "anon-9", "event": "Signed Up"})
    tracker.post("/v1/identify", json={"userId": "u-9", "traits": {"email": "nine@example.com"}})
    tracker.post("/v1/alias", json={"previousId": "anon-9", "userId": "u-9"})
    process(db)
    assert (
        profile_of(tracker, db, anonymous_id="anon-9")["id"] == profile_of(tracker, db, user_id="u-9")["id"]
    )


def test_group_creates_an_account_and_links_the_person(tracker: TestClient, db: Database) -> None:
    tracker.post(
        "/v1/group", json={"userId": "u-2", "groupId": "acme", "traits": {"name": "Acme", "employees": 40}}
    )
    tracker.post("/v1/group", json={"userId": "u-3", "groupId": "acme", "traits": {"industry": "Retail"}})
    process(db)
    account = api_get(tracker, db, "/api/v1/accounts/acme")
    assert account["traits"] == {"name": "Acme", "employees": 40, "industry": "Retail"}
    assert len(account["members"]) == 2
    person = profile_of(tracker, db, user_id="u-2")
    assert api_get(tracker, db, f"/api/v1/profiles/{person['id']}/accounts")["data"][0]["group_id"] == "acme"


def test_traits_in_context_are_read_as_rudderstack_sends_them(tracker: TestClient, db: Database) -> None:
    tracker.post(
        "/v1/identify",
        json={"userId": "r-1", "context": {"traits": {"email": "r@example.com", "city": "Seoul"}}},
    )
    process(db)
    assert profile_of(tracker, db, user_id="r-1")["traits"]["city"] == "Seoul"


def test_a_batch_keeps_its_good_events_and_lists_the_bad_ones(tracker: TestClient, db: Database) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u-1", "event": "Product Viewed", "messageId": "ok-1"},
            {"type": "track", "userId": "u-1", "messageId": "no-name"},
            {"type": "track", "event": "Product Viewed", "messageId": "no-id"},
            {"type": "page", "userId": "u-1", "timestamp": "yesterday", "messageId": "bad-time"},
            {
                "type": "track",
                "userId": "u-1",
                "event": "Big",
                "properties": {"blob": "x" * 40_000},
                "messageId": "big",
            },
            {"type": "track", "userId": "u-1", "event": "Product Added", "messageId": "ok-2"},
        ]
    }
    response = tracker.post("/v1/batch", json=batch)
    assert response.status_code == 200
    rejected = {r["messageId"]: r for r in response.json()["rejected"]}
    assert set(rejected) == {"no-name", "no-id", "bad-time", "big"}
    assert rejected["no-name"]["field"] == "event"
    assert rejected["no-id"]["field"] == "userId"
    assert rejected["bad-time"]["field"] == "timestamp"
    assert "32 KB" in rejected["big"]["reason"]
    process(db)
    assert api_get(tracker, db, "/api/v1/stats")["events"] == 2
    log = api_get(tracker, db, "/api/v1/rejected-events")["data"]
    assert {r["message_id"] for r in log} == {"no-name", "no-id", "bad-time", "big"}


def test_a_single_bad_event_is_a_400_naming_the_field(tracker: TestClient) -> None:
    response = tracker.post("/v1/track", json={"userId": "u-1"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "event"


@pytest.mark.parametrize("value", ["undefined", "null", "0", "anonymous", "[object Object]"])
def test_blocked_ids_identify_no_one(tracker: TestClient, value: str) -> None:
    response = tracker.post("/v1/track", json={"userId": value, "event": "Product Viewed"})
    assert response.status_code == 400
    assert "blocked" in response.json()["error"]["message"]


def test_a_blocked_user_id_beside_an_anonymous_id_keeps_the_event_on_the_anonymous_visitor(
    tracker: TestClient, db: Database
) -> None:
    tracker.post("/v1/track", json={"userId": "undefined", "anonymousId": "a-5", "event": "Product Viewed"})
    tracker.post("/v1/track", json={"userId": "undefined", "anonymousId": "a-6", "event": "Product Viewed"})
    process(db)
    assert (
        profile_of(tracker, db, anonymous_id="a-5")["id"] != profile_of(tracker, db, anonymous_id="a-6")["id"]
    )


def test_a_resent_batch_stores_nothing_twice(tracker: TestClient, db: Database) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u-1", "event": "Product Viewed", "messageId": f"m-{n}"}
            for n in range(5)
        ]
    }
    tracker.post("/v1/batch", json=batch)
    tracker.post("/v1/batch", json=batch)  # before processing
    process(db)
    tracker.post("/v1/batch", json=batch)  # after processing
    process(db)
    assert api_get(tracker, db, "/api/v1/stats")["events"] == 5


def test_the_senders_clock_is_corrected(tracker: TestClient, db: Database) -> None:
    now = datetime.now(UTC)
    skewed = now + timedelta(hours=3)  # the device's clock is three hours fast
    tracker.post(
        "/v1/batch",
        json={
            "sentAt": skewed.isoformat(),
            "batch": [
                {
                    "type": "track",
                    "userId": "u-1",
                    "event": "Product Viewed",
                    "timestamp": (skewed - timedelta(minutes=10)).isoformat(),
                }
            ],
        },
    )
    process(db)
    person = profile_of(tracker, db, user_id="u-1")
    event = api_get(tracker, db, f"/api/v1/profiles/{person['id']}/events")["data"][0]
    stored = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    assert abs((stored - (now - timedelta(minutes=10))).total_seconds()) < 5


def test_gzip_bodies_are_accepted(tracker: TestClient, db: Database) -> None:
    body = gzip.compress(
        orjson.dumps({"batch": [{"type": "identify", "userId": "gz", "traits": {"city": "Jeju"}}]})
    )
    response = tracker.post(
        "/v1/batch", content=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    process(db)
    assert profile_of(tracker, db, user_id="gz")["traits"]["city"] == "Jeju"


def test_requests_over_500_kb_are_refused_naming_the_limit(tracker: TestClient) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u", "event": "E", "properties": {"x": "y" * 20_000}}
            for _ in range(30)
        ]
    }
    response = tracker.post("/v1/batch", json=batch)
    assert response.status_code == 400 and "500 KB" in response.json()["error"]["message"]
    bomb = gzip.compress(orjson.dumps(batch))
    compressed = tracker.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"})
    assert compressed.status_code == 400 and "uncompressed" in compressed.json()["error"]["message"]


def test_write_keys_are_required_and_admin_keys_refused(app_client: TestClient, db: Database) -> None:
    event = {"userId": "u", "event": "E"}
    assert app_client.post("/v1/track", json=event).status_code == 401
    assert app_client.post("/v1/track", json=event, headers=basic("pwk_unknown")).status_code == 401
    assert app_client.post("/v1/track", json=event, headers=basic(db.admin_key)).status_code == 403
    in_body = app_client.post(
        "/v1/t",
        content=orjson.dumps({**event, "writeKey": db.write_key}),
        headers={"Content-Type": "text/plain"},
    )
    assert in_body.status_code == 200


def test_browser_requests_get_cors_and_settings(app_client: TestClient, db: Database) -> None:
    preflight = app_client.options(
        "/v1/t",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    settings = app_client.get(
        f"/v1/projects/{db.write_key}/settings", headers={"Origin": "https://shop.example"}
    )
    assert settings.headers["access-control-allow-origin"] == "https://shop.example"
    segment = settings.json()["integrations"]["Segment.io"]
    assert segment["apiKey"] == db.write_key and segment["apiHost"].endswith("/v1")
    assert (
        app_client.get("/api/v1/stats", headers={"Origin": "https://evil.example"}).headers.get(
            "access-control-allow-origin"
        )
        is None
    )


@pytest.fixture
def limited(db: Database) -> Iterator[TestClient]:
    settings = db.settings.model_copy(update={"tracking_rate_limit_per_s": 5})
    with TestClient(create_app(settings, engine=db.engine)) as client:
        client.headers.update(basic(db.write_key))
        yield client


def test_a_write_key_over_its_rate_gets_429_with_retry_after(limited: TestClient) -> None:
    batch = {"batch": [{"type": "track", "userId": "u", "event": "E"} for _ in range(8)]}
    assert limited.post("/v1/batch", json=batch).status_code == 200  # the burst allows 10
    response = limited.post("/v1/batch", json=batch)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


PLAN = """
conventions: {events: object_action, properties: snake_case, traits: snake_case}
events:
  - name: Order Completed
    owner: growth
    properties:
      order_id: {type: string, required: true}
      revenue: {type: number, required: true}
"""


def test_violations_are_counted_with_examples_and_unknown_events_discovered(
    tracker: TestClient, db: Database
) -> None:
    admin = {"Authorization": f"Bearer {db.admin_key}"}
    assert tracker.put("/api/v1/tracking-plan", content=PLAN, headers=admin).status_code == 200
    tracker.post(
        "/v1/batch",
        json={
            "batch": [
                {"type": "track", "userId": "u", "event": "Order Completed", "properties": {"order_id": "1"}},
                {
                    "type": "track",
                    "userId": "u",
                    "event": "Order Completed",
                    "properties": {"order_id": "2", "revenue": "12,000"},
                },
                {"type": "track", "userId": "u", "event": "order completed", "properties": {"orderId": "3"}},
                {"type": "track", "userId": "u", "event": "Wishlist Added"},
                {"type": "track", "userId": "u", "event": "Wishlist Added"},
            ]
        },
    )
    found = api_get(tracker, db, "/api/v1/tracking-plan/violations")
    kinds = {(v["kind"], v["subject"], v["detail"]): v for v in found["data"]}
    assert kinds[("missing_property", "Order Completed", "revenue")]["count"] == 1
    assert kinds[("wrong_type", "Order Completed", "revenue")]["example"]["properties"]["revenue"] == "12,000"
    assert kinds[("unplanned_event", "Wishlist Added", "")]["count"] == 2
    assert ("event_naming", "order completed", "") in kinds
    assert ("property_naming", "order completed", "orderId") in kinds
    events = {e["name"]: e["status"] for e in api_get(tracker, db, "/api/v1/tracking-plan/events")["data"]}
    assert events["Order Completed"] == "planned" and events["Wishlist Added"] == "unplanned"
    csv_text = tracker.get("/api/v1/tracking-plan/export", params={"format": "csv"}, headers=admin).text
    assert "Order Completed" in csv_text and "revenue" in csv_text
    markdown = tracker.get("/api/v1/tracking-plan/export", params={"format": "markdown"}, headers=admin).text
    assert "### Order Completed" in markdown


def test_a_blocking_source_refuses_events_off_the_plan(tracker: TestClient, db: Database) -> None:
    admin = {"Authorization": f"Bearer {db.admin_key}"}
    tracker.put("/api/v1/tracking-plan", content=PLAN, headers=admin)
    key_id = api_get(tracker, db, "/api/v1/sources")["data"][0]["id"]
    assert (
        tracker.patch(f"/api/v1/sources/{key_id}", json={"tracking_mode": "block"}, headers=admin).status_code
        == 200
    )
    response = tracker.post(
        "/v1/batch",
        json={
            "batch": [
                {
                    "type": "track",
                    "userId": "u",
                    "event": "Order Completed",
                    "properties": {"order_id": "1", "revenue": 5},
                },
                {"type": "track", "userId": "u", "event": "Order Completed", "properties": {"order_id": "1"}},
            ]
        },
    )
    rejected = response.json()["rejected"]
    assert len(rejected) == 1 and "tracking plan" in rejected[0]["reason"]
    process(db)
    assert api_get(tracker, db, "/api/v1/stats")["events"] == 1


def test_an_alias_between_two_known_user_ids_is_left_for_review(tracker: TestClient, db: Database) -> None:
    tracker.post("/v1/identify", json={"userId": "old-id", "traits": {"email": "old@example.com"}})
    tracker.post("/v1/identify", json={"userId": "new-id", "traits": {"email": "new@example.com"}})
    process(db)
    tracker.post("/v1/alias", json={"previousId": "old-id", "userId": "new-id"})
    process(db)
    old, new = profile_of(tracker, db, user_id="old-id"), profile_of(tracker, db, user_id="new-id")
    assert old["id"] != new["id"]  # one user id per profile: not merged behind anyone's back
    assert api_get(tracker, db, "/api/v1/stats")["merge_candidates"] == 1
