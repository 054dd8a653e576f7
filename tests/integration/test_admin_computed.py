"""Computed traits on the admin's data dictionary page: listed, defined through the form and
computed for everyone at once, refused with the reason, deleted (built-in ones stay)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Database
from tests.integration.test_admin import csrf_of, log_in
from tests.integration.test_admin_scoring import person, process, track


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/admin/fields").text)


def traits(client: TestClient, db: Database, profile_id: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {db.admin_key}"}
    return client.get(f"/api/v1/profiles/{profile_id}", headers=headers).json()["traits"]


def test_define_compute_and_delete_a_computed_trait(app_client: TestClient, db: Database) -> None:
    log_in(app_client, db)
    listed = app_client.get("/admin/fields").text
    assert 'id="computed"' in listed and "<code>order_count</code>" in listed and "built in" in listed

    kim = person(app_client, db, "kim", email="kim@example.com")
    track(app_client, db, "kim", "Page Viewed", path="/pricing")
    track(app_client, db, "kim", "Page Viewed", path="/pricing")
    track(app_client, db, "kim", "Page Viewed", path="/blog")
    process(db)

    form = {"csrf_token": csrf(app_client), "name": "pricing_views", "kind": "count", "event": "Page Viewed",
            "where": 'path = "/pricing"', "description": "Views of the pricing page"}  # fmt: skip
    saved = app_client.post("/admin/fields/computed", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert traits(app_client, db, kim)["pricing_views"] == 2
    page = app_client.get("/admin/fields?done=saved").text
    assert "<code>pricing_views</code>" in page and "Views of the pricing page" in page
    assert (
        "<code>path = &#34;/pricing&#34;</code>" in page or "<code>path = &quot;/pricing&quot;</code>" in page
    )

    bad = {**form, "csrf_token": csrf(app_client), "name": "broken", "where": "path ="}
    refused = app_client.post("/admin/fields/computed", data=bad)
    assert refused.status_code == 422 and "where:" in refused.text
    assert 'value="broken"' in refused.text  # what was typed is kept

    gone = app_client.post(
        "/admin/fields/computed/pricing_views/delete",
        data={"csrf_token": csrf(app_client)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert "pricing_views" not in traits(app_client, db, kim)
    kept = app_client.post("/admin/fields/computed/order_count/delete", data={"csrf_token": csrf(app_client)})
    assert kept.status_code == 422
    assert "<code>order_count</code>" in app_client.get("/admin/fields").text
