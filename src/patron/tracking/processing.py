"""The event processor: intake -> profiles, timelines and accounts, in arrival order.

One worker at a time holds the processor's lease, so identify-then-track sequences resolve
in the order they arrived. Each run takes a chunk of the intake in one transaction: the
records go through the same upsert as imports (identity rules, stitching anonymous profiles
into known ones), then the events are written with their profile and the chunk is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from patron import derive
from patron.fields.definitions import field_types
from patron.identity.normalise import Identity
from patron.identity.rules import IdentityRules
from patron.profiles.record import DROPPED, PreparedRecord, prepare_record
from patron.profiles.writes import find_owners, record_candidates, upsert_records
from patron.quality.entry import EntryRules, entry_rules
from patron.storage.bulk import driver_datetime, driver_json, insert_many
from patron.storage.schema import event_intake, events
from patron.storage.types import utcnow
from patron.tracking.accounts import link_accounts
from patron.tracking.dictionary import ViolationTally, record_violations
from patron.tracking.plan import Violation

LEASE = "event-processor"
EVENT_COLUMNS = (
    "profile_id",
    "source",
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "group_id",
    "previous_id",
    "properties",
    "context",
    "timestamp",
    "original_timestamp",
    "sent_at",
    "received_at",
)


@dataclass(frozen=True, slots=True)
class Processed:
    """What one run did."""

    events: int
    profiles_created: int
    merged: int


def process_chunk(
    conn: Connection, *, rules: IdentityRules, default_region: str | None, limit: int = 2000
) -> Processed:
    """Turn up to `limit` intake messages into events on profiles, oldest first."""
    query = (
        select(event_intake.c.id, event_intake.c.source, event_intake.c.message)
        .order_by(event_intake.c.id)
        .limit(limit)
    )
    rows = conn.execute(query).all()
    if not rows:
        return Processed(0, 0, 0)
    if conn.dialect.name == "postgresql":
        # This transaction's commit need not wait for the disk: should a crash lose it, the
        # intake rows it deletes are still there and are processed again, and events are
        # idempotent by (source, message_id). Saves a flush on every real-time update.
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    types = field_types(conn)
    entries: dict[str, EntryRules] = {}
    tallies: dict[str, ViolationTally] = {}
    known_user_ids = _known_user_ids(conn, [m["previousId"] for _, _, m in rows if m["type"] == "alias"])
    records: list[PreparedRecord] = []
    placed: list[int] = []  # index into records for each row, or -1 for no profile
    for _, source, message in rows:
        tally = tallies.setdefault(source, ViolationTally())
        entry = entries.get(source) or entries.setdefault(source, entry_rules(conn, source))
        record = _record(message, source, types, default_region, rules, tally, known_user_ids, entry)
        placed.append(len(records) if record is not None else -1)
        if record is not None:
            records.append(record)
    outcome = upsert_records(conn, records, rules=rules)
    profile_of = [outcome.records[i].profile_id if i >= 0 else None for i in placed]
    now = utcnow()
    insert_many(
        conn,
        events,
        EVENT_COLUMNS,
        [
            _event_row(conn, source, message, profile_id)
            for (_, source, message), profile_id in zip(rows, profile_of, strict=True)
        ],
        ignore_conflicts_on=("source", "message_id"),
    )
    groups = [
        (message, profile_id)
        for (_, _, message), profile_id in zip(rows, profile_of, strict=True)
        if message["type"] == "group" and profile_id
    ]
    link_accounts(conn, groups, now)
    _alias_candidates(conn, [message for _, _, message in rows if message["type"] == "alias"])
    for source, tally in tallies.items():
        if tally:
            record_violations(conn, source, tally, now)
    conn.execute(delete(event_intake).where(event_intake.c.id <= rows[-1].id))
    derive.react(conn, profile_of)
    return Processed(len(rows), outcome.created, outcome.merged)


def _record(
    message: dict[str, Any],
    source: str,
    types: dict[str, str],
    default_region: str | None,
    rules: IdentityRules,
    tally: ViolationTally,
    known_user_ids: set[str],
    entry: EntryRules,
) -> PreparedRecord | None:
    ids: list[tuple[str, Any]] = []
    if "userId" in message:
        ids.append(("user_id", message["userId"]))
    if "anonymousId" in message:
        ids.append(("anonymous_id", message["anonymousId"]))
    if message["type"] == "alias" and message["previousId"] not in known_user_ids:
        # previousId is usually the anonymous id the person had before signing up.
        ids.append(("anonymous_id", message["previousId"]))
    if message["type"] == "identify":
        traits = message.get("traits", {})
    else:
        # Any call may say who it is about in context.traits (email tools do): match on it.
        context_traits = message.get("context", {}).get("traits")
        traits = (
            {k: context_traits[k] for k in ("email", "phone") if k in context_traits}
            if isinstance(context_traits, dict)
            else {}
        )
    record = prepare_record(
        traits,
        ids,
        source=source,
        field_types=types,
        default_region=default_region,
        rules=rules,
        entry=entry,
    )
    for problem in record.problems:
        if problem.effect == DROPPED:
            name = problem.field.removeprefix("traits.")
            tally.add(
                Violation("wrong_type", "identify", name, f"identify: trait {name!r}: {problem.reason}"),
                message,
            )
    return record if record.has_identity else None


def _event_row(
    conn: Connection, source: str, message: dict[str, Any], profile_id: str | None
) -> tuple[Any, ...]:
    kind = message["type"]
    payload = message.get("properties") if kind in ("track", "page", "screen") else message.get("traits", {})
    return (
        profile_id,
        source,
        message["messageId"],
        kind,
        message.get("event") or message.get("name"),
        message.get("userId"),
        message.get("anonymousId"),
        message.get("groupId"),
        message.get("previousId"),
        driver_json(payload or {}),
        driver_json(message.get("context") or {}),
        _time(conn, message["timestamp"]),
        _time(conn, message.get("originalTimestamp")),
        _time(conn, message.get("sentAt")),
        _time(conn, message["receivedAt"]),
    )


def _time(conn: Connection, text: str | None) -> Any:
    if text is None:
        return None
    return driver_datetime(conn, datetime.fromisoformat(text.replace("Z", "+00:00")))


def _known_user_ids(conn: Connection, values: list[str]) -> set[str]:
    if not values:
        return set()
    return {identity.value for identity in find_owners(conn, {Identity("user_id", v) for v in values})}


def _alias_candidates(conn: Connection, aliases: list[dict[str, Any]]) -> None:
    """An alias between two user ids would break the one-user-id rule: leave it for review."""
    if not aliases:
        return
    wanted = {Identity("user_id", m[key]) for m in aliases for key in ("userId", "previousId")}
    owners = find_owners(conn, wanted)
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for message in aliases:
        one = owners.get(Identity("user_id", message["previousId"]))
        other = owners.get(Identity("user_id", message["userId"]))
        if one and other and one != other:
            a, b = sorted((one, other))
            pairs[(a, b)] = {
                "reason": "an alias call links two user ids; merging would break the one-user-id rule",
                "identities": [
                    {"kind": "user_id", "value": message["previousId"]},
                    {"kind": "user_id", "value": message["userId"]},
                ],
            }
    if pairs:
        record_candidates(conn, pairs)
