"""Fixtures for tests that talk to the ASGI app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from patron.web.app import create_app
from tests.conftest import Database


@pytest.fixture
def app_client(db: Database) -> Iterator[TestClient]:
    """HTTP client for the app on this test's database, without credentials."""
    with TestClient(create_app(db.settings, engine=db.engine)) as client:
        yield client


@pytest.fixture
def api(db: Database, app_client: TestClient) -> TestClient:
    """HTTP client carrying the admin API key."""
    app_client.headers["Authorization"] = f"Bearer {db.admin_key}"
    return app_client
