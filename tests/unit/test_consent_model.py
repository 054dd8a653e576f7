"""The ledger -> state rule: sequences of grants, requests, confirmations, withdrawals, expiries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.consent.model import (
    CONFIRM,
    EXPIRE,
    GRANT,
    NONE,
    PENDING,
    REQUEST,
    SUBSCRIBED,
    UNSUBSCRIBED,
    WITHDRAW,
    LedgerStep,
    derive,
    state_at,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def steps(*actions: str | tuple[str, int]) -> list[LedgerStep]:
    """Ledger rows one day apart; ("grant", 30) is a grant that expires 30 days later."""
    rows = []
    for day, action in enumerate(actions):
        name, lapse = (action, None) if isinstance(action, str) else action
        at = T0 + timedelta(days=day)
        expires = at + timedelta(days=lapse) if lapse else None
        rows.append(LedgerStep(day + 1, "email", "news", name, at, expires))
    return rows


def final(*actions: str | tuple[str, int]) -> str:
    states = derive(steps(*actions))
    return states[("email", "news")].state if states else NONE


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ((), NONE),
        ((GRANT,), SUBSCRIBED),
        ((GRANT, WITHDRAW), UNSUBSCRIBED),
        ((WITHDRAW, GRANT), SUBSCRIBED),
        ((REQUEST,), PENDING),
        ((REQUEST, CONFIRM), SUBSCRIBED),
        ((REQUEST, EXPIRE), NONE),
        ((REQUEST, EXPIRE, CONFIRM), NONE),  # a confirmation after the request lapsed grants nothing
        ((WITHDRAW, REQUEST, EXPIRE), UNSUBSCRIBED),  # a lapsed request falls back to what was before
        ((REQUEST, WITHDRAW, CONFIRM), UNSUBSCRIBED),  # withdrawn before confirming: stays out
        ((GRANT, REQUEST), SUBSCRIBED),  # signing up again does not demote a subscriber
        ((REQUEST, REQUEST, CONFIRM), SUBSCRIBED),
        ((WITHDRAW, REQUEST, REQUEST, EXPIRE), UNSUBSCRIBED),
        (((GRANT, 30), EXPIRE), NONE),  # implied consent lapses to none
        ((GRANT, EXPIRE), SUBSCRIBED),  # express consent does not expire
        ((CONFIRM,), NONE),
        ((EXPIRE,), NONE),
        (("frequency", GRANT, "pause"), SUBSCRIBED),  # preference rows do not touch state
    ],
)
def test_derived_state(actions: tuple, expected: str) -> None:
    assert final(*actions) == expected


def test_replay_follows_when_people_acted_not_when_rows_were_written() -> None:
    """An old consent imported after a withdrawal does not undo the withdrawal."""
    withdrawal = LedgerStep(1, "email", "news", WITHDRAW, T0 + timedelta(days=10))
    imported_old_grant = LedgerStep(2, "email", "news", GRANT, T0)
    assert derive([withdrawal, imported_old_grant])[("email", "news")].state == UNSUBSCRIBED


def test_topics_and_channels_are_separate() -> None:
    rows = [
        LedgerStep(1, "email", "", WITHDRAW, T0),
        LedgerStep(2, "email", "news", GRANT, T0),
        LedgerStep(3, "sms", "news", GRANT, T0),
    ]
    states = derive(rows)
    assert {k: s.state for k, s in states.items()} == {
        ("email", ""): UNSUBSCRIBED,
        ("email", "news"): SUBSCRIBED,
        ("sms", "news"): SUBSCRIBED,
    }


def test_state_at_treats_lapsed_consent_as_lapsed_before_the_expiry_row() -> None:
    (state,) = derive(steps((GRANT, 30))).values()
    assert state_at(state, T0 + timedelta(days=29)) == SUBSCRIBED
    assert state_at(state, T0 + timedelta(days=31)) == NONE
    (pending,) = derive(steps(WITHDRAW, (REQUEST, 3))).values()
    assert state_at(pending, T0 + timedelta(days=2)) == PENDING
    assert state_at(pending, T0 + timedelta(days=5)) == UNSUBSCRIBED


ACTION = st.sampled_from([GRANT, REQUEST, CONFIRM, WITHDRAW, EXPIRE])


@given(st.lists(ACTION, max_size=12))
def test_nobody_who_withdrew_last_is_subscribed(actions: list[str]) -> None:
    """After a withdrawal, only a later grant or a confirmed later request subscribes again."""
    state = final(*actions)
    if WITHDRAW not in actions:
        return
    after = actions[len(actions) - 1 - actions[::-1].index(WITHDRAW) + 1 :]

    def confirmed_in_time(i: int) -> bool:
        rest = after[i + 1 :]
        return CONFIRM in rest and EXPIRE not in rest[: rest.index(CONFIRM)]

    regranted = GRANT in after or any(a == REQUEST and confirmed_in_time(i) for i, a in enumerate(after))
    if not regranted:
        assert state == UNSUBSCRIBED or state == PENDING


@given(st.lists(ACTION, max_size=12))
def test_subscribed_only_from_a_grant_or_a_confirmed_request(actions: list[str]) -> None:
    if final(*actions) == SUBSCRIBED:
        assert GRANT in actions or (REQUEST in actions and CONFIRM in actions)
