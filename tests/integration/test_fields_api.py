"""/api/v1/fields: the data dictionary, with types that existing values must fit."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_standard_fields_are_defined_from_the_start(api: TestClient) -> None:
    names = {f["name"]: f for f in api.get("/api/v1/fields").json()["data"]}
    assert {
        "email",
        "phone",
        "first_name",
        "last_name",
        "company",
        "job_title",
        "country",
        "city",
        "timezone",
        "locale",
        "birthday",
        "industry",
    } <= set(names)
    assert names["birthday"]["type"] == "date" and names["birthday"]["standard"] is True


def test_define_read_change_and_delete_a_custom_field(api: TestClient) -> None:
    created = api.post(
        "/api/v1/fields", json={"name": "plan", "type": "string", "description": "Plan", "source": "billing"}
    )
    assert created.status_code == 201
    assert api.get("/api/v1/fields/plan").json()["source"] == "billing"
    changed = api.patch("/api/v1/fields/plan", json={"description": "Billing plan"})
    assert changed.json()["description"] == "Billing plan"
    assert api.delete("/api/v1/fields/plan").status_code == 204
    assert api.get("/api/v1/fields/plan").status_code == 404


def test_a_field_defined_twice_is_a_conflict(api: TestClient) -> None:
    api.post("/api/v1/fields", json={"name": "plan", "type": "string"})
    again = api.post("/api/v1/fields", json={"name": "plan", "type": "number"})
    assert again.status_code == 409


def test_bad_names_and_types_are_refused_naming_the_field(api: TestClient) -> None:
    bad_name = api.post("/api/v1/fields", json={"name": "1st plan", "type": "string"})
    assert bad_name.status_code == 422 and bad_name.json()["error"]["details"]["field"] == "name"
    bad_type = api.post("/api/v1/fields", json={"name": "plan", "type": "money"})
    assert bad_type.status_code == 422 and bad_type.json()["error"]["details"]["field"] == "type"


def test_changing_a_type_converts_the_stored_values(api: TestClient) -> None:
    person = api.post("/api/v1/profiles", json={"traits": {"email": "a@example.com", "seats": "12"}}).json()
    assert person["traits"]["seats"] == "12"  # discovered as text
    assert api.patch("/api/v1/fields/seats", json={"type": "number"}).status_code == 200
    assert api.get(f"/api/v1/profiles/{person['id']}").json()["traits"]["seats"] == 12


def test_changing_a_type_that_values_do_not_fit_is_refused_with_examples(api: TestClient) -> None:
    api.post("/api/v1/profiles", json={"traits": {"email": "a@example.com", "seats": "twelve"}})
    api.post("/api/v1/profiles", json={"traits": {"email": "b@example.com", "seats": "3"}})
    response = api.patch("/api/v1/fields/seats", json={"type": "number"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["details"]["failures"] == 1
    assert error["details"]["examples"][0]["value"] == "twelve"
    assert api.get("/api/v1/fields/seats").json()["type"] == "string"


def test_deleting_a_custom_field_removes_its_values(api: TestClient) -> None:
    person = api.post("/api/v1/profiles", json={"traits": {"email": "a@example.com", "plan": "pro"}}).json()
    assert api.delete("/api/v1/fields/plan").status_code == 204
    assert "plan" not in api.get(f"/api/v1/profiles/{person['id']}").json()["traits"]


def test_standard_fields_cannot_be_deleted_or_retyped(api: TestClient) -> None:
    assert api.delete("/api/v1/fields/email").status_code == 403
    assert api.patch("/api/v1/fields/birthday", json={"type": "string"}).status_code == 403
