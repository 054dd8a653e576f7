"""Segment membership: filled on save, re-evaluated on change, moved by react and by time alone,
with every stay a row and every entry and exit an event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, select

from patron import segments
from patron.errors import Invalid
from patron.fields.definitions import field_types
from patron.fields.types import format_datetime
from patron.identity.rules import DEFAULT_RULES
from patron.profiles import patch_profile, prepare_record, upsert_records
from patron.storage import transaction, utcnow
from patron.storage.schema import segment_memberships
from patron.tracking.dictionary import load_checker
from patron.tracking.events import timeline
from patron.tracking.intake import Source, prepare, store
from patron.tracking.processing import process_chunk
from tests.conftest import Database

# A mid-month moment: six calendar months back and forth land on the same day of the month.
NOW = datetime(2026, 5, 15, 12, 0, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def person(
    conn: Connection, user_id: str, traits: dict[str, Any], *, created_at: datetime | None = None
) -> str:
    """A profile made the way an import makes it; `created_at` sets the clock it is made at."""
    record = prepare_record(
        traits, [("user_id", user_id)], source="crm", field_types=field_types(conn), default_region="US"
    )
    with mock.patch("patron.profiles.writes.utcnow", return_value=created_at or utcnow()):
        return upsert_records(conn, [record]).records[0].profile_id


def set_traits(conn: Connection, profile_id: str, traits: dict[str, Any]) -> None:
    """Change traits through the profile write (it does not re-check segments by itself)."""
    record = prepare_record(traits, source="crm", field_types=field_types(conn), default_region="US")
    patch_profile(conn, profile_id, record)


def track(conn: Connection, user_id: str, event: str, at: datetime) -> None:
    """A track call through intake and the event processor (which reacts, at the real time)."""
    message = {"type": "track", "userId": user_id, "event": event, "timestamp": format_datetime(at)}
    prepared = prepare(
        [message], source=Source("web", mode="allow"), received_at=utcnow(), rules=DEFAULT_RULES,
        plan=load_checker(conn),
    )  # fmt: skip
    assert not prepared.rejected
    store(conn, prepared)
    process_chunk(conn, rules=DEFAULT_RULES, default_region="US")


def stays(conn: Connection, segment_id: int) -> dict[str, list[tuple[datetime, datetime | None]]]:
    """Every stay in the segment: profile -> [(entered_at, exited_at)] in order."""
    found: dict[str, list[tuple[datetime, datetime | None]]] = {}
    rows = conn.execute(
        select(
            segment_memberships.c.profile_id,
            segment_memberships.c.entered_at,
            segment_memberships.c.exited_at,
        )
        .where(segment_memberships.c.segment_id == segment_id)
        .order_by(segment_memberships.c.id)
    )
    for profile_id, entered_at, exited_at in rows:
        found.setdefault(profile_id, []).append((entered_at, exited_at))
    return found


def segment_events(conn: Connection, profile_id: str) -> list[tuple[str, dict[str, Any], str]]:
    """(event, properties, timestamp) of the person's segment events, oldest first."""
    items, _ = timeline(conn, profile_id, limit=500)
    return [(i["event"], i["properties"], i["timestamp"]) for i in reversed(items) if i["type"] == "segment"]


def test_creating_a_segment_fills_its_membership(db: Database) -> None:
    with transaction(db.engine) as conn:
        kim = person(conn, "kim", {"plan": "gold"})
        lee = person(conn, "lee", {"plan": "gold"})
        park = person(conn, "park", {"plan": "silver"})
        segment = segments.create_segment(conn, name="Gold", definition='plan = "gold"', now=NOW)
    with db.engine.connect() as conn:
        assert segment.member_count == 2
        assert segments.get_segment(conn, segment.id).as_dict()["count"] == 2
        assert sorted(segments.member_ids(conn, segment.id)) == sorted([kim, lee])
        assert stays(conn, segment.id) == {kim: [(NOW, None)], lee: [(NOW, None)]}
        assert [s["name"] for s in segments.segments_of(conn, kim)] == ["Gold"]
        assert segments.segments_of(conn, park) == []


