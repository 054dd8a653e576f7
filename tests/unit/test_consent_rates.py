"""Opt-in, opt-down and unsubscribe rates read from hand-made ledgers, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from patron.consent import Change, create_topic, record
from patron.consent.rates import period_starts, summary, topic_rates
from patron.errors import Invalid
from patron.profiles import prepare_record, upsert_records
from patron.storage.engine import transaction
from tests.conftest import Database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 30, tzinfo=UTC)


def people(db: Database, *names: str) -> dict[str, str]:
    """Profiles made as an import makes them: name -> id."""
    records = [
        prepare_record(
            {"first_name": name},
            [("email", f"{name}@example.com")],
            source="seed",
            field_types={},
            default_region="US",
        )  # fmt: skip
        for name in names
    ]
    with transaction(db.engine) as conn:
        outcome = upsert_records(conn, records)
    return {name: result.profile_id for name, result in zip(names, outcome.records, strict=True)}


def grant(topic: str, when: datetime, **extra: object) -> Change:
    return Change(channel="email", action="grant", topic=topic, method="import", occurred_at=when, **extra)  # type: ignore[arg-type]


def withdraw(topic: str, when: datetime) -> Change:
    return Change(
        channel="email", action="withdraw", topic=topic, method="preference_centre", occurred_at=when
    )


def frequency(was: str, now: str, when: datetime) -> Change:
    return Change(channel="email", action="frequency", method="preference_centre", occurred_at=when,
                  detail={"frequency": now, "was": was})  # fmt: skip


@pytest.fixture
def ledgers(db: Database) -> dict[str, str]:
    """Two topics and six people whose ledgers span September to November 2026."""
    ids = people(db, "ann", "ben", "cat", "dan", "eve", "fay")
    with transaction(db.engine) as conn:
        create_topic(conn, {"key": "news", "name": "News"})
        create_topic(conn, {"key": "offers", "name": "Offers"})
        # Before the window: Ann and Ben subscribe to news, the baseline of two.
        record(conn, ids["ann"], [grant("news", at(9, 10)), withdraw("news", at(10, 5))])
        record(conn, ids["ben"], [
            grant("news", at(9, 15)),
            grant("news", at(10, 7)),  # a repeated grant makes no new subscriber
            frequency("weekly", "monthly", at(11, 3)),  # an opt-down by a subscriber
            frequency("monthly", "daily", at(11, 4)),  # more often: not an opt-down
            withdraw("", at(11, 20)),  # unsubscribe from all: counts for news, where Ben was
        ])  # fmt: skip
        record(conn, ids["cat"], [grant("news", at(10, 12)), grant("offers", at(10, 12))])
        record(conn, ids["dan"], [
            Change(channel="email", action="request", topic="news", method="form", occurred_at=at(11, 1),
                   expires_at=at(11, 3)),
            Change(channel="email", action="confirm", topic="news", method="form", occurred_at=at(11, 2)),
        ])  # fmt: skip
        # Eve never subscribed; her first withdrawal still counts (an opt-out topic mails her), the
        # second the next day changes nothing.
        record(conn, ids["eve"], [withdraw("news", at(10, 20)), withdraw("news", at(10, 21))])
        # Fay lowers her frequency without subscribing to anything: no topic's opt-down.
        record(conn, ids["fay"], [frequency("as_it_happens", "weekly", at(11, 5))])
    return ids


def test_monthly_rates_follow_the_ledger(db: Database, ledgers: dict[str, str]) -> None:
    with transaction(db.engine, write=False) as conn:
        rates = topic_rates(conn, unit="month", periods=3, now=NOW)
    october, november, december = rates["news"]
    assert [p.start for p in rates["news"]] == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    assert (october.subscribers, october.opt_ins, october.opt_downs, october.unsubscribes) == (2, 1, 0, 2)
    assert (october.opt_in_rate, october.unsubscribe_rate) == (50.0, 100.0)
    assert (november.subscribers, november.opt_ins, november.opt_downs, november.unsubscribes) == (2, 1, 1, 1)
    assert (november.opt_in_rate, november.opt_down_rate, november.unsubscribe_rate) == (50.0, 50.0, 50.0)
    assert (december.subscribers, december.opt_ins, december.opt_downs, december.unsubscribes) == (3, 0, 0, 0)


def test_a_channel_wide_withdrawal_counts_only_where_the_person_was_subscribed(
    db: Database, ledgers: dict[str, str]
) -> None:
    with transaction(db.engine, write=False) as conn:
        offers = topic_rates(conn, unit="month", periods=3, now=NOW)["offers"]
    assert [(p.subscribers, p.opt_ins, p.opt_downs, p.unsubscribes) for p in offers] == [
        (0, 1, 0, 0),
        (1, 0, 0, 0),
        (1, 0, 0, 0),
    ]
    assert offers[0].opt_in_rate is None  # no subscribers at the start: no rate, not a division by zero


def test_weekly_periods_start_on_monday(db: Database, ledgers: dict[str, str]) -> None:
    with transaction(db.engine, write=False) as conn:
        weeks = topic_rates(conn, unit="week", periods=6, now=NOW)["news"]
    assert weeks[-1].start == date(2026, 11, 30) and all(p.start.weekday() == 0 for p in weeks)
    by_start = {p.start: p for p in weeks}
    assert by_start[date(2026, 10, 26)].opt_ins == 0
    assert by_start[date(2026, 10, 26)].subscribers == 2  # Ben and Cat
    assert (by_start[date(2026, 11, 2)].opt_ins, by_start[date(2026, 11, 2)].opt_downs) == (1, 1)
    assert by_start[date(2026, 11, 16)].unsubscribes == 1  # Ben, 20 November
    assert by_start[date(2026, 11, 30)].subscribers == 3


def test_summary_counts_people_per_state(db: Database, ledgers: dict[str, str]) -> None:
    with transaction(db.engine) as conn:
        record(conn, ledgers["fay"], [Change(channel="email", action="request", topic="offers", method="form",
                                             expires_at=NOW + timedelta(days=400))])  # fmt: skip
        counts = summary(conn)
    assert counts["news"] == {"subscribed": 3, "unsubscribed": 2, "pending": 0, "none": 1}
    assert counts["offers"] == {"subscribed": 1, "unsubscribed": 0, "pending": 1, "none": 4}


def test_periods_are_checked() -> None:
    assert period_starts("month", 2, datetime(2026, 1, 15, tzinfo=UTC)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
    with pytest.raises(Invalid) as caught:
        period_starts("day", 3, NOW)
    assert caught.value.field == "unit"
    with pytest.raises(Invalid):
        period_starts("week", 0, NOW)


def test_expiries_end_only_lapsing_consent(db: Database) -> None:
    ids = people(db, "gus", "hal", "ida")
    with transaction(db.engine) as conn:
        create_topic(conn, {"key": "tips", "name": "Tips"})
        # Gus is subscribed for good; his second sign-up lapses unconfirmed and leaves him subscribed.
        record(conn, ids["gus"], [
            grant("tips", at(9, 1)),
            Change(channel="email", action="request", topic="tips", method="form", occurred_at=at(10, 3),
                   expires_at=at(10, 6)),
            Change(channel="email", action="expire", topic="tips", method="system", occurred_at=at(10, 6)),
        ])  # fmt: skip
        # Hal's implied consent (CASL) lapses in October: a subscriber less, not an unsubscribe.
        record(conn, ids["hal"], [
            grant("tips", at(9, 2), legal_basis="implied", expires_at=at(10, 15)),
            Change(channel="email", action="expire", topic="tips", method="system", occurred_at=at(10, 15)),
        ])  # fmt: skip
        # Ida's request lapses: she never was a subscriber.
        record(conn, ids["ida"], [
            Change(channel="email", action="request", topic="tips", method="form", occurred_at=at(10, 1),
                   expires_at=at(10, 4)),
            Change(channel="email", action="expire", topic="tips", method="system", occurred_at=at(10, 4)),
        ])  # fmt: skip
        tips = topic_rates(conn, unit="month", periods=3, now=NOW)["tips"]
        assert summary(conn)["tips"]["subscribed"] == 1
    assert [(p.subscribers, p.opt_ins, p.unsubscribes) for p in tips] == [(2, 0, 0), (1, 0, 0), (1, 0, 0)]
