"""Stock Segment and RudderStack Python SDKs, only their host changed, against `patron serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rudderstack.analytics import Client as RudderClient
from segment.analytics import Client as SegmentClient

from tests.conftest import empty_database
from tests.e2e.conftest import _free_port


@dataclass(frozen=True)
class Patron:
    """A running server, its keys, and a way to read its REST API."""

    url: str
    write_key: str
    admin_key: str

    def get(self, path: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            self.url + path + query, headers={"Authorization": f"Bearer {self.admin_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def wait_for(self, path: str, **params: str) -> dict:
        """GET until it answers 200 (the worker processes events within a second or so)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return self.get(path, **params)
            except urllib.error.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@pytest.fixture(params=["sqlite", "postgresql"])
def patron(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Patron]:
    """`patron init` and `patron serve` (worker in-process) on each database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'patron.db'}"
    else:
        url = request.getfixturevalue("postgresql_url")
        from patron.storage.engine import make_engine
        from patron.storage.migrate import upgrade

        engine = make_engine(url)
        upgrade(engine)
        empty_database(engine)
        engine.dispose()
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": url,
        "PATRON_SECRET_KEY": "sdk",
        "PATRON_WORKER_POLL_INTERVAL_S": "0.2",
    }
    keys = json.loads(
        subprocess.run(
            [sys.executable, "-m", "patron", "init", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "patron", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield Patron(base, keys["write_key"], keys["admin_api_key"])
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_segment_python_sdk_builds_profiles_and_timelines(patron: Patron) -> None:
    errors: list[Exception] = []
    client = SegmentClient(
        patron.write_key, host=patron.url, on_error=lambda e, _: errors.append(e), max_retries=1
    )
    client.page(anonymous_id="seg-anon", name="Home", properties={"path": "/"})
    client.track(
        anonymous_id="seg-anon", event="Product Viewed", properties={"product_id": "p-1", "price": 12.5}
    )
    client.identify(
        "seg-user", {"email": "Seg.User@Example.com", "first_name": "Ada"}, anonymous_id="seg-anon"
    )
    client.track("seg-user", "Order Completed", {"order_id": "o-1", "revenue": 42})
    client.group("seg-user", "seg-company", {"name": "Segment Fans"})
    client.flush()
    client.shutdown()
    assert errors == []
    person = patron.wait_for("/api/v1/profiles/lookup", email="seg.user@example.com")
    assert {"kind": "anonymous_id", "value": "seg-anon"} in person["identities"]  # stitched
    events = patron.wait_for(f"/api/v1/profiles/{person['id']}/events")["data"]
    deadline = time.monotonic() + 20
    while len(events) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
        events = patron.get(f"/api/v1/profiles/{person['id']}/events")["data"]
    assert sorted((e["type"], e["event"]) for e in events) == [
        ("group", None),
        ("identify", None),
        ("page", "Home"),
        ("track", "Order Completed"),
        ("track", "Product Viewed"),
    ]
    assert patron.get("/api/v1/accounts/seg-company")["members"] == [person["id"]]


def test_rudderstack_python_sdk_with_traits_in_context_and_alias(patron: Patron) -> None:
    errors: list[Exception] = []
    client = RudderClient(
        patron.write_key, host=patron.url, on_error=lambda e, _: errors.append(e), max_retries=1
    )
    client.track(anonymous_id="rud-anon", event="Product Added", properties={"product_id": "p-2"})
    client.identify("rud-user", {"email": "rud@example.com", "city": "Seoul"})
    client.alias(previous_id="rud-anon", user_id="rud-user")
    client.flush()
    client.shutdown()
    assert errors == []
    person = patron.wait_for("/api/v1/profiles/lookup", user_id="rud-user")
    deadline = time.monotonic() + 20
    while {"kind": "anonymous_id", "value": "rud-anon"} not in person[
        "identities"
    ] and time.monotonic() < deadline:
        time.sleep(0.2)
        person = patron.get("/api/v1/profiles/lookup", user_id="rud-user")
    assert person["traits"]["city"] == "Seoul" and person["traits"]["email"] == "rud@example.com"
    assert {"kind": "anonymous_id", "value": "rud-anon"} in person["identities"]
    events = patron.get(f"/api/v1/profiles/{person['id']}/events")["data"]
    assert {"Product Added"} <= {e["event"] for e in events}