def test_a_new_definition_records_who_entered_and_who_exited(db: Database) -> None:
    later = NOW + timedelta(hours=3)
    with transaction(db.engine) as conn:
        kim = person(conn, "kim", {"plan": "gold"})
        lee = person(conn, "lee", {"plan": "gold", "score": 50})
        park = person(conn, "park", {"plan": "silver", "score": 50})
        segment = segments.create_segment(conn, name="Engaged", definition='plan = "gold"', now=NOW)
        updated = segments.update_segment(conn, segment.id, definition="score >= 10", now=later)
    with db.engine.connect() as conn:
        assert updated.member_count == 2
        assert stays(conn, segment.id) == {kim: [(NOW, later)], lee: [(NOW, None)], park: [(later, None)]}
        wanted = {"segment_id": segment.id, "segment": "Engaged"}
        assert segment_events(conn, kim) == [("Segment Exited", wanted, format_datetime(later))]
        assert segment_events(conn, park) == [("Segment Entered", wanted, format_datetime(later))]
        assert segment_events(conn, lee) == []  # stayed in: nothing happened to them


def test_react_moves_only_the_people_it_is_given(db: Database) -> None:
    later = NOW + timedelta(minutes=5)
    with transaction(db.engine) as conn:
        kim = person(conn, "kim", {"score": 1})
        lee = person(conn, "lee", {"score": 1})
        park = person(conn, "park", {"score": 99})
        segment = segments.create_segment(conn, name="High", definition="score >= 10", now=NOW)
        set_traits(conn, kim, {"score": 20})
        set_traits(conn, lee, {"score": 20})
        set_traits(conn, park, {"score": 0})
        changes = segments.react(conn, [kim, park], now=later)
    with db.engine.connect() as conn:
        assert changes.entered[segment.id] == [kim] and changes.exited[segment.id] == [park]
        assert sorted(segments.member_ids(conn, segment.id)) == [kim]  # lee waits for their own react
        assert segments.get_segment(conn, segment.id).member_count == 1
        assert stays(conn, segment.id) == {park: [(NOW, later)], kim: [(later, None)]}
    with transaction(db.engine) as conn:
        segments.react(conn, [lee], now=later + MS)
        assert sorted(segments.member_ids(conn, segment.id)) == sorted([kim, lee])


def test_an_event_leaving_the_window_exits_the_member_at_the_boundary_not_before(db: Database) -> None:
    start = utcnow().replace(microsecond=0)  # the event processor reacts at the real time
    bought = start - timedelta(days=29)
    boundary = bought + timedelta(days=30)  # the last moment the purchase is "in last 30 days"
    with transaction(db.engine) as conn:
        buyer = person(conn, "buyer", {})
        segment = segments.create_segment(
            conn,
            name="Recent buyers",
            definition='count(event "Order Completed" in last 30 days) >= 1',
            now=start,
        )
        track(conn, "buyer", "Order Completed", bought)
        assert segments.member_ids(conn, segment.id) == [buyer]
    with transaction(db.engine) as conn:
        before = segments.cross_boundaries(conn, now=boundary - MS)
        at = segments.cross_boundaries(conn, now=boundary)
        assert not before.exited.get(segment.id) and not at.exited.get(segment.id)
        assert segments.member_ids(conn, segment.id) == [buyer]
    with transaction(db.engine) as conn:
        after = segments.cross_boundaries(conn, now=boundary + MS)
        assert after.exited[segment.id] == [buyer]
        assert segments.member_ids(conn, segment.id) == []
        assert stays(conn, segment.id)[buyer][-1][1] == boundary + MS
        assert segment_events(conn, buyer)[-1][0] == "Segment Exited"


def test_a_new_customer_segment_lets_people_go_six_calendar_months_after_they_joined(db: Database) -> None:
    joined = NOW - relativedelta(months=6) + timedelta(days=1)
    boundary = joined + relativedelta(months=6)  # from here on, now - 6 months is no longer before them
    assert boundary - relativedelta(months=6) == joined
    with transaction(db.engine) as conn:
        newcomer = person(conn, "new", {}, created_at=joined)
        person(conn, "old", {}, created_at=NOW - relativedelta(years=1))
        segment = segments.create_segment(
            conn, name="New customers", definition="created_at > now - 6 months", now=NOW
        )
        assert segments.member_ids(conn, segment.id) == [newcomer]
        assert not segments.cross_boundaries(conn, now=boundary - MS).exited.get(segment.id)
        assert segments.member_ids(conn, segment.id) == [newcomer]
        assert segments.cross_boundaries(conn, now=boundary).exited[segment.id] == [newcomer]
        assert segments.member_ids(conn, segment.id) == []


