"""Real-time segments over HTTP: a tracked event, a trait change or a consent change moves the
person into (or out of) a saved segment at once, with an entry (or exit) on their timeline."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient

from patron.worker import Worker
from tests.conftest import Database


def write_key_auth(db: Database) -> dict[str, str]:
    """The write key as HTTP Basic user, as Segment SDKs send it."""
    return {"Authorization": "Basic " + base64.b64encode(f"{db.write_key}:".encode()).decode()}


def process_events(db: Database) -> None:
    """What the worker does with tracked messages, until the intake is empty."""
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass


def save_segment(api: TestClient, name: str, definition: str) -> dict[str, Any]:
    response = api.post("/api/v1/segments", json={"name": name, "definition": definition})
    assert response.status_code == 201, response.text
    return response.json()


def member_ids(api: TestClient, segment: dict[str, Any]) -> list[str]:
    response = api.get(f"/api/v1/segments/{segment['id']}/members")
    assert response.status_code == 200, response.text
    return [person["id"] for person in response.json()["data"]]


def segment_events(api: TestClient, profile_id: str) -> list[tuple[str, dict[str, Any]]]:
    response = api.get(f"/api/v1/profiles/{profile_id}/events")
    assert response.status_code == 200, response.text
    return [
        (e["event"], e["properties"]) for e in reversed(response.json()["data"]) if e["type"] == "segment"
    ]


def new_person(api: TestClient, traits: dict[str, Any]) -> str:
    response = api.post("/api/v1/profiles", json={"traits": traits, "source": "crm"})
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def test_a_tracked_purchase_makes_the_buyer_a_member(db: Database, api: TestClient) -> None:
    buyers = save_segment(api, "Recent buyers", 'count(event "Order Completed" in last 30 days) >= 1')
    assert buyers["count"] == 0
    sent = api.post(
        "/v1/track",
        json={"userId": "u-1", "event": "Order Completed", "properties": {"revenue": 39.5}},
        headers=write_key_auth(db),
    )
    assert sent.status_code == 200, sent.text
    process_events(db)
    person = api.get("/api/v1/profiles/lookup", params={"user_id": "u-1"}).json()
    assert member_ids(api, buyers) == [person["id"]]
    assert api.get(f"/api/v1/segments/{buyers['id']}").json()["count"] == 1
    entered = ("Segment Entered", {"segment_id": buyers["id"], "segment": "Recent buyers"})
    assert segment_events(api, person["id"]) == [entered]
    assert [s["name"] for s in api.get(f"/api/v1/profiles/{person['id']}/segments").json()["data"]] == [
        "Recent buyers"
    ]


def test_a_page_view_does_not_count_as_a_purchase(db: Database, api: TestClient) -> None:
    buyers = save_segment(api, "Recent buyers", 'count(event "Order Completed" in last 30 days) >= 1')
    api.post("/v1/track", json={"userId": "u-2", "event": "Product Viewed"}, headers=write_key_auth(db))
    process_events(db)
    person = api.get("/api/v1/profiles/lookup", params={"user_id": "u-2"}).json()
    assert member_ids(api, buyers) == []
    assert segment_events(api, person["id"]) == []


def test_changing_a_trait_moves_the_person_in_and_out_at_once(api: TestClient) -> None:
    pro = save_segment(api, "Pro plan", 'plan = "pro"')
    kim = new_person(api, {"email": "kim.minjun@gmail.com", "plan": "free"})
    assert member_ids(api, pro) == []
    assert api.patch(f"/api/v1/profiles/{kim}", json={"traits": {"plan": "pro"}}).status_code == 200
    assert member_ids(api, pro) == [kim]
    assert api.patch(f"/api/v1/profiles/{kim}", json={"traits": {"plan": None}}).status_code == 200
    assert member_ids(api, pro) == []
    named = {"segment_id": pro["id"], "segment": "Pro plan"}
    assert segment_events(api, kim) == [("Segment Entered", named), ("Segment Exited", named)]


def test_consent_moves_the_person_in_and_out_at_once(api: TestClient) -> None:
    assert api.post("/api/v1/topics", json={"key": "newsletter", "default": "opt_in"}).status_code == 201
    readers = save_segment(api, "Newsletter readers", 'subscribed(email, "newsletter")')
    lee = new_person(api, {"email": "lee.seoyeon@gmail.com"})
    grant = {"channel": "email", "topic": "newsletter", "action": "grant", "double_opt_in": False}
    assert api.post(f"/api/v1/profiles/{lee}/consent", json=grant).status_code == 200
    assert member_ids(api, readers) == [lee]
    # Unsubscribing from all email outranks the topic's own subscription.
    withdraw_all = {"channel": "email", "action": "withdraw", "method": "unsubscribe_page"}
    assert api.post(f"/api/v1/profiles/{lee}/consent", json=withdraw_all).status_code == 200
    assert member_ids(api, readers) == []
    assert [event for event, _ in segment_events(api, lee)] == ["Segment Entered", "Segment Exited"]


def test_a_definition_that_does_not_parse_is_refused_with_its_position(api: TestClient) -> None:
    response = api.post("/api/v1/segments", json={"name": "Broken", "definition": 'plan = "pro" and'})
    assert response.status_code == 422
    assert "line 1, column" in response.json()["error"]["message"]
    assert api.get("/api/v1/segments").json()["data"] == []


def test_deleting_a_member_keeps_the_count_equal_to_the_members(api: TestClient) -> None:
    gold = save_segment(api, "Gold", 'plan = "gold"')
    kim = new_person(api, {"email": "kim.minjun@gmail.com", "plan": "gold"})
    lee = new_person(api, {"email": "lee.seoyeon@gmail.com", "plan": "gold"})
    assert api.get(f"/api/v1/segments/{gold['id']}").json()["count"] == 2
    assert api.delete(f"/api/v1/profiles/{lee}").status_code == 204
    assert member_ids(api, gold) == [kim]
    assert api.get(f"/api/v1/segments/{gold['id']}").json()["count"] == 1


def test_a_visitor_merged_into_a_known_buyer_counts_once(db: Database, api: TestClient) -> None:
    buyers = save_segment(api, "Buyers", 'count(event "Order Completed") >= 1')
    auth = write_key_auth(db)
    api.post("/v1/track", json={"userId": "u-9", "event": "Order Completed"}, headers=auth)
    api.post("/v1/track", json={"anonymousId": "a-9", "event": "Order Completed"}, headers=auth)
    process_events(db)
    assert api.get(f"/api/v1/segments/{buyers['id']}").json()["count"] == 2
    # Signing in on the device shows the visitor and the customer are one person.
    api.post("/v1/identify", json={"userId": "u-9", "anonymousId": "a-9", "traits": {}}, headers=auth)
    process_events(db)
    person = api.get("/api/v1/profiles/lookup", params={"user_id": "u-9"}).json()
    assert member_ids(api, buyers) == [person["id"]]
    assert api.get(f"/api/v1/segments/{buyers['id']}").json()["count"] == 1


def test_a_number_beyond_64_bits_in_a_definition_is_compared_not_a_server_error(api: TestClient) -> None:
    new_person(api, {"email": "kim.minjun@gmail.com", "score": 5})
    response = api.post("/api/v1/segments/preview", json={"definition": "score < 100000000000000000000"})
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 1


def test_members_come_a_page_at_a_time_and_history_ends_today(api: TestClient) -> None:
    people = {new_person(api, {"email": f"reader{n}@gmail.com", "plan": "gold"}) for n in range(3)}
    gold = save_segment(api, "Gold", 'plan = "gold"')
    first = api.get(f"/api/v1/segments/{gold['id']}/members", params={"limit": 2, "ids_only": True}).json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = api.get(
        f"/api/v1/segments/{gold['id']}/members",
        params={"limit": 2, "ids_only": True, "cursor": first["next_cursor"]},
    ).json()
    assert rest["next_cursor"] is None and set(first["data"]) | set(rest["data"]) == people
    sizes = api.get(f"/api/v1/segments/{gold['id']}/history", params={"days": 3}).json()["sizes"]
    assert len(sizes) == 3 and sizes[0]["size"] == 0 and sizes[-1]["size"] == 3  # made today


def test_redefining_a_segment_over_http_moves_people_at_once(api: TestClient) -> None:
    kim = new_person(api, {"email": "kim.minjun@gmail.com", "plan": "gold"})
    lee = new_person(api, {"email": "lee.seoyeon@gmail.com", "plan": "silver"})
    segment = save_segment(api, "Chosen", 'plan = "gold"')
    changed = api.patch(f"/api/v1/segments/{segment['id']}", json={"definition": 'plan = "silver"'})
    assert changed.status_code == 200 and changed.json()["count"] == 1
    assert member_ids(api, segment) == [lee]
    named = {"segment_id": segment["id"], "segment": "Chosen"}
    assert segment_events(api, kim) == [("Segment Exited", named)]
    assert segment_events(api, lee) == [("Segment Entered", named)]
