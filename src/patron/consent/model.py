"""Consent vocabulary and the pure rule that turns a ledger into current state.

The ledger is replayed in the order people acted (occurred_at, then id), so an old consent
brought in by a later import cannot undo a withdrawal made since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

CHANNELS = ("email", "sms", "push", "webhook")
GLOBAL = ""  # the topic of a channel-wide state ("unsubscribe from all")

SUBSCRIBED, UNSUBSCRIBED, PENDING, NONE = "subscribed", "unsubscribed", "pending", "none"
STATES = (SUBSCRIBED, UNSUBSCRIBED, PENDING, NONE)

GRANT, REQUEST, CONFIRM, WITHDRAW, EXPIRE = "grant", "request", "confirm", "withdraw", "expire"
CONSENT_ACTIONS = (GRANT, REQUEST, CONFIRM, WITHDRAW, EXPIRE)
FREQUENCY, PAUSE = "frequency", "pause"
ACTIONS = (*CONSENT_ACTIONS, FREQUENCY, PAUSE)

LEGAL_BASES = (
    "consent",
    "implied",  # CASL implied consent: expires
    "legitimate_interest",
    "contract",
    "legal_obligation",
    "vital_interest",
    "public_task",
)
METHODS = (
    "form",
    "import",
    "api",
    "preference_centre",
    "one_click",
    "unsubscribe_page",
    "admin",
    "merge",
    "system",
)
AS_IT_HAPPENS = "as_it_happens"
FREQUENCIES = (AS_IT_HAPPENS, "daily", "weekly", "monthly")
# How many messages a period each frequency allows, most first: a move right is an opt-down.
FREQUENCY_RANK = {name: rank for rank, name in enumerate(FREQUENCIES)}

# Consent models per region (patron.consent.regions): express opt-in with proof; opt-out;
# express or implied consent that expires (Canada).
EXPRESS, OPT_OUT, IMPLIED = "express", "opt_out", "implied"
MODELS = (EXPRESS, OPT_OUT, IMPLIED)
OPT_IN_POLICY, OPT_OUT_POLICY = "opt_in", "opt_out"
TOPIC_POLICIES = (OPT_IN_POLICY, OPT_OUT_POLICY)


@dataclass(frozen=True, slots=True)
class LedgerStep:
    """The part of a ledger row that decides state."""

    id: int
    channel: str
    topic: str
    action: str
    occurred_at: datetime
    expires_at: datetime | None = None
    legal_basis: str = "consent"


@dataclass(frozen=True, slots=True)
class State:
    """A (channel, topic)'s current state and the row that set it."""

    state: str
    since: datetime
    ledger_id: int
    expires_at: datetime | None = None
    legal_basis: str = ""
    # While pending: the state a lapsed request falls back to.
    before_request: str = NONE


def step(current: State | None, entry: LedgerStep) -> State | None:
    """The state after one ledger row (None: never asked)."""
    was = current.state if current else NONE
    if entry.action == GRANT:
        return State(SUBSCRIBED, entry.occurred_at, entry.id, entry.expires_at, entry.legal_basis)
    if entry.action == REQUEST:
        if was == SUBSCRIBED and current is not None and current.expires_at is None:
            return current  # already subscribed for good: a repeated sign-up changes nothing
        before = current.before_request if current and was == PENDING else was
        return State(PENDING, entry.occurred_at, entry.id, entry.expires_at, entry.legal_basis, before)
    if entry.action == CONFIRM:
        if was != PENDING or current is None:
            return current  # a confirmation of a lapsed or withdrawn request grants nothing
        return State(SUBSCRIBED, entry.occurred_at, entry.id, None, current.legal_basis)
    if entry.action == WITHDRAW:
        return State(UNSUBSCRIBED, entry.occurred_at, entry.id, None, entry.legal_basis)
    if entry.action == EXPIRE and current is not None:
        if was == PENDING:
            return replace(
                current,
                state=current.before_request,
                since=entry.occurred_at,
                ledger_id=entry.id,
                expires_at=None,
            )
        if was == SUBSCRIBED and current.expires_at is not None:
            return State(NONE, entry.occurred_at, entry.id, None, current.legal_basis)
    return current


def derive(entries: Iterable[LedgerStep]) -> dict[tuple[str, str], State]:
    """Replay ledger rows in the order people acted: (channel, topic) -> current state."""
    states: dict[tuple[str, str], State] = {}
    for entry in sorted(entries, key=lambda e: (e.occurred_at, e.id)):
        if entry.action not in CONSENT_ACTIONS:
            continue
        key = (entry.channel, entry.topic)
        after = step(states.get(key), entry)
        if after is not None:
            states[key] = after
    return states


def state_at(state: State | None, now: datetime) -> str:
    """The state as it holds at `now`: a lapsed implied consent or request counts as lapsed
    even before the expiry job has written its row."""
    if state is None:
        return NONE
    if state.expires_at is not None and state.expires_at <= now:
        return state.before_request if state.state == PENDING else NONE
    return state.state