def test_a_lapsing_implied_consent_exits_at_its_expiry(db: Database) -> None:
    from patron.consent.ledger import Change, record

    expires = NOW + timedelta(days=3)
    with transaction(db.engine) as conn:
        reader = person(conn, "reader", {})
        implied = Change("email", "grant", legal_basis="implied", occurred_at=NOW, expires_at=expires)
        record(conn, reader, [implied])
        segment = segments.create_segment(conn, name="Mailable", definition="subscribed(email)", now=NOW)
        assert segments.member_ids(conn, segment.id) == [reader]
        assert not segments.cross_boundaries(conn, now=expires - MS).exited.get(segment.id)
        assert segments.cross_boundaries(conn, now=expires).exited[segment.id] == [reader]


def test_segments_built_on_segments_follow_them(db: Database) -> None:
    later = NOW + timedelta(hours=1)
    with transaction(db.engine) as conn:
        kim = person(conn, "kim", {"plan": "gold", "score": 5})
        lee = person(conn, "lee", {"plan": "silver", "score": 5})
        gold = segments.create_segment(conn, name="Gold", definition='plan = "gold"', now=NOW)
        engaged = segments.create_segment(
            conn, name="Engaged gold", definition='in segment "Gold" and score > 1', now=NOW
        )
        assert segments.member_ids(conn, engaged.id) == [kim]
        segments.update_segment(conn, gold.id, definition='plan = "silver"', now=later)
        assert segments.member_ids(conn, engaged.id) == [lee]
        set_traits(conn, lee, {"score": 0})
        segments.react(conn, [lee], now=later + MS)
        assert segments.member_ids(conn, engaged.id) == []
        assert segments.member_ids(conn, gold.id) == [lee]


@pytest.mark.parametrize(
    "definition",
    ['in segment "Nobody made this"', 'in segment "Loop"', 'plan = "x" or not in segment "Loop"'],
)
def test_unknown_and_self_referring_segments_are_invalid(db: Database, definition: str) -> None:
    with transaction(db.engine) as conn, pytest.raises(Invalid):
        segments.create_segment(conn, name="Loop", definition=definition, now=NOW)
    with db.engine.connect() as conn:
        assert segments.list_segments(conn) == []


def test_a_cycle_through_two_segments_is_invalid_and_changes_nothing(db: Database) -> None:
    with transaction(db.engine) as conn:
        first = segments.create_segment(conn, name="A", definition='plan = "gold"', now=NOW)
        segments.create_segment(conn, name="B", definition='in segment "A"', now=NOW)
    with transaction(db.engine) as conn, pytest.raises(Invalid):
        segments.update_segment(conn, first.id, definition='in segment "B"', now=NOW)
    with db.engine.connect() as conn:
        assert segments.get_segment(conn, first.id).definition == 'plan = "gold"'
        with pytest.raises(Invalid):
            conn.execute(segments.matching(conn, {"segment": "Nobody made this"}, now=NOW))


def test_preview_counts_and_samples_without_saving(db: Database) -> None:
    with transaction(db.engine) as conn:
        golds = {person(conn, f"g{n}", {"plan": "gold"}) for n in range(3)}
        person(conn, "s", {"plan": "silver"})
    with db.engine.connect() as conn:
        seen = segments.preview(conn, definition='plan = "gold"', now=NOW, sample=2)
        assert seen["count"] == 3 and len(seen["sample"]) == 2 and set(seen["sample"]) <= golds
        assert (
            segments.preview(conn, tree={"trait": "plan", "op": "=", "value": "none"}, now=NOW)["count"] == 0
        )
        with pytest.raises(Invalid):
            segments.preview(conn, definition='plan = "gold" and', now=NOW)
        assert segments.list_segments(conn) == []


