"""Identity rules: blocked values, per-kind limits, priority, and stitching anonymous profiles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from patron.web.app import create_app
from tests.conftest import Database


def upsert(api: TestClient, identities: list[tuple[str, str]], traits: dict | None = None) -> dict:
    response = api.post(
        "/api/v1/profiles",
        json={"traits": traits or {}, "identities": [{"kind": k, "value": v} for k, v in identities]},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.mark.parametrize("value", ["undefined", "null", " Anonymous ", "0", "-1", "[object Object]", "NaN"])
def test_blocked_values_never_identify_anyone(api: TestClient, value: str) -> None:
    response = api.post("/api/v1/profiles", json={"identities": [{"kind": "user_id", "value": value}]})
    assert response.status_code == 422
    assert "blocked value" in response.json()["error"]["message"]


def test_a_blocked_value_beside_a_real_one_does_not_merge_people(api: TestClient) -> None:
    first = upsert(api, [("email", "a@example.com")])
    response = api.post(
        "/api/v1/profiles",
        json={
            "traits": {"email": "b@example.com"},
            "identities": [{"kind": "user_id", "value": "undefined"}],
        },
    )
    # The blocked id is left out (and said so); the rest of the record is kept.
    assert response.status_code == 201, response.text
    kept = response.json()
    assert [(w["field"], w["effect"]) for w in kept["warnings"]] == [("identities[0]", "refused_identity")]
    assert {"kind": "user_id", "value": "undefined"} not in kept["identities"]
    second = upsert(api, [("email", "b@example.com"), ("anonymous_id", "a-1")])
    assert second["id"] == kept["id"] != first["id"]


def test_a_profile_holds_at_most_one_user_id(api: TestClient) -> None:
    person = upsert(api, [("user_id", "u1"), ("email", "p@example.com")])
    again = upsert(api, [("email", "p@example.com"), ("user_id", "u2")])
    # user_id decides: u2 is someone else, who shares the email -> a new profile and a candidate.
    assert again["id"] != person["id"] and again["status"] == "created"
    assert again["merge_candidates"] == [person["id"]]
    patch = api.patch(
        f"/api/v1/profiles/{person['id']}", json={"identities": [{"kind": "user_id", "value": "u3"}]}
    )
    assert patch.status_code == 409 and "most allowed" in patch.json()["error"]["message"]


def test_a_second_user_on_a_shared_device_gets_their_own_profile(api: TestClient) -> None:
    first = upsert(api, [("user_id", "u1"), ("anonymous_id", "device-1")])
    second = upsert(api, [("user_id", "u2"), ("anonymous_id", "device-1")])
    assert second["id"] != first["id"]
    assert {"kind": "anonymous_id", "value": "device-1"} in api.get(f"/api/v1/profiles/{first['id']}").json()[
        "identities"
    ]
    assert second["merge_candidates"] == [first["id"]]


def test_email_limit_refuses_the_extra_one_with_a_warning(api: TestClient) -> None:
    person = upsert(api, [("ext:shop", "C1")] + [("email", f"e{n}@example.com") for n in range(5)])
    response = upsert(api, [("ext:shop", "C1"), ("email", "e5@example.com")])
    assert response["id"] == person["id"]
    assert {"field": "email", "value": "e5@example.com", "effect": "refused_identity"}.items() <= response[
        "warnings"
    ][0].items()
    emails = [i for i in response["identities"] if i["kind"] == "email"]
    assert len(emails) == 5


def test_linking_an_anonymous_profile_to_a_known_one_merges_its_history(api: TestClient) -> None:
    visitor = upsert(api, [("anonymous_id", "browser-7")], {"city": "Busan", "plan": "trial"})
    known = upsert(api, [("user_id", "u7")], {"email": "kim@example.com", "plan": "pro"})
    linked = upsert(api, [("user_id", "u7"), ("anonymous_id", "browser-7")])
    assert linked["id"] == known["id"] and linked["merged"] == [visitor["id"]]
    assert api.get(f"/api/v1/profiles/{visitor['id']}").status_code == 404
    assert linked["traits"]["city"] == "Busan"  # filled from the anonymous profile
    assert linked["traits"]["plan"] == "pro"  # the known profile's value wins
    assert {"kind": "anonymous_id", "value": "browser-7"} in linked["identities"]
    found = api.get("/api/v1/profiles/lookup", params={"anonymous_id": "browser-7"}).json()
    assert found["id"] == known["id"]


def test_two_known_profiles_are_never_merged_automatically(api: TestClient) -> None:
    one = upsert(api, [("email", "one@example.com")])
    two = upsert(api, [("phone", "+14152345678")])
    both = upsert(api, [("email", "one@example.com"), ("phone", "+14152345678")])
    assert both["merged"] == [] and both["merge_candidates"] == [two["id"]]
    assert api.get(f"/api/v1/profiles/{one['id']}").status_code == 200


@pytest.fixture
def strict_api(db: Database) -> Iterator[TestClient]:
    settings = db.settings.model_copy(
        update={"identity_limits": {"email": 1}, "identity_blocked_values": ["nobody@example.com"]}
    )
    with TestClient(create_app(settings, engine=db.engine)) as client:
        client.headers["Authorization"] = f"Bearer {db.admin_key}"
        yield client


def test_rules_are_configurable(strict_api: TestClient) -> None:
    blocked = strict_api.post(
        "/api/v1/profiles", json={"identities": [{"kind": "email", "value": "NOBODY@example.com"}]}
    )
    assert blocked.status_code == 422
    person = upsert(strict_api, [("ext:crm", "K1"), ("email", "a@example.com")])
    response = upsert(strict_api, [("ext:crm", "K1"), ("email", "b@example.com")])
    # One email per profile: another email is another person, who shares the CRM id.
    assert response["id"] != person["id"] and response["merge_candidates"] == [person["id"]]
