"""The contacts list: known people by default, anonymous web visitors apart, everyone on request."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from patron import profiles
from patron.errors import Invalid
from patron.profiles.record import prepare_record
from patron.storage.engine import transaction
from tests.conftest import Database
from tests.integration.test_admin import log_in


def add(conn: Connection, identities: list[tuple[str, str]], **traits: str) -> str:
    """One profile through the upsert every source uses."""
    record = prepare_record(traits, identities, source="test", field_types={}, default_region="KR")
    return profiles.upsert_records(conn, [record]).records[0].profile_id


@pytest.fixture
def people(db: Database) -> dict[str, str]:
    with transaction(db.engine) as conn:
        return {
            "kim": add(conn, [("email", "kim@example.com")], first_name="Minjun", last_name="Kim"),
            "visitor": add(conn, [("anonymous_id", "browser-1")]),
            "lee": add(conn, [("user_id", "u-lee"), ("anonymous_id", "browser-2")], first_name="Seoyeon"),
            "visitor2": add(conn, [("anonymous_id", "browser-3")], city="Busan"),
        }


def ids(db: Database, **options: str) -> set[str]:
    with transaction(db.engine, write=False) as conn:
        return {p.id for p in profiles.list_profiles(conn, **options).items}


def test_known_anonymous_and_everyone(db: Database, people: dict[str, str]) -> None:
    assert ids(db, who="known") == {people["lee"], people["kim"]}
    assert ids(db, who="anonymous") == {people["visitor2"], people["visitor"]}
    assert ids(db) == set(people.values())
    assert ids(db, who="anonymous", q="busan") == set()  # search looks at names, email, phone, company
    with pytest.raises(Invalid) as refused, transaction(db.engine, write=False) as conn:
        profiles.list_profiles(conn, who="robots")
    assert refused.value.field == "who"


def test_the_admin_lists_known_people_first_and_visitors_on_their_tab(
    app_client: TestClient, db: Database, people: dict[str, str]
) -> None:
    log_in(app_client, db)
    known = app_client.get("/admin/contacts")
    assert known.status_code == 200
    assert people["kim"] in known.text and people["lee"] in known.text
    assert people["visitor"] not in known.text and "4 profiles" in known.text
    visitors = app_client.get("/admin/contacts", params={"who": "anonymous"})
    assert people["visitor"] in visitors.text and people["kim"] not in visitors.text
    everyone = app_client.get("/admin/contacts", params={"who": "all"})
    assert all(profile_id in everyone.text for profile_id in people.values())
    searched = app_client.get("/admin/contacts", params={"q": "minjun"})
    assert "matching “minjun”" in searched.text and people["kim"] in searched.text


def test_the_api_lists_known_people_or_visitors(api: TestClient, people: dict[str, str]) -> None:
    def listed(**params: str) -> set[str]:
        response = api.get("/api/v1/profiles", params=params)
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()["data"]}

    assert listed() == set(people.values())
    assert listed(who="known") == {people["kim"], people["lee"]}
    assert listed(who="anonymous") == {people["visitor"], people["visitor2"]}
    refused = api.get("/api/v1/profiles", params={"who": "robots"})
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "who"
