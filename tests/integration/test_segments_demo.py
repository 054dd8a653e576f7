"""`patron demo` saves segments that all have members, scores leads, and leaves ninety days of
membership history; the issue's example segment is not empty (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from patron.demo.segments import DEMO_SEGMENTS, EXAMPLE, load_demo_segments
from patron.identity.rules import IdentityRules
from patron.segments import evaluate, get_segment_by_name, list_segments, member_ids, preview, size_history
from patron.storage import transaction
from patron.storage.types import utcnow
from tests.conftest import Database, run_patron
from tests.integration.calls import api_get

PEOPLE, SEED = 600, 7


def test_the_demo_segments_have_members_history_and_export(
    db: Database, api: TestClient, workdir: Path
) -> None:
    result = run_patron(db, "demo", "--people", str(PEOPLE), "--seed", str(SEED), "--no-dedupe",
                        "--directory", str(workdir), "--json")  # fmt: skip
    loaded = json.loads(result.stdout)["segments"]
    assert set(loaded["segments"]) == {name for name, _, _ in DEMO_SEGMENTS}
    empty = [name for name, size in loaded["segments"].items() if not size]
    assert not empty, loaded  # every capability is shown with data
    assert loaded["new_buyers"] > 0 and loaded["recent_events"] > 0

    now = utcnow()
    with transaction(db.engine) as conn:
        example = get_segment_by_name(conn, EXAMPLE)
        members = member_ids(conn, example.id)
        for segment in list_segments(conn):  # each one evaluates and agrees with a fresh preview
            evaluate(conn, segment.id, now=now)
            size = get_segment_by_name(conn, segment.name).member_count
            assert preview(conn, tree=segment.tree, now=now, sample=0)["count"] == size, segment.name
        lookers = get_segment_by_name(conn, "Desk lamp lookers")
        history = [size for _, size in size_history(conn, lookers.id, now=now)]
    assert members and example.member_count == len(members)
    assert len(set(history)) >= 3 and history[-1] == lookers.member_count  # the chart has a shape

    for profile_id in members[:3]:  # who the example holds, seen through the API
        person = api_get(api, db, f"/api/v1/profiles/{profile_id}")
        assert person["traits"]["country"] == "US"
        assert not person["traits"].get("total_orders") and person["traits"].get("lead_status") != "customer"
        email = api_get(api, db, f"/api/v1/profiles/{profile_id}/consent")["channels"]["email"]
        assert email["topics"]["newsletter"] == "subscribed"
        orders = api_get(api, db, f"/api/v1/profiles/{profile_id}/events", event="Order Completed")["data"]
        month_ago = now - timedelta(days=30)
        assert len([o for o in orders if datetime.fromisoformat(o["timestamp"]) >= month_ago]) >= 2
        assert isinstance(person["traits"]["lead_score"], int | float) and person["traits"]["lead_stage"]

    lines = run_patron(db, "export", "--segment", EXAMPLE).stdout.splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(members)

    again = load_demo_segments(db.engine, seed=SEED, rules=IdentityRules(), default_region="US")
    assert again["skipped"] and again["segments"][EXAMPLE] == len(members)
