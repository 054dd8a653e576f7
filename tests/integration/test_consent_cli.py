"""`patron consent` through the real entry point."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.conftest import Database, run_patron
from tests.integration.calls import post_profile


def patron_json(db: Database, *args: str) -> dict:
    return json.loads(run_patron(db, "consent", *args, "--json").stdout)


def test_topics_state_ledger_audience_and_expiry_from_the_command_line(db: Database, api: TestClient) -> None:
    made = patron_json(db, "add-topic", "newsletter", "--name", "Newsletter", "--default", "opt_in")
    assert made["key"] == "newsletter" and made["channels"] == ["email"]
    assert [t["key"] for t in patron_json(db, "topics")["data"]] == ["newsletter"]

    pid = post_profile(api, db, {"email": "lee@example.com", "country": "US"})["id"]
    granted = api.post(f"/api/v1/profiles/{pid}/consent", json={"action": "grant", "topic": "newsletter"})
    assert granted.status_code == 200, granted.text

    shown = patron_json(db, "show", "--email", "LEE@example.com")
    assert shown["profile_id"] == pid
    assert shown["channels"]["email"]["topics"] == {"newsletter": "subscribed"}
    assert [row["action"] for row in shown["ledger"]] == ["grant"]
    assert patron_json(db, "audience", "--topic", "newsletter") == {
        "channel": "email",
        "topic": "newsletter",
        "count": 1,
    }
    assert patron_json(db, "expire") == {"expired": 0}

    human = run_patron(db, "consent", "show", "--id", pid).stdout
    assert "newsletter" in human and "subscribed" in human

    missing = run_patron(db, "consent", "show", "--email", "nobody@example.com", check=False)
    assert missing.returncode != 0 and "nobody@example.com" in (missing.stdout + missing.stderr)
    clash = run_patron(db, "consent", "add-topic", "newsletter", "--name", "Again", "--json", check=False)
    assert clash.returncode != 0 and "already exists" in clash.stdout + clash.stderr
