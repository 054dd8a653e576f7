"""Accepting tracking messages: validate each, check the plan, append the good ones durably.

This is the request path, so it does the least that keeps every promise: `prepare` checks and
serialises without the database, then `store` appends a batch's accepted messages to
`event_intake` in one statement (duplicates by messageId skipped), and the event processor
(worker) builds profiles and timelines from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert

from patron.identity.rules import IdentityRules
from patron.storage.bulk import driver_datetime, driver_json, insert_many
from patron.storage.schema import event_intake, rejected_events
from patron.tracking.dictionary import ViolationTally, discover_events, record_violations
from patron.tracking.messages import MessageError, normalise_message
from patron.tracking.plan import PlanChecker, Violation

MODES = ("allow", "flag", "block")
INTAKE_COLUMNS = ("source", "message_id", "received_at", "message")
# Rejected messages are kept for people to read, not replayed: a few KB tells what was wrong.
KEPT_PAYLOAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Source:
    """Where messages come from (a write key), and what it does with events off the plan."""

    name: str
    mode: str = "flag"
    key_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """One message not stored, and why."""

    index: int
    message_id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form in ingest responses."""
        return {"index": self.index, "messageId": self.message_id, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class IngestResult:
    """How many messages were accepted, and the rejected ones."""

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(slots=True)
class PreparedIngest:
    """A request's messages checked and serialised, ready to store in a short transaction."""

    source: Source
    received_at: datetime
    raws: Sequence[Any]
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (source, message id, message JSON)
    rejected: list[Rejection] = field(default_factory=list)
    tally: ViolationTally = field(default_factory=ViolationTally)
    unplanned: set[str] = field(default_factory=set)


def prepare(
    raws: Sequence[Any],
    *,
    source: Source,
    received_at: datetime,
    rules: IdentityRules,
    plan: PlanChecker,
    sent_at: datetime | None = None,
    type_hint: str | None = None,
) -> PreparedIngest:
    """Validate, normalise and check `raws` against the plan; no database needed."""
    prepared = PreparedIngest(source, received_at, raws)
    checking = source.mode != "allow"
    for index, raw in enumerate(raws):
        try:
            accepted = normalise_message(
                raw, type_hint=type_hint, received_at=received_at, sent_at=sent_at, rules=rules
            )
        except MessageError as exc:
            prepared.rejected.append(Rejection(index, _message_id(raw), exc.field, exc.reason))
            continue
        message = accepted.message
        if message["type"] == "track" and not plan.is_planned(message["event"]):
            prepared.unplanned.add(message["event"])
        if checking:
            violations = _check(plan, message)
            if violations and source.mode == "block":
                reason = "breaks the tracking plan: " + "; ".join(v.message for v in violations)
                field_name = violations[0].detail or "event"
                prepared.rejected.append(Rejection(index, accepted.message_id, field_name, reason))
                continue
            for violation in violations:
                prepared.tally.add(violation, message)
        prepared.rows.append((source.name, accepted.message_id, driver_json(message)))
    return prepared


def store(conn: Connection, prepared: PreparedIngest) -> IngestResult:
    """Append the accepted messages (duplicates by messageId skipped) and record the rest."""
    at = driver_datetime(conn, prepared.received_at)
    rows = [(source, message_id, at, message) for source, message_id, message in prepared.rows]
    insert_many(conn, event_intake, INTAKE_COLUMNS, rows, ignore_conflicts_on=("source", "message_id"))
    if prepared.rejected:
        record_rejections(conn, prepared.source, prepared.rejected, prepared.raws, prepared.received_at)
    if prepared.tally:
        record_violations(conn, prepared.source.name, prepared.tally, prepared.received_at)
    if prepared.unplanned:
        discover_events(conn, prepared.unplanned, prepared.received_at)
    return IngestResult(len(rows), prepared.rejected)


def record_rejections(
    conn: Connection,
    source: Source,
    rejected: Sequence[Rejection],
    raws: Sequence[Any],
    received_at: datetime,
) -> None:
    """Keep rejected messages, with the reason, for the admin's rejected-events log."""
    rows = [
        {
            "source": source.name,
            "received_at": received_at,
            "message_id": (rejection.message_id or "")[:128] or None,
            "field": rejection.field[:200],
            "reason": rejection.reason,
            "payload": _payload(raws[rejection.index]),
        }
        for rejection in rejected
    ]
    conn.execute(insert(rejected_events), rows)


def _check(plan: PlanChecker, message: dict[str, Any]) -> list[Violation]:
    kind = message["type"]
    if kind == "track":
        return plan.check_track(message["event"], message["properties"])
    if kind in ("page", "screen"):
        return plan.check_properties(kind, message["properties"])
    if kind in ("identify", "group"):
        return plan.check_traits(kind, message["traits"])
    return []


def _message_id(raw: Any) -> str | None:
    value = raw.get("messageId") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _payload(raw: Any) -> str:
    try:
        text = orjson.dumps(raw).decode()
    except TypeError:
        text = repr(raw)
    return text if len(text) <= KEPT_PAYLOAD_BYTES else text[:KEPT_PAYLOAD_BYTES] + "…"
