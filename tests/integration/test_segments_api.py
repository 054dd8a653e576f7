"""The segments API over HTTP, on SQLite and PostgreSQL: save as text or tree, read, preview,
parse, members, history, change, delete, and the errors a client gets."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Database


def person(api: TestClient, email: str, **traits: Any) -> str:
    """A profile made through the API; its id."""
    response = api.post("/api/v1/profiles", json={"traits": {"email": email, **traits}, "source": "test"})
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def test_save_as_text_read_it_back_and_list_members(db: Database, api: TestClient) -> None:
    us = person(api, "ann@example.com", country="US", plan="pro")
    person(api, "bo@example.com", country="KR", plan="pro")
    other_us = person(api, "cy@example.com", country="US", plan="free")

    created = api.post("/api/v1/segments", json={"name": "US", "definition": 'country = "US"'})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["definition"], body["count"]) == ("US", 'country = "US"', 2)
    assert body["tree"] == {"trait": "country", "op": "=", "value": "US"}

    fetched = api.get(f"/api/v1/segments/{body['id']}").json()
    assert {k: fetched[k] for k in ("id", "name", "definition", "count")} == {
        "id": body["id"], "name": "US", "definition": 'country = "US"', "count": 2,
    }  # fmt: skip
    members = api.get(f"/api/v1/segments/{body['id']}/members").json()
    assert sorted(p["id"] for p in members["data"]) == sorted([us, other_us])
    assert members["next_cursor"] is None
    page = api.get(f"/api/v1/segments/{body['id']}/members", params={"limit": 1}).json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    rest = api.get(
        f"/api/v1/segments/{body['id']}/members", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert {page["data"][0]["id"], rest["data"][0]["id"]} == {us, other_us}
    assert [s["name"] for s in api.get(f"/api/v1/profiles/{us}/segments").json()["data"]] == ["US"]
    assert [s["name"] for s in api.get("/api/v1/segments").json()["data"]] == ["US"]


def test_save_as_tree_and_refer_to_another_segment(db: Database, api: TestClient) -> None:
    person(api, "ann@example.com", country="US", plan="pro")
    person(api, "cy@example.com", country="US", plan="free")
    api.post("/api/v1/segments", json={"name": "US", "definition": 'country = "US"'})
    tree = {"and": [{"segment": "US"}, {"trait": "plan", "op": "=", "value": "pro"}]}
    created = api.post("/api/v1/segments", json={"name": "US pro", "tree": tree})
    assert created.status_code == 201, created.text
    assert created.json()["definition"] == 'in segment "US" and plan = "pro"'
    assert created.json()["count"] == 1


def test_preview_counts_and_samples_without_saving(db: Database, api: TestClient) -> None:
    ann = person(api, "ann@example.com", country="US", plan="pro")
    person(api, "bo@example.com", country="KR")
    found = api.post("/api/v1/segments/preview", json={"definition": 'plan = "pro"'}).json()
    assert found["count"] == 1
    assert [p["id"] for p in found["sample"]] == [ann]
    assert found["sample"][0]["traits"]["email"] == "ann@example.com"
    assert api.get("/api/v1/segments").json()["data"] == []


def test_a_text_error_names_line_column_and_what_was_expected(db: Database, api: TestClient) -> None:
    response = api.post("/api/v1/segments/preview", json={"definition": 'country = "US" and\n  plan >'})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["line"] == 2 and error["details"]["column"] == 9
    assert "expected a value" in error["message"]
    parsed = api.post("/api/v1/segments/parse", json={"definition": "plan   =   'x'"})
    assert parsed.status_code == 422
    ok = api.post("/api/v1/segments/parse", json={"definition": 'has   email and plan="x"'}).json()
    assert ok["definition"] == 'has email and plan = "x"'
    assert (
        api.post("/api/v1/segments/parse", json={"tree": ok["tree"]}).json()["definition"] == ok["definition"]
    )


def test_refused_requests(db: Database, api: TestClient) -> None:
    api.post("/api/v1/segments", json={"name": "US", "definition": 'country = "US"'})
    same = api.post("/api/v1/segments", json={"name": "US", "definition": "has email"})
    assert same.status_code == 409 and same.json()["error"]["details"]["field"] == "name"
    both = api.post(
        "/api/v1/segments", json={"name": "x", "definition": "has email", "tree": {"identity": "email"}}
    )
    assert both.status_code == 422
    unknown = api.post("/api/v1/segments", json={"name": "x", "definition": 'in segment "Nobody"'})
    assert unknown.status_code == 422 and "Nobody" in unknown.json()["error"]["message"]
    bad_tree = api.post("/api/v1/segments", json={"name": "x", "tree": {"and": [{"identity": "email"}]}})
    assert bad_tree.status_code == 422 and bad_tree.json()["error"]["details"]["field"] == "tree"
    assert api.get("/api/v1/segments/999").status_code == 404


def test_circular_references_are_refused(db: Database, api: TestClient) -> None:
    a = api.post("/api/v1/segments", json={"name": "A", "definition": "has email"}).json()
    api.post("/api/v1/segments", json={"name": "B", "definition": 'in segment "A"'})
    loop = api.patch(f"/api/v1/segments/{a['id']}", json={"definition": 'in segment "B"'})
    assert loop.status_code == 422
    assert "A -> B -> A" in loop.json()["error"]["message"]
    itself = api.post("/api/v1/segments", json={"name": "C", "definition": 'in segment "C"'})
    assert itself.status_code == 422


def test_change_records_entries_and_exits_and_delete(db: Database, api: TestClient) -> None:
    ann = person(api, "ann@example.com", country="US", plan="pro")
    bo = person(api, "bo@example.com", country="KR", plan="pro")
    segment = api.post("/api/v1/segments", json={"name": "Pros", "definition": 'country = "US"'}).json()
    changed = api.patch(f"/api/v1/segments/{segment['id']}", json={"definition": 'country = "KR"'})
    assert changed.status_code == 200 and changed.json()["count"] == 1
    names = {e["event"] for e in api.get(f"/api/v1/profiles/{ann}/events").json()["data"]}
    assert "Segment Exited" in names
    entered = [
        e for e in api.get(f"/api/v1/profiles/{bo}/events").json()["data"] if e["event"] == "Segment Entered"
    ]
    assert entered and entered[0]["properties"] == {"segment_id": segment["id"], "segment": "Pros"}
    recent = api.get(f"/api/v1/segments/{segment['id']}/history", params={"days": 7}).json()
    assert recent["sizes"][-1]["size"] == 1 and len(recent["sizes"]) == 7
    assert {(r["profile_id"], r["change"]) for r in recent["recent"]} >= {(ann, "exited"), (bo, "entered")}

    api.post("/api/v1/segments", json={"name": "Uses pros", "definition": 'in segment "Pros"'})
    refused = api.delete(f"/api/v1/segments/{segment['id']}")
    assert refused.status_code == 409 and "Uses pros" in refused.json()["error"]["message"]
    renamed = api.patch(f"/api/v1/segments/{segment['id']}", json={"name": "Professionals"})
    assert renamed.status_code == 409
    user = next(s for s in api.get("/api/v1/segments").json()["data"] if s["name"] == "Uses pros")
    assert api.delete(f"/api/v1/segments/{user['id']}").status_code == 204
    assert api.delete(f"/api/v1/segments/{segment['id']}").status_code == 204
    assert api.get(f"/api/v1/segments/{segment['id']}").status_code == 404


def test_trait_writes_move_people_at_once(db: Database, api: TestClient) -> None:
    ann = person(api, "ann@example.com", country="KR")
    segment = api.post("/api/v1/segments", json={"name": "US", "definition": 'country = "US"'}).json()
    assert segment["count"] == 0
    api.patch(f"/api/v1/profiles/{ann}", json={"traits": {"country": "US"}})
    assert api.get(f"/api/v1/segments/{segment['id']}").json()["count"] == 1
    api.patch(f"/api/v1/profiles/{ann}", json={"traits": {"country": None}})
    assert api.get(f"/api/v1/segments/{segment['id']}").json()["count"] == 0
    newcomer = person(api, "new@example.com", country="US")
    ids = api.get(f"/api/v1/segments/{segment['id']}/members", params={"ids_only": True}).json()["data"]
    assert ids == [newcomer]
