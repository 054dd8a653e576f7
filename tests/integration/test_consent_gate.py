"""The send gate: the set-based audience and the per-person check agree on random data, and
nobody who withdrew, unsubscribed from all, paused or is suppressed is ever in an audience."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from patron import consent
from patron.consent import suppression
from patron.storage.engine import transaction
from tests.conftest import Database

COUNTRIES = ["US", "KR", "DE", "CA", "GB", None, "BR"]
ACTIONS = ["grant", "request", "confirm", "withdraw", "expire"]
NOW = datetime.now(UTC)


def population(api: TestClient, rng: random.Random, size: int) -> list[tuple[str, str]]:
    """Profiles made through the REST API: (id, email)."""
    made = []
    for n in range(size):
        traits = {"email": f"p{n}.{rng.randrange(10**6)}@example.com", "first_name": f"P{n}"}
        country = rng.choice(COUNTRIES)
        if country:
            traits["country"] = country
        response = api.post("/api/v1/profiles", json={"traits": traits, "source": "crm"})
        assert response.status_code in (200, 201), response.text
        made.append((response.json()["id"], traits["email"]))
    return made


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_audience_matches_can_send_for_everyone(db: Database, api: TestClient, seed: int) -> None:
    rng = random.Random(seed)
    people = population(api, rng, 60)
    with transaction(db.engine) as conn:
        consent.create_topic(conn, {"key": "news", "name": "News"})
        consent.create_topic(conn, {"key": "offers", "name": "Offers", "default": "opt_out",
                                    "region_defaults": {"DE": "opt_in", "BR": "opt_out"}})  # fmt: skip
        consent.create_topic(conn, {"key": "texts", "name": "Texts", "channels": ["sms"]})
        if seed == 2:
            consent.set_policy(conn, "*", "opt_out")  # everywhere unlisted is opt-out
            consent.set_policy(conn, "KR", "opt_out")
        changes = []
        for pid, _ in people:
            for _ in range(rng.randrange(0, 6)):
                lapse = rng.choice([None, None, -5, 30])
                at = NOW - timedelta(days=rng.randrange(1, 400))
                changes.append(
                    (
                        pid,
                        consent.Change(
                            channel="email",
                            action=rng.choice(ACTIONS),
                            topic=rng.choice(["", "news", "offers"]),
                            legal_basis=rng.choice(["consent", "implied"]),
                            method="import",
                            occurred_at=at,
                            expires_at=NOW + timedelta(days=lapse) if lapse is not None else None,
                        ),
                    )
                )
        consent.record_many(conn, changes)
        for pid, _ in rng.sample(people, 6):
            consent.set_preferences(conn, pid, paused_until=NOW + timedelta(days=rng.choice([1, 20])))
        for _, email in rng.sample(people, 5):
            suppression.suppress_address(conn, "email", email, rng.choice(["hard_bounce", "manual"]))

    with transaction(db.engine, write=False) as conn:
        for channel, topic in [("email", None), ("email", "news"), ("email", "offers"), ("sms", "texts"),
                               ("sms", None), ("email", "texts")]:  # fmt: skip
            expected = sorted(pid for pid, _ in people if consent.can_send(conn, pid, channel, topic).allowed)
            assert sorted(consent.audience(conn, channel, topic)) == expected, (channel, topic)
        assert consent.audience(conn, "email", "news"), "the random data should let someone through"


def test_nobody_who_withdrew_is_in_any_audience(db: Database, api: TestClient) -> None:
    rng = random.Random(7)
    people = population(api, rng, 12)
    with transaction(db.engine) as conn:
        consent.create_topic(conn, {"key": "news", "name": "News", "default": "opt_out"})
        for pid, _ in people:
            consent.record(conn, pid, [consent.Change(channel="email", action="grant", topic="news")])
        withdrew, all_out, paused, bounced = (p for p, _ in people[:4])
        consent.record(conn, withdrew, [consent.Change(channel="email", action="withdraw", topic="news")])
        consent.record(conn, all_out, [consent.Change(channel="email", action="withdraw")])
        consent.set_preferences(conn, paused, paused_until=NOW + timedelta(days=30))
        suppression.suppress_address(conn, "email", people[3][1], "hard_bounce")
    with transaction(db.engine, write=False) as conn:
        members = set(consent.audience(conn, "email", "news")) | set(consent.audience(conn, "email"))
        assert members.isdisjoint({withdrew, all_out, paused, bounced})
        assert {p for p, _ in people[4:]} <= set(consent.audience(conn, "email", "news"))
        reasons = {
            pid: consent.can_send(conn, pid, "email", "news").reason
            for pid in (withdrew, all_out, paused, bounced)
        }
    assert reasons == {
        withdrew: "unsubscribed from news",
        all_out: "address suppressed (unsubscribe)",
        paused: "paused",
        bounced: "address suppressed (hard_bounce)",
    }


def test_stored_state_is_always_the_ledger_replayed(db: Database, api: TestClient) -> None:
    """After grants, requests, confirmations, expiries, a merge and an unmerge, consent_states
    holds exactly what replaying each ledger gives: the ledger is the truth."""
    from patron.consent.ledger import derive_for, states_of

    rng = random.Random(11)
    people = population(api, rng, 30)
    ids = [pid for pid, _ in people]
    with transaction(db.engine) as conn:
        consent.create_topic(conn, {"key": "news", "name": "News"})
        consent.record_many(
            conn,
            [
                (
                    rng.choice(ids),
                    consent.Change(
                        channel="email",
                        action=rng.choice(ACTIONS),
                        topic=rng.choice(["", "news"]),
                        method="import",
                        occurred_at=NOW - timedelta(days=rng.randrange(1, 300)),
                        expires_at=NOW - timedelta(days=1) if rng.random() < 0.2 else None,
                    ),
                )
                for _ in range(200)
            ],
        )
        consent.expire_lapsed(conn)
    merged = api.post(f"/api/v1/profiles/{ids[0]}/merge", json={"other": ids[1]})
    assert merged.status_code == 200, merged.text
    merge_id = api.get(f"/api/v1/profiles/{ids[0]}/merges").json()["data"][0]["id"]
    assert api.post(f"/api/v1/merges/{merge_id}/undo").status_code == 200
    with transaction(db.engine, write=False) as conn:
        stored = states_of(conn, ids)
        replayed = derive_for(conn, ids)
        for pid in ids:
            got = {key: (row.state, row.ledger_id) for key, row in stored.get(pid, {}).items()}
            want = {key: (s.state, s.ledger_id) for key, s in replayed.get(pid, {}).items()}
            assert got == want, pid
