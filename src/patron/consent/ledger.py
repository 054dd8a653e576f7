"""The append-only consent ledger and the current state derived from it.

Every change goes through `record`, which appends rows, replays the touched profiles' ledgers
into consent_states, and keeps the suppression list in step with channel-wide unsubscribes.
Nothing here updates or deletes a ledger row.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from patron.consent import suppression
from patron.consent.model import (
    ACTIONS,
    CHANNELS,
    CONSENT_ACTIONS,
    GLOBAL,
    LEGAL_BASES,
    METHODS,
    SUBSCRIBED,
    UNSUBSCRIBED,
    LedgerStep,
    State,
    derive,
)
from patron.consent.topics import topic_keys
from patron.errors import Invalid
from patron.storage.bulk import driver_datetime, driver_json, in_values, insert_many
from patron.storage.schema import consent_ledger, consent_states
from patron.storage.types import utcnow

CHUNK = 2000
MAX_NOTICE_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Change:
    """One consent or preference change, with its proof."""

    channel: str
    action: str
    topic: str = GLOBAL
    legal_basis: str = "consent"
    method: str = "api"
    notice_text: str = ""
    notice_version: str = ""
    source: str = ""
    ip: str | None = None
    user_agent: str | None = None
    actor: str = ""
    occurred_at: datetime | None = None
    expires_at: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """A ledger row as read back."""

    id: int
    profile_id: str
    channel: str
    topic: str
    action: str
    legal_basis: str
    notice_text: str
    notice_version: str
    method: str
    source: str
    ip: str | None
    user_agent: str | None
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    expires_at: datetime | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "id": self.id,
            "channel": self.channel,
            "topic": self.topic or None,
            "action": self.action,
            "legal_basis": self.legal_basis,
            "notice_text": self.notice_text,
            "notice_version": self.notice_version,
            "method": self.method,
            "source": self.source,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "actor": self.actor,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "detail": self.detail,
        }


def check_change(change: Change, known_topics: set[str]) -> None:
    """Invalid, naming the field, when a change breaks a rule."""
    if change.channel not in CHANNELS:
        raise Invalid(
            f"channel must be one of {', '.join(CHANNELS)}, not {change.channel!r}", field="channel"
        )
    if change.action not in ACTIONS:
        raise Invalid(f"action must be one of {', '.join(ACTIONS)}, not {change.action!r}", field="action")
    if change.topic and change.topic not in known_topics:
        raise Invalid(
            f"there is no topic {change.topic!r}; create it first (POST /api/v1/topics)", field="topic"
        )
    if change.legal_basis not in LEGAL_BASES:
        raise Invalid(
            f"legal_basis must be one of {', '.join(LEGAL_BASES)}, not {change.legal_basis!r}",
            field="legal_basis",
        )
    if change.method not in METHODS:
        raise Invalid(f"method must be one of {', '.join(METHODS)}, not {change.method!r}", field="method")
    if len(change.notice_text) > MAX_NOTICE_CHARS:
        raise Invalid(f"notice_text is longer than {MAX_NOTICE_CHARS:,} characters", field="notice_text")
    if len(change.notice_version) > 64:
        raise Invalid("notice_version is longer than 64 characters", field="notice_version")
    if change.ip is not None:
        try:
            ipaddress.ip_address(change.ip)
        except ValueError:
            raise Invalid(f"ip {change.ip!r} is not an IPv4 or IPv6 address", field="ip") from None


def record(conn: Connection, profile_id: str, changes: Sequence[Change]) -> list[int]:
    """Append changes for one profile and refresh its state; returns the new rows' ids."""
    return _append(conn, [(profile_id, change) for change in changes], with_ids=True)


def record_many(conn: Connection, items: Sequence[tuple[str, Change]]) -> int:
    """Append changes for many profiles (one executemany per chunk), then refresh their state;
    returns how many rows were written."""
    _append(conn, items, with_ids=False)
    return len(items)


def _append(conn: Connection, items: Sequence[tuple[str, Change]], *, with_ids: bool) -> list[int]:
    if not items:
        return []
    known = topic_keys(conn)
    for _, change in items:
        check_change(change, known)
    now = utcnow()
    if with_ids:  # RETURNING in order makes SQLite insert row by row: only for a person's few rows
        returning = insert(consent_ledger).returning(consent_ledger.c.id, sort_by_parameter_order=True)
        ids = list(conn.execute(returning, [_row(pid, c, now) for pid, c in items]).scalars())
    else:
        ids = []
        at = partial(driver_datetime, conn)
        for start in range(0, len(items), CHUNK):
            rows = [
                tuple(
                    at(v) if isinstance(v, datetime) else driver_json(v) if isinstance(v, dict) else v
                    for v in _row(pid, c, now).values()
                )
                for pid, c in items[start : start + CHUNK]
            ]
            insert_many(conn, consent_ledger, _LEDGER_COLUMNS, rows)
    touched = list(dict.fromkeys(pid for pid, c in items if c.action in CONSENT_ACTIONS))
    refresh_states(conn, touched)
    return ids


_LEDGER_COLUMNS = (
    "profile_id", "channel", "topic", "action", "legal_basis", "notice_text", "notice_version", "method",
    "source", "ip", "user_agent", "actor", "occurred_at", "recorded_at", "expires_at", "detail",
)  # fmt: skip
_STATE_COLUMNS = (
    "profile_id",
    "channel",
    "topic",
    "state",
    "since",
    "expires_at",
    "legal_basis",
    "ledger_id",
)