def test_size_history_counts_members_at_the_end_of_each_day(db: Database) -> None:
    day = NOW.date()
    with transaction(db.engine) as conn:
        person(conn, "kim", {"plan": "gold"})
        lee = person(conn, "lee", {"plan": "gold"})
        segment = segments.create_segment(conn, name="Gold", definition='plan = "gold"', now=NOW)
        set_traits(conn, lee, {"plan": "silver"})
        segments.react(conn, [lee], now=NOW + timedelta(days=2))
        history = segments.size_history(conn, segment.id, days=5, now=NOW + timedelta(days=3))
    expected: list[tuple[date, int]] = [
        (day - timedelta(days=1), 0), (day, 2), (day + timedelta(days=1), 2),
        (day + timedelta(days=2), 1), (day + timedelta(days=3), 1),
    ]  # fmt: skip
    assert history == expected


# Segments whose truth changes with time alone, over the random data set of the oracle test.
TIMED = {
    "Recent buyers": 'count(event "Order Completed" in last 30 days) >= 1',
    "Lapsed": 'count(event "Order Completed" in last 30 days) < 1',
    "New": "created_at > now - 6 months",
    "Seen this week": "seen_at >= now - 7 days",
    "Renewal due": "renewal <= now - 1 month",
    "Adults": "birthday <= now - 18 years",
    "Mailable": "subscribed(email)",
    "Offers by text": 'subscribed(sms, "offers")',
    "Browsing": 'last(event "Page Viewed") >= now - 2 weeks',
    "Old customers": 'first(event "Order Completed") < now - 30 days',
    "Big spenders": 'sum(revenue of event "Order Completed" in last 1 month) >= 10',
    "Gold this week": 'count(event "Order Completed" where plan = "gold" in last 7 days) >= 1',
    "Quiet buyers": 'in segment "Recent buyers" and not subscribed(email)',
}
CHECKS = (
    timedelta(hours=1), timedelta(days=1) - MS, timedelta(days=1), timedelta(days=1) + MS, timedelta(days=3),
    timedelta(days=7), timedelta(days=29), timedelta(days=30), timedelta(days=30) + MS, timedelta(days=31),
    timedelta(days=60), timedelta(days=183), timedelta(days=200), timedelta(days=400), timedelta(days=800),
)  # fmt: skip


def test_boundary_checks_keep_every_timed_segment_equal_to_a_fresh_evaluation(db: Database) -> None:
    """After each boundary check, with no data written in between, every segment's members are
    exactly whom the oracle chooses at that moment."""
    from tests.integration.test_segment_oracle import NOW as WORLD_NOW
    from tests.integration.test_segment_oracle import build_world, read_world
    from tests.segment_oracle import matching

    with transaction(db.engine) as conn:
        ids = build_world(conn, seed=7)
        for name, definition in TIMED.items():
            segments.create_segment(conn, name=name, definition=definition, now=WORLD_NOW)
    with db.engine.connect() as conn:
        world = read_world(conn, ids)
        trees = {s.name: s.tree for s in segments.list_segments(conn)}
        previous = {s.name: set(segments.member_ids(conn, s.id)) for s in segments.list_segments(conn)}
    moved: set[str] = set()
    for step in CHECKS:
        at = WORLD_NOW + step
        with transaction(db.engine) as conn:
            segments.cross_boundaries(conn, now=at)
            wrong = {}
            for segment in segments.list_segments(conn):
                expected = matching(
                    segment.tree, world.people, now=at, segments=trees, field_types=world.field_types
                )
                got = set(segments.member_ids(conn, segment.id))
                moved |= {segment.name} if expected != previous[segment.name] else set()
                previous[segment.name] = expected
                if got != expected or segment.member_count != len(expected):
                    wrong[segment.name] = (
                        sorted(got - expected),
                        sorted(expected - got),
                        segment.member_count,
                    )
        assert not wrong, f"at now + {step}: (stale members, missing members, count) {wrong}"
    assert len(moved) >= 8, moved  # time alone moved people in most segments: the checks were not idle
