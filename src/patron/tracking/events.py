"""Reading what was tracked: a profile's timeline, the rejected-events log, counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from patron.errors import Invalid, NotFound
from patron.fields.types import format_datetime
from patron.storage.schema import event_intake, events, profiles, rejected_events

MAX_PAGE = 500


def timeline(
    conn: Connection, profile_id: str, *, before: int | None = None, limit: int = 50, event: str | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """A profile's events, newest first, and the cursor (an event id) for the next page."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if conn.execute(select(profiles.c.id).where(profiles.c.id == profile_id)).first() is None:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
    query = (
        select(events)
        .where(events.c.profile_id == profile_id)
        .order_by(events.c.timestamp.desc(), events.c.id.desc())
        .limit(limit + 1)
    )
    if event:
        query = query.where(events.c.event == event)
    if before is not None:
        query = query.where(events.c.id < before)
    rows = conn.execute(query).all()
    items = [_public(row) for row in rows[:limit]]
    return items, (rows[limit - 1].id if len(rows) > limit else None)


def count_events(conn: Connection) -> int:
    """Exact number of stored events."""
    return conn.execute(select(func.count()).select_from(events)).scalar_one()


def intake_backlog(conn: Connection) -> int:
    """Accepted messages the event processor has not turned into events yet."""
    return conn.execute(select(func.count()).select_from(event_intake)).scalar_one()


def rejected(
    conn: Connection, *, before: int | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """The rejected-events log, newest first."""
    query = select(rejected_events).order_by(rejected_events.c.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(rejected_events.c.id < before)
    rows = conn.execute(query).all()
    items = [
        {
            "id": r.id, "source": r.source, "received_at": format_datetime(r.received_at),
            "message_id": r.message_id, "field": r.field, "reason": r.reason, "payload": r.payload,
        }
        for r in rows[:limit]
    ]  # fmt: skip
    return items, (rows[limit - 1].id if len(rows) > limit else None)


def count_rejected(conn: Connection) -> int:
    """How many messages were rejected."""
    return conn.execute(select(func.count()).select_from(rejected_events)).scalar_one()


def _public(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "type": row.type, "event": row.event, "properties": row.properties,
        "context": row.context, "timestamp": format_datetime(row.timestamp), "message_id": row.message_id,
        "source": row.source, "user_id": row.user_id, "anonymous_id": row.anonymous_id,
        "group_id": row.group_id,
    }  # fmt: skip


def top_events(conn: Connection, *, limit: int = 10) -> list[tuple[str, int]]:
    """(event name, how many) for the most frequent track events."""
    count = func.count().label("n")
    query = (
        select(events.c.event, count)
        .where(events.c.type == "track")
        .group_by(events.c.event)
        .order_by(count.desc(), events.c.event)
        .limit(limit)
    )
    return [(name, n) for name, n in conn.execute(query)]
