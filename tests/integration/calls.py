"""REST calls the integration tests share, made with the admin API key."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Database


def admin(db: Database) -> dict[str, str]:
    """The Authorization header of the admin key."""
    return {"Authorization": f"Bearer {db.admin_key}"}


def post_profile(client: TestClient, db: Database, traits: dict, source: str = "crm") -> dict:
    """Upsert a profile from its traits (email and phone traits are its identities)."""
    response = client.post("/api/v1/profiles", json={"traits": traits, "source": source}, headers=admin(db))
    assert response.status_code in (200, 201), response.text
    return response.json()


def api_get(client: TestClient, db: Database, path: str, **params: object) -> dict:
    """GET under the admin key; the JSON body of a 200."""
    response = client.get(path, params=params, headers=admin(db))
    assert response.status_code == 200, response.text
    return response.json()
