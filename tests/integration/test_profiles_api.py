"""/api/v1/profiles over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Database


def upsert(
    api: TestClient, traits: dict, identities: list | None = None, source: str = "api", **extra
) -> dict:
    response = api.post(
        "/api/v1/profiles", json={"traits": traits, "identities": identities or [], "source": source, **extra}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_upsert_creates_then_finds_the_same_person_by_any_identity(api: TestClient) -> None:
    first = api.post("/api/v1/profiles", json={"traits": {"email": "a@example.com", "first_name": "Ann"}})
    assert first.status_code == 201
    assert first.json()["status"] == "created"
    second = api.post("/api/v1/profiles", json={"traits": {"email": " A@Example.com ", "company": "Acme"}})
    assert second.status_code == 200
    body = second.json()
    assert body["id"] == first.json()["id"]
    assert body["status"] == "updated"
    assert body["traits"] == {"email": "a@example.com", "first_name": "Ann", "company": "Acme"}


def test_sending_the_same_record_again_changes_nothing(api: TestClient) -> None:
    upsert(api, {"email": "same@example.com", "city": "Seoul"})
    again = upsert(api, {"email": "same@example.com", "city": "Seoul"})
    assert again["status"] == "unchanged"


def test_lookup_finds_a_person_by_any_input_form_that_normalises_alike(api: TestClient) -> None:
    person = upsert(api, {"email": "kim.minjun@example.com", "phone": "+821012345678", "country": "KR"})
    by_email = api.get("/api/v1/profiles/lookup", params={"email": " Kim.MinJun@Example.COM "})
    assert by_email.status_code == 200 and by_email.json()["id"] == person["id"]
    by_phone = api.get("/api/v1/profiles/lookup", params={"phone": "010-1234-5678", "country": "KR"})
    assert by_phone.status_code == 200 and by_phone.json()["id"] == person["id"]
    by_kind = api.get("/api/v1/profiles/lookup", params={"kind": "phone", "value": "+82 10 1234 5678"})
    assert by_kind.json()["id"] == person["id"]


def test_lookup_of_nobody_is_404_naming_the_value(api: TestClient) -> None:
    response = api.get("/api/v1/profiles/lookup", params={"email": "nobody@example.com"})
    assert response.status_code == 404
    assert "nobody@example.com" in response.json()["error"]["message"]


def test_lookup_needs_exactly_one_identity(api: TestClient) -> None:
    response = api.get("/api/v1/profiles/lookup", params={"email": "a@b.co", "user_id": "u1"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_lookup_by_kind_names_the_parameter_at_fault(api: TestClient) -> None:
    unknown = api.get("/api/v1/profiles/lookup", params={"kind": "fax", "value": "1"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"]["field"] == "kind"
    assert "'fax'" in unknown.json()["error"]["message"]
    bad_value = api.get("/api/v1/profiles/lookup", params={"kind": "email", "value": "kim@@x.com"})
    assert bad_value.status_code == 422
    assert bad_value.json()["error"]["details"]["field"] == "value"


def test_traits_keep_which_source_set_them_and_when(api: TestClient) -> None:
    upsert(api, {"email": "p@example.com", "city": "Busan"}, source="shop")
    person = upsert(api, {"email": "p@example.com", "company": "Acme"}, source="crm")
    assert person["provenance"]["city"]["source"] == "shop"
    assert person["provenance"]["company"]["source"] == "crm"
    assert person["provenance"]["company"]["at"].endswith("Z")


def test_a_record_matching_two_people_keeps_both_and_records_a_candidate(
    api: TestClient, db: Database
) -> None:
    ann = upsert(api, {"email": "ann@example.com"})
    bob = upsert(api, {"phone": "+14152345678"})
    both = upsert(api, {"email": "ann@example.com", "phone": "+1 415 234 5678"})
    assert both["id"] == ann["id"]  # email outranks phone
    assert both["merge_candidates"] == [bob["id"]]
    assert api.get(f"/api/v1/profiles/{bob['id']}").status_code == 200
    assert api.get("/api/v1/stats").json()["merge_candidates"] == 1


def test_explicit_identities_of_every_kind(api: TestClient) -> None:
    person = upsert(
        api, {"first_name": "Ext"}, [{"kind": "ext:shop", "value": "C1"}, {"kind": "user_id", "value": 7}]
    )
    kinds = {(i["kind"], i["value"]) for i in person["identities"]}
    assert kinds == {("ext:shop", "C1"), ("user_id", "7")}
    found = api.get("/api/v1/profiles/lookup", params={"kind": "ext:shop", "value": "C1"})
    assert found.json()["id"] == person["id"]


def test_an_invalid_email_is_kept_flagged_when_another_identity_exists(api: TestClient) -> None:
    person = upsert(api, {"email": "kim@@naver.com", "phone": "+14152345678"})
    assert person["traits"]["email"] == "kim@@naver.com"
    assert [i["kind"] for i in person["identities"]] == ["phone"]
    assert person["warnings"][0]["field"] == "traits.email"


def test_a_record_without_usable_identity_is_refused_with_the_reason(api: TestClient) -> None:
    response = api.post("/api/v1/profiles", json={"traits": {"email": "kim@@naver.com", "first_name": "K"}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["field"] == "identities"
    assert "traits.email" in error["message"] and "more than one @" in error["message"]


def test_a_custom_datetime_trait_is_stored_and_compared_as_a_datetime(api: TestClient) -> None:
    assert api.post("/api/v1/fields", json={"name": "signed_up_at", "type": "datetime"}).status_code == 201
    early = upsert(api, {"email": "early@example.com", "signed_up_at": "2024-03-01T09:00:00+09:00"})
    late = upsert(api, {"email": "late@example.com", "signed_up_at": "2024-03-01 01:30:00"})
    assert early["traits"]["signed_up_at"] == "2024-03-01T00:00:00.000Z"
    after = api.get("/api/v1/profiles", params={"trait": "signed_up_at:gt:2024-03-01T10:15:00+09:00"}).json()
    assert [p["id"] for p in after["data"]] == [late["id"]]
    before = api.get("/api/v1/profiles", params={"trait": "signed_up_at:lte:2024-03-01T00:00:00Z"}).json()
    assert [p["id"] for p in before["data"]] == [early["id"]]


def test_a_custom_number_trait_compares_as_a_number_not_text(api: TestClient) -> None:
    api.post("/api/v1/fields", json={"name": "lifetime_value", "type": "number"})
    small = upsert(api, {"email": "s@example.com", "lifetime_value": "9"})
    big = upsert(api, {"email": "b@example.com", "lifetime_value": 100})
    assert small["traits"]["lifetime_value"] == 9
    found = api.get("/api/v1/profiles", params={"trait": "lifetime_value:gt:10"}).json()["data"]
    assert [p["id"] for p in found] == [big["id"]]


def test_a_value_of_the_wrong_type_is_left_out_and_the_rest_stored(api: TestClient) -> None:
    api.post("/api/v1/fields", json={"name": "ltv", "type": "number"})
    response = api.post(
        "/api/v1/profiles", json={"traits": {"email": "t@x.com", "ltv": "lots", "city": "Seoul"}}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["traits"] == {"email": "t@x.com", "city": "Seoul"}
    (warning,) = body["warnings"]
    assert (warning["field"], warning["value"], warning["effect"]) == ("traits.ltv", "lots", "dropped")
    assert "'lots' is not a number" in warning["reason"]
    stored = api.get("/api/v1/profiles/lookup", params={"email": "t@x.com"}).json()
    assert stored["id"] == body["id"] and "ltv" not in stored["traits"]
    assert "ltv" not in stored["provenance"]


def test_a_bad_field_name_and_an_invalid_identity_are_left_out_with_warnings(api: TestClient) -> None:
    body = upsert(
        api,
        {"email": "names@example.com", "bad name!": "x", "city": "Busan"},
        [{"kind": "email", "value": "not-an-email"}, {"kind": "user_id", "value": "u-1"}],
    )
    assert body["traits"] == {"email": "names@example.com", "city": "Busan"}
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("email", "names@example.com"),
        ("user_id", "u-1"),
    }
    effects = {w["field"]: w["effect"] for w in body["warnings"]}
    assert effects == {"traits.bad name!": "dropped", "identities[0]": "refused_identity"}


def test_a_record_with_only_values_left_out_identifies_nobody_and_is_refused(api: TestClient) -> None:
    response = api.post(
        "/api/v1/profiles",
        json={"traits": {"city": "Seoul"}, "identities": [{"kind": "email", "value": "nope"}]},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["field"] == "identities" and "identities[0]" in error["message"]
    assert api.get("/api/v1/stats").json()["profiles"] == 0


def test_a_source_with_policy_reject_still_gets_422_naming_the_field(api: TestClient) -> None:
    api.post("/api/v1/fields", json={"name": "ltv", "type": "number"})
    assert api.put("/api/v1/quality/sources/shop", json={"policy": "reject"}).status_code == 200
    response = api.post(
        "/api/v1/profiles",
        json={"traits": {"email": "r@x.com", "ltv": "lots", "city": "Seoul"}, "source": "shop"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["field"] == "traits.ltv"
    assert "reject" in error["message"] and "'lots' is not a number" in error["message"]
    assert api.get("/api/v1/profiles/lookup", params={"email": "r@x.com"}).status_code == 404


def test_list_searches_and_pages_with_a_cursor(api: TestClient) -> None:
    for n in range(7):
        upsert(
            api,
            {
                "email": f"user{n}@example.com",
                "first_name": f"Person{n}",
                "company": "Hanbit" if n % 2 else "Acme",
            },
        )
    upsert(api, {"email": "kim@example.com", "first_name": "민준", "last_name": "김"})
    assert [
        p["traits"]["first_name"] for p in api.get("/api/v1/profiles", params={"q": "김민준"}).json()["data"]
    ] == ["민준"]
    assert len(api.get("/api/v1/profiles", params={"q": "hanbit"}).json()["data"]) == 3
    seen, cursor = [], None
    while True:
        page = api.get(
            "/api/v1/profiles", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8
    assert seen == sorted(seen, reverse=True)  # newest first


def test_search_finds_a_phone_typed_the_local_way(api: TestClient) -> None:
    person = upsert(api, {"phone": "010-1234-5678", "country": "KR"})
    found = api.get("/api/v1/profiles", params={"q": "010-1234-5678"}).json()["data"]
    assert [p["id"] for p in found] == [person["id"]]


def test_a_forged_cursor_is_refused(api: TestClient) -> None:
    response = api.get("/api/v1/profiles", params={"cursor": "bm90LWFuLWlk"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "cursor"


def test_patch_sets_and_removes_traits_and_adds_identities(api: TestClient) -> None:
    person = upsert(api, {"email": "patch@example.com", "city": "Seoul", "company": "Acme"})
    response = api.patch(
        f"/api/v1/profiles/{person['id']}",
        json={
            "traits": {"city": "Busan", "company": None},
            "identities": [{"kind": "user_id", "value": "u-9"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["traits"] == {"email": "patch@example.com", "city": "Busan"}
    assert {"kind": "user_id", "value": "u-9"} in body["identities"]


def test_patch_leaves_out_a_value_of_the_wrong_type_and_keeps_the_stored_one(api: TestClient) -> None:
    api.post("/api/v1/fields", json={"name": "ltv", "type": "number"})
    person = upsert(api, {"email": "patchltv@example.com", "ltv": 10})
    response = api.patch(
        f"/api/v1/profiles/{person['id']}", json={"traits": {"ltv": "lots", "city": "Seoul"}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["traits"] == {"email": "patchltv@example.com", "ltv": 10, "city": "Seoul"}
    assert [(w["field"], w["effect"]) for w in body["warnings"]] == [("traits.ltv", "dropped")]
    assert "'lots' is not a number" in body["warnings"][0]["reason"]


def test_patch_from_a_source_with_policy_reject_is_refused(api: TestClient) -> None:
    api.post("/api/v1/fields", json={"name": "ltv", "type": "number"})
    person = upsert(api, {"email": "rejectme@example.com"})
    api.put("/api/v1/quality/sources/shop", json={"policy": "reject"})
    response = api.patch(
        f"/api/v1/profiles/{person['id']}",
        json={"traits": {"ltv": "lots", "city": "Seoul"}, "source": "shop"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "traits.ltv"
    assert "city" not in api.get(f"/api/v1/profiles/{person['id']}").json()["traits"]


def test_patch_refuses_an_identity_that_belongs_to_someone_else(api: TestClient) -> None:
    upsert(api, {"email": "taken@example.com"})
    other = upsert(api, {"email": "other@example.com"})
    response = api.patch(f"/api/v1/profiles/{other['id']}", json={"traits": {"email": "taken@example.com"}})
    assert response.status_code == 409
    assert "already belongs" in response.json()["error"]["message"]


def test_delete_removes_the_profile_and_frees_its_identities(api: TestClient) -> None:
    person = upsert(api, {"email": "gone@example.com"})
    assert api.delete(f"/api/v1/profiles/{person['id']}").status_code == 204
    assert api.get(f"/api/v1/profiles/{person['id']}").status_code == 404
    assert upsert(api, {"email": "gone@example.com"})["status"] == "created"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_profile_ids_are_404_in_the_error_shape(api: TestClient, method: str) -> None:
    kwargs = {"json": {"traits": {}}} if method == "patch" else {}
    response = getattr(api, method)("/api/v1/profiles/01ZZZZZZZZZZZZZZZZZZZZZZZZ", **kwargs)
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_invalid_json_is_400_with_where_it_broke(api: TestClient) -> None:
    response = api.post(
        "/api/v1/profiles", content=b'{"traits": {"email": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json"
    assert "line 1, column 22 (character 21)" in error["message"]
    assert error["details"] == {"position": 21, "line": 1, "column": 22}
    lines = api.post(
        "/api/v1/profiles",
        content=b'{\n  "traits": {\n    email: "a@b.co"}}',
        headers={"Content-Type": "application/json"},
    )
    message = lines.json()["error"]["message"]
    assert "Expecting property name enclosed in double quotes at line 3, column 5" in message


def test_wrong_shapes_are_422_naming_the_field(api: TestClient) -> None:
    response = api.post("/api/v1/profiles", json={"traits": ["not", "an", "object"]})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "traits"
    unknown = api.post("/api/v1/profiles", json={"traits": {}, "trait": {}})
    assert unknown.status_code == 422 and "trait" in unknown.json()["error"]["message"]


def test_a_bad_source_name_is_refused(api: TestClient) -> None:
    response = api.post("/api/v1/profiles", json={"traits": {"email": "a@b.co"}, "source": "My Shop!"})
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "source"


def test_oversized_bodies_are_413_before_they_are_read(api: TestClient, db: Database) -> None:
    big = {"traits": {"email": "big@example.com", "notes": "x" * (db.settings.max_body_bytes + 10)}}
    response = api.post("/api/v1/profiles", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    chunked = api.post(
        "/api/v1/profiles",
        content=iter([b"{" + b" " * 600_000, b" " * 600_000 + b"}"]),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413


def test_api_needs_an_admin_key(app_client: TestClient, db: Database) -> None:
    missing = app_client.get("/api/v1/stats")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = app_client.get("/api/v1/stats", headers={"Authorization": "Bearer pat_nope"})
    assert wrong.status_code == 401
    write = app_client.get("/api/v1/stats", headers={"Authorization": f"Bearer {db.write_key}"})
    assert write.status_code == 403
    assert "write key" in write.json()["error"]["message"]


def test_stats_are_exact_counts(api: TestClient) -> None:
    for n in range(3):
        upsert(api, {"email": f"c{n}@example.com", "phone": f"+1415234567{n}"})
    stats = api.get("/api/v1/stats").json()
    assert stats["profiles"] == 3 and stats["identities"] == 6 and stats["events"] == 0


def test_openapi_documents_the_api(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    assert {
        "/api/v1/profiles",
        "/api/v1/profiles/lookup",
        "/api/v1/profiles/{profile_id}",
        "/api/v1/fields",
        "/api/v1/stats",
    } <= set(spec["paths"])


def test_health_check_reports_the_database(app_client: TestClient, db: Database) -> None:
    response = app_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == db.name


def test_gzip_is_not_assumed_for_the_rest_api(api: TestClient) -> None:
    # The REST API takes plain JSON; a gzip body without JSON is an invalid body, not a crash.
    response = api.post(
        "/api/v1/profiles", content=gzip.compress(b"{}"), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