def _row(profile_id: str, change: Change, now: datetime) -> dict[str, Any]:
    """A ledger row's values, in _LEDGER_COLUMNS order."""
    return {
        "profile_id": profile_id,
        "channel": change.channel,
        "topic": change.topic,
        "action": change.action,
        "legal_basis": change.legal_basis,
        "notice_text": change.notice_text,
        "notice_version": change.notice_version,
        "method": change.method,
        "source": change.source,
        "ip": change.ip,
        "user_agent": (change.user_agent or None) and change.user_agent[:1000],
        "actor": change.actor,
        "occurred_at": change.occurred_at or now,
        "recorded_at": now,
        "expires_at": change.expires_at,
        "detail": dict(change.detail),
    }


def refresh_states(conn: Connection, profile_ids: Sequence[str]) -> None:
    """Replay the ledgers of `profile_ids` into consent_states and align the suppression list
    with their channel-wide state."""
    at = partial(driver_datetime, conn)
    for start in range(0, len(profile_ids), CHUNK):
        chunk = list(profile_ids[start : start + CHUNK])
        derived = derive_for(conn, chunk)
        before = _global_states(conn, chunk)
        conn.execute(delete(consent_states).where(in_values(conn, consent_states.c.profile_id, chunk)))
        rows = [
            (
                pid,
                channel,
                topic,
                s.state,
                at(s.since),
                s.expires_at and at(s.expires_at),
                s.legal_basis,
                s.ledger_id,
            )
            for pid, states in derived.items()
            for (channel, topic), s in states.items()
        ]
        insert_many(conn, consent_states, _STATE_COLUMNS, rows)
        _align_suppressions(conn, before, derived)
    from patron import derive  # derive reads consent: imported here, when both are loaded

    derive.react(conn, profile_ids)


def derive_for(conn: Connection, profile_ids: Sequence[str]) -> dict[str, dict[tuple[str, str], State]]:
    """The states each profile's ledger gives, computed afresh."""
    steps: dict[str, list[LedgerStep]] = defaultdict(list)
    query = select(
        consent_ledger.c.profile_id,
        consent_ledger.c.id,
        consent_ledger.c.channel,
        consent_ledger.c.topic,
        consent_ledger.c.action,
        consent_ledger.c.occurred_at,
        consent_ledger.c.expires_at,
        consent_ledger.c.legal_basis,
    ).where(
        in_values(conn, consent_ledger.c.profile_id, profile_ids),
        consent_ledger.c.action.in_(CONSENT_ACTIONS),
    )
    for pid, *rest in conn.execute(query):
        steps[pid].append(LedgerStep(*rest))
    return {pid: derive(entries) for pid, entries in steps.items()}


def _global_states(conn: Connection, profile_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    query = select(consent_states.c.profile_id, consent_states.c.channel, consent_states.c.state).where(
        in_values(conn, consent_states.c.profile_id, profile_ids), consent_states.c.topic == GLOBAL
    )
    return {(pid, channel): state for pid, channel, state in conn.execute(query)}


def _align_suppressions(
    conn: Connection,
    before: Mapping[tuple[str, str], str],
    after: Mapping[str, Mapping[tuple[str, str], State]],
) -> None:
    """A channel-wide unsubscribe puts the person's addresses on the suppression list; a
    channel-wide subscription given after the address was suppressed lifts that unsubscribe
    (never a bounce or complaint; an older consent imported later lifts nothing)."""
    added: dict[str, list[str]] = defaultdict(list)
    granted: dict[str, dict[str, datetime]] = defaultdict(dict)
    for pid, states in after.items():
        for (channel, topic), s in states.items():
            if topic != GLOBAL or channel not in suppression.ADDRESS_KIND:
                continue
            was = before.get((pid, channel))
            if s.state == UNSUBSCRIBED and was != UNSUBSCRIBED:
                added[channel].append(pid)
            elif s.state == SUBSCRIBED and was != SUBSCRIBED:
                granted[channel][pid] = s.since
    for channel, pids in added.items():
        hashes = suppression.profile_address_hashes(conn, pids, channel)
        suppression.suppress_hashes(
            conn, channel, [h for pid in pids for h in hashes[pid]], "unsubscribe",
            note="unsubscribed from all", actor="consent",
        )  # fmt: skip
    for channel, since in granted.items():
        hashes = suppression.profile_address_hashes(conn, list(since), channel)
        for pid, moment in since.items():
            suppression.lift(conn, channel, hashes[pid], before=moment)


def ledger_of(conn: Connection, profile_id: str, *, limit: int | None = None) -> list[LedgerRow]:
    """A profile's ledger, newest first."""
    query = (
        select(consent_ledger)
        .where(consent_ledger.c.profile_id == profile_id)
        .order_by(consent_ledger.c.occurred_at.desc(), consent_ledger.c.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [LedgerRow(**row._mapping) for row in conn.execute(query)]


def ledger_row(conn: Connection, row_id: int) -> LedgerRow | None:
    """One ledger row by id."""
    row = conn.execute(select(consent_ledger).where(consent_ledger.c.id == row_id)).first()
    return LedgerRow(**row._mapping) if row else None


def states_of(conn: Connection, profile_ids: Iterable[str]) -> dict[str, dict[tuple[str, str], Any]]:
    """The stored current states: profile -> (channel, topic) -> row."""
    found: dict[str, dict[tuple[str, str], Any]] = defaultdict(dict)
    query = select(consent_states).where(consent_states.c.profile_id.in_(list(profile_ids)))
    for row in conn.execute(query):
        found[row.profile_id][(row.channel, row.topic)] = row
    return found
