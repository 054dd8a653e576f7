"""Lead scoring on both databases: awards, once/each/caps, filters, trait rules giving points back,
decay with a half-life, stages and their events, and the reasons that explain a score."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron import scoring
from patron.errors import Invalid, NotFound
from patron.storage.engine import transaction
from patron.storage.schema import events
from tests.conftest import Database
from tests.integration.test_computed_traits import NOW, days_ago, person, track, traits_of

PRICING = {"name": "Viewed pricing", "kind": "event", "event": "Page Viewed", "points": 5,
           "where": [{"property": "path", "op": "=", "value": "/pricing"}]}  # fmt: skip


def viewed(user_id: str, path: str, days: float) -> dict[str, Any]:
    return {"userId": user_id, "event": "Page Viewed", "at": days_ago(days), "properties": {"path": path}}


def add_rule(db: Database, **fields: Any) -> scoring.ScoringRule:
    with transaction(db.engine) as conn:
        return scoring.create_rule(conn, fields, now=NOW)


def react(db: Database, *ids: str, now: Any = NOW) -> list[str]:
    with transaction(db.engine) as conn:
        return scoring.react(conn, list(ids), now=now)


def explain(db: Database, profile_id: str, now: Any = NOW) -> dict[str, Any]:
    with transaction(db.engine, write=False) as conn:
        return scoring.explain(conn, profile_id, now=now)


def stage_events(db: Database, profile_id: str) -> list[dict[str, Any]]:
    with transaction(db.engine, write=False) as conn:
        query = select(events.c.type, events.c.event, events.c.source, events.c.properties).where(
            events.c.profile_id == profile_id, events.c.event == "Stage Changed"
        )
        return [dict(row._mapping) for row in conn.execute(query.order_by(events.c.id))]


@pytest.fixture
def kim(db: Database, api: TestClient) -> str:
    """A person with no half-life surprises: stages and the 30-day half-life are the defaults."""
    with transaction(db.engine) as conn:
        scoring.seed_stages(conn)
    return person(api, "kim", country="KR")


def test_each_matching_event_earns_the_points_once_per_event(db: Database, api: TestClient, kim: str) -> None:
    with transaction(db.engine) as conn:
        scoring.set_half_life(conn, None, now=NOW)
    add_rule(db, **PRICING)
    track(api, db, [viewed("kim", "/pricing", 3), viewed("kim", "/pricing", 2), viewed("kim", "/blog", 1)])
    react(db, kim)
    assert traits_of(db, kim)["lead_score"] == 10
    assert react(db, kim) == []  # the same events never pay twice
    assert traits_of(db, kim)["lead_score"] == 10


def test_once_pays_for_the_first_event_only_and_a_cap_stops_each(
    db: Database, api: TestClient, kim: str
) -> None:
    with transaction(db.engine) as conn:
        scoring.set_half_life(conn, 0, now=NOW)
    add_rule(db, name="Signed up", kind="event", event="Signed Up", points=20, repeat="once")
    add_rule(db, **{**PRICING, "max_awards": 2})
    track(api, db, [{"userId": "kim", "event": "Signed Up", "at": days_ago(4)}, viewed("kim", "/pricing", 3)])
    react(db, kim)
    track(api, db, [{"userId": "kim", "event": "Signed Up", "at": days_ago(1)}]
          + [viewed("kim", "/pricing", d) for d in (2, 1.5, 1)])  # fmt: skip
    react(db, kim)
    assert traits_of(db, kim)["lead_score"] == 20 + 2 * 5
    awards = [c for c in explain(db, kim)["changes"] if c["event_id"] is not None]
    assert len(awards) == 3


def test_a_trait_rule_pays_while_it_holds_and_takes_the_points_back(
    db: Database, api: TestClient, kim: str
) -> None:
    rule = add_rule(db, name="In Korea", kind="trait", condition='country = "KR"', points=15)
    assert traits_of(db, kim)["lead_score"] == 15  # applied to everyone when created
    assert traits_of(db, kim)["lead_stage"] == "lead"
    api.patch(f"/api/v1/profiles/{kim}", json={"traits": {"country": "JP"}})
    react(db, kim)
    assert traits_of(db, kim)["lead_score"] == 0
    changes = explain(db, kim)["changes"]
    points = [c["points"] for c in changes if c["rule_id"] == rule.id]
    assert points == [-15, 15]  # newest first: given, then taken back
    assert "taken back" in changes[0]["reason"] or "taken back" in changes[1]["reason"]


def test_points_fade_by_half_every_half_life(db: Database, api: TestClient, kim: str) -> None:
    add_rule(db, **{**PRICING, "points": 40})
    track(api, db, [viewed("kim", "/pricing", 0)])
    react(db, kim)
    assert traits_of(db, kim)["lead_score"] == 40 and traits_of(db, kim)["lead_stage"] == "MQL"
    with transaction(db.engine) as conn:
        assert scoring.decay(conn, now=NOW + timedelta(days=30)) == [kim]
    assert traits_of(db, kim)["lead_score"] == 20 and traits_of(db, kim)["lead_stage"] == "lead"
    with transaction(db.engine) as conn:
        assert scoring.decay(conn, now=NOW + timedelta(days=30)) == []  # nothing moved since
        scoring.set_half_life(conn, 10, now=NOW + timedelta(days=30))
    assert traits_of(db, kim)["lead_score"] == 5


def test_trait_points_do_not_fade(db: Database, kim: str) -> None:
    add_rule(
        db, name="In Korea", kind="trait", condition={"trait": "country", "op": "=", "value": "KR"}, points=12
    )
    with transaction(db.engine) as conn:
        scoring.decay(conn, now=NOW + timedelta(days=365))
    assert traits_of(db, kim)["lead_score"] == 12


def test_a_stage_change_is_an_event_and_a_reason(db: Database, api: TestClient, kim: str) -> None:
    add_rule(db, **{**PRICING, "points": 45})
    track(api, db, [viewed("kim", "/pricing", 0)])
    react(db, kim)
    moves = stage_events(db, kim)
    assert [(m["type"], m["source"], m["properties"]["from"], m["properties"]["to"]) for m in moves] == [
        ("score", "patron", None, "MQL")
    ]
    # Scored when the worker processed the event, a moment after NOW: a hair faded already.
    assert moves[0]["properties"]["score"] == pytest.approx(45, abs=0.1)
    with transaction(db.engine) as conn:
        scoring.decay(conn, now=NOW + timedelta(days=30))
    assert [m["properties"]["to"] for m in stage_events(db, kim)] == ["MQL", "lead"]
    reasons = [c["reason"] for c in explain(db, kim, now=NOW + timedelta(days=30))["changes"]]
    assert "stage MQL -> lead" in reasons


def test_explain_gives_the_score_the_stage_and_every_reason(db: Database, api: TestClient, kim: str) -> None:
    add_rule(db, **PRICING)
    add_rule(db, name="Unsubscribed", kind="event", event="Unsubscribed", points=-10)
    track(
        api,
        db,
        [viewed("kim", "/pricing", 30), {"userId": "kim", "event": "Unsubscribed", "at": days_ago(0)}],
    )
    react(db, kim)
    told = explain(db, kim)
    assert told["score"] == -7.5 and told["stage"] is None and told["half_life_days"] == 30
    by_points = {c["points"]: c for c in told["changes"] if c["event_id"]}
    assert by_points[5]["reason"] == 'Viewed pricing: +5 (event "Page Viewed" where path = "/pricing")'
    assert by_points[5]["worth_now"] == 2.5
    assert by_points[-10]["reason"] == 'Unsubscribed: -10 (event "Unsubscribed")'
    assert told["changes"][0]["points"] == -10  # newest first
    with transaction(db.engine, write=False) as conn, pytest.raises(NotFound):
        scoring.explain(conn, "01NOSUCHPROFILE0000000000", now=NOW)


def test_stages_can_be_replaced_and_everyone_moves(db: Database, kim: str) -> None:
    add_rule(db, name="In Korea", kind="trait", condition='country = "KR"', points=15)
    with transaction(db.engine) as conn:
        stages = scoring.set_stages(
            conn, [{"name": "hot", "threshold": 12}, {"name": "cold", "threshold": -100}]
        )
    assert [s["name"] for s in stages] == ["cold", "hot"]
    assert traits_of(db, kim)["lead_stage"] == "hot"
    with transaction(db.engine) as conn, pytest.raises(Invalid) as refused:
        scoring.set_stages(conn, [{"name": "a", "threshold": 1}, {"name": "A", "threshold": 2}])
    assert refused.value.field == "stages[1].name"


def test_deleting_a_rule_removes_its_points(db: Database, kim: str) -> None:
    rule = add_rule(db, name="In Korea", kind="trait", condition='country = "KR"', points=15)
    with transaction(db.engine) as conn:
        assert scoring.delete_rule(conn, rule.id, now=NOW) == [kim]
        with pytest.raises(NotFound):
            scoring.get_rule(conn, rule.id)
    assert traits_of(db, kim)["lead_score"] == 0


def test_switching_a_rule_off_gives_trait_points_back(db: Database, kim: str) -> None:
    rule = add_rule(db, name="In Korea", kind="trait", condition='country = "KR"', points=15)
    with transaction(db.engine) as conn:
        scoring.update_rule(conn, rule.id, {"is_active": False}, now=NOW)
    assert traits_of(db, kim)["lead_score"] == 0
    with transaction(db.engine) as conn:
        scoring.update_rule(conn, rule.id, {"is_active": True, "points": 20}, now=NOW)
    assert traits_of(db, kim)["lead_score"] == 20


AN_EVENT_RULE = {"name": "n", "kind": "event", "event": "X", "points": 1}
A_TRAIT_RULE = {"name": "n", "kind": "trait", "points": 1, "condition": 'country = "KR"'}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": "event", "event": "X", "points": 1}, "name"),
        ({"name": "n", "kind": "mood", "points": 1}, "kind"),
        ({"name": "n", "kind": "event", "event": "X", "points": 0}, "points"),
        ({"name": "n", "kind": "event", "event": "X", "points": True}, "points"),
        ({"name": "n", "kind": "event", "points": 1}, "event"),
        ({"name": "n", "kind": "event", "event": "X", "points": 1, "repeat": "twice"}, "repeat"),
        ({"name": "n", "kind": "event", "event": "X", "points": 1, "max_awards": 0}, "max_awards"),
        ({**AN_EVENT_RULE, "where": [{"property": "p"}]}, "where[0].op"),
        ({"name": "n", "kind": "trait", "points": 1}, "condition"),
        ({"name": "n", "kind": "trait", "points": 1, "condition": 'country = '}, "condition"),
        ({**A_TRAIT_RULE, "repeat": "once"}, "repeat"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_naming_the_field(db: Database, fields: dict[str, Any], named: str) -> None:
    with transaction(db.engine) as conn, pytest.raises(Invalid) as refused:
        scoring.create_rule(conn, fields, now=NOW)
    assert refused.value.field == named
