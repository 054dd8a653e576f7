"""Active and stale contacts: the computed traits `last_activity_at` and `active`.

A person is active when their last event (a visit, a product view, an email open or click:
any track, page or screen call) is within the window (default 180 days). Someone with no event
yet counts from when their profile was made, so a contact imported today is not stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update

from patron.fields.types import format_datetime
from patron.storage.schema import events, profiles
from patron.storage.traits import json_path

ACTIVITY_TYPES = ("track", "page", "screen")
DEFAULT_WINDOW_DAYS = 180
CHUNK = 5000


def refresh_activity(conn: Connection, *, now: datetime, window_days: int = DEFAULT_WINDOW_DAYS) -> int:
    """Recompute both traits for every profile; returns how many profiles changed."""
    cutoff = format_datetime(now - timedelta(days=window_days))
    last_seen = dict(
        conn.execute(
            select(events.c.profile_id, func.max(events.c.timestamp))
            .where(events.c.profile_id.is_not(None), events.c.type.in_(ACTIVITY_TYPES))
            .group_by(events.c.profile_id)
        ).all()
    )
    active_now, last_now = _trait(conn, "active"), _trait(conn, "last_activity_at")
    changes: list[dict[str, Any]] = []
    changed = 0
    after = ""
    while True:
        rows = conn.execute(
            select(profiles.c.id, profiles.c.created_at, active_now, last_now)
            .where(profiles.c.id > after)
            .order_by(profiles.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        for profile_id, created_at, active, last in rows:
            moment = last_seen.get(profile_id)
            wanted_last = format_datetime(moment) if moment is not None else None
            wanted_active = (wanted_last or format_datetime(created_at)) >= cutoff
            if _as_bool(active) is not wanted_active or last != wanted_last:
                changes.append({"profile_id": profile_id, "active": wanted_active, "last": wanted_last})
        after = rows[-1].id
        if len(changes) >= CHUNK:
            changed += _write(conn, changes)
            changes = []
    return changed + _write(conn, changes)


def _trait(conn: Connection, name: str) -> Any:
    if conn.dialect.name == "postgresql":
        return profiles.c.traits.op("->>")(name)
    return func.json_extract(profiles.c.traits, json_path(name))


def _as_bool(value: Any) -> bool | None:
    if value is None:
        return None
    return value in (1, True, "true")


def _write(conn: Connection, changes: list[dict[str, Any]]) -> int:
    if not changes:
        return 0
    with_last = [c for c in changes if c["last"] is not None]
    without = [c for c in changes if c["last"] is None]
    if conn.dialect.name == "postgresql":
        set_both = text(
            "UPDATE profiles SET traits = traits || jsonb_build_object("
            "'active', CAST(:active AS boolean), 'last_activity_at', CAST(:last AS text)) "
            "WHERE id = :profile_id"
        )
        set_active = text(
            "UPDATE profiles SET traits = (traits - 'last_activity_at') || "
            "jsonb_build_object('active', CAST(:active AS boolean)) WHERE id = :profile_id"
        )
    else:
        set_both = (
            update(profiles)
            .where(profiles.c.id == bindparam("profile_id"))
            .values(
                traits=func.json_set(
                    profiles.c.traits,
                    json_path("active"),
                    func.json(bindparam("active_json")),
                    json_path("last_activity_at"),
                    bindparam("last"),
                )
            )
        )
        set_active = (
            update(profiles)
            .where(profiles.c.id == bindparam("profile_id"))
            .values(
                traits=func.json_set(
                    func.json_remove(profiles.c.traits, json_path("last_activity_at")),
                    json_path("active"),
                    func.json(bindparam("active_json")),
                )
            )
        )
        for change in changes:
            change["active_json"] = "true" if change["active"] else "false"
    if with_last:
        conn.execute(set_both, with_last)
    if without:
        conn.execute(set_active, without)
    return len(changes)


def stale_profiles(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """Stale contacts, longest silent first: id, name fields, email, last activity, created."""
    active, last = _trait(conn, "active"), _trait(conn, "last_activity_at")
    false = "false" if conn.dialect.name == "postgresql" else 0
    query = (
        select(profiles.c.id, profiles.c.traits, last.label("last"), profiles.c.created_at)
        .where(active == false)
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
