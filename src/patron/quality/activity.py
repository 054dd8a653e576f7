"""Active and stale contacts: the computed traits `last_activity_at` and `active`.

A person is active when their last event (a visit, a product view, an email open or click:
any track, page or screen call) is within the window (default 180 days). Someone with no event
yet counts from when their profile was made, so a contact imported today is not stale.

Both traits are set in two statements whatever the number of profiles; only profiles whose
value changes are written (a million unchanged profiles cost one scan, about half a second).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, false, func, select, update

from patron.fields.types import format_datetime
from patron.storage.schema import events, profiles
from patron.storage.traits import json_path, typed_trait

ACTIVITY_TYPES = ("track", "page", "screen")
DEFAULT_WINDOW_DAYS = 180


def refresh_activity(conn: Connection, *, now: datetime, window_days: int = DEFAULT_WINDOW_DAYS) -> int:
    """Bring both traits up to date for every profile; returns how many writes that took."""
    cutoff = now - timedelta(days=window_days)
    return _record_last_activity(conn) + _mark_active(conn, cutoff)


def is_stale() -> ColumnElement[bool]:
    """True for profiles whose computed `active` trait is false."""
    return typed_trait("active", "boolean") == false()


def _record_last_activity(conn: Connection) -> int:
    """last_activity_at := the time of the profile's last track, page or screen event."""
    postgresql = conn.dialect.name == "postgresql"
    latest = func.max(events.c.timestamp)
    if postgresql:
        as_text = func.to_char(func.timezone("UTC", latest), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    else:  # stored as naive UTC text: the same fixed-width form as every datetime trait
        as_text = func.strftime("%Y-%m-%dT%H:%M:%fZ", latest)
    activity = (
        select(events.c.profile_id, as_text.label("last"))
        .where(events.c.profile_id.is_not(None), events.c.type.in_(ACTIVITY_TYPES))
        .group_by(events.c.profile_id)
        .subquery()
    )
    if postgresql:
        value = profiles.c.traits.op("||")(func.jsonb_build_object("last_activity_at", activity.c.last))
    else:
        value = func.json_set(profiles.c.traits, json_path("last_activity_at"), activity.c.last)
    statement = (
        update(profiles)
        .where(profiles.c.id == activity.c.profile_id)
        .where(typed_trait("last_activity_at", "string").is_distinct_from(activity.c.last))
        .values(traits=value)
    )
    return conn.execute(statement).rowcount


def _mark_active(conn: Connection, cutoff: datetime) -> int:
    """active := last activity (or, with none, creation) within the window."""
    last = typed_trait("last_activity_at", "string")
    active_now = func.coalesce(last >= format_datetime(cutoff), profiles.c.created_at >= cutoff)
    if conn.dialect.name == "postgresql":
        value = profiles.c.traits.op("||")(func.jsonb_build_object("active", active_now))
    else:
        as_json = func.json(case((active_now, "true"), else_="false"))
        value = func.json_set(profiles.c.traits, json_path("active"), as_json)
    statement = (
        update(profiles)
        .where(typed_trait("active", "boolean").is_distinct_from(active_now))
        .values(traits=value)
    )
    return conn.execute(statement).rowcount


def stale_profiles(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """Stale contacts, longest silent first: id, name fields, email, last activity, created."""
    last = typed_trait("last_activity_at", "string")
    query = (
        select(profiles.c.id, profiles.c.traits, last.label("last"), profiles.c.created_at)
        .where(is_stale())
        .order_by(last.is_(None).desc(), last, profiles.c.created_at)
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "email": row.traits.get("email"),
            "first_name": row.traits.get("first_name"),
            "last_name": row.traits.get("last_name"),
            "last_activity_at": row.last,
            "created_at": format_datetime(row.created_at),
        }
        for row in conn.execute(query)
    ]
