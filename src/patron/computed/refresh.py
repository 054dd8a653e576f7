"""Bringing computed traits up to date: one set-based statement per trait, all profiles or some.

Each statement aggregates the events it needs in one grouped scan, joins the result to the
profiles concerned and rewrites only those whose stored value differs (an unchanged profile
costs a comparison, not a write).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    String,
    Subquery,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)

from patron.computed.filters import event_filters, property_number
from patron.fields.types import format_datetime
from patron.quality.activity import ACTIVITY_TYPES, DEFAULT_WINDOW_DAYS, refresh_activity
from patron.storage.bulk import in_values
from patron.storage.schema import events, profiles
from patron.storage.traits import json_path

# The calls people make; Patron's own "segment" and "score" events say nothing about being seen.
SEEN_TYPES = ("identify", "track", "page", "screen", "group", "alias")


def refresh_trait(
    conn: Connection,
    trait: Any,
    profile_ids: Sequence[str] | None,
    *,
    now: datetime,
) -> int:
    """Recompute one computed trait (a ComputedTrait) for every profile or only `profile_ids`;
    returns how many profiles were written."""
    if trait.kind == "active":
        return _refresh_activity(conn, profile_ids, now=now)
    scope = [events.c.profile_id.is_not(None)]
    if profile_ids is not None:
        scope.append(in_values(conn, events.c.profile_id, profile_ids))
    if trait.kind in ("first_seen", "last_seen"):
        scope.append(events.c.type.in_(SEEN_TYPES))
    else:
        scope.append(events.c.event == trait.event)
        scope.extend(event_filters(conn, trait.where, now=now))
    if trait.kind in ("count", "sum"):
        total = (
            func.count()
            if trait.kind == "count"
            else func.sum(property_number(conn, trait.property, now=now))
        )
        grouped = (
            select(events.c.profile_id, total.label("total")).where(*scope).group_by(events.c.profile_id)
        )
        return _write_numbers(conn, trait.name, grouped.subquery(), profile_ids)
    earliest = trait.kind in ("first_seen", "first")
    moment = func.min(events.c.timestamp) if earliest else func.max(events.c.timestamp)
    grouped = select(events.c.profile_id.label("pid"), _as_trait_text(conn, moment).label("value"))
    return _write(conn, trait.name, grouped.where(*scope).group_by(events.c.profile_id).subquery(), "string")


def _write_numbers(conn: Connection, name: str, grouped: Subquery, profile_ids: Sequence[str] | None) -> int:
    """Counts and sums of the profiles with such events; a profile without any has no value yet
    (a segment asks `count(event ...) = 0` for them), so writes that touch no events add nothing."""
    values = select(grouped.c.profile_id.label("pid"), func.coalesce(grouped.c.total, 0).label("value"))
    return _write(conn, name, values.subquery(), "number")


def _write(conn: Connection, name: str, values: Subquery, kind: str) -> int:
    """SET traits.name = values.value for the profiles in `values` whose stored value differs."""
    new = (
        cast(values.c.value, Float)
        if kind == "number" and conn.dialect.name == "postgresql"
        else values.c.value
    )
    statement = (
        update(profiles)
        .where(profiles.c.id == values.c.pid, stored(conn, name, kind).is_distinct_from(new))
        .values(traits=with_trait(conn, name, new))
    )
    return conn.execute(statement).rowcount


def stored(conn: Connection, name: str, kind: str) -> ColumnElement[Any]:
    """The trait as stored, where it is a JSON `kind` (string | number | boolean), else NULL."""
    if conn.dialect.name == "postgresql":
        element = profiles.c.traits.op("->")(literal(name, String))
        raw = profiles.c.traits.op("->>")(literal(name, String))
        typed = {"number": cast(raw, Float), "string": raw, "boolean": raw == "true"}[kind]
        return case((func.jsonb_typeof(element) == kind, typed))
    names = {"number": ("integer", "real"), "string": ("text",), "boolean": ("true", "false")}[kind]
    return case((func.json_type(profiles.c.traits, json_path(name)).in_(names),
                 func.json_extract(profiles.c.traits, json_path(name))))  # fmt: skip


def with_trait(
    conn: Connection, name: str, value: ColumnElement[Any], *, boolean: bool = False
) -> ColumnElement[Any]:
    """profiles.traits with `name` set to the SQL `value` (text -> JSON string, number -> number)."""
    if conn.dialect.name == "postgresql":
        return profiles.c.traits.op("||")(func.jsonb_build_object(literal(name, String), value))
    if boolean:  # SQLite has no boolean: 1/0 would be stored as a JSON number
        value = func.json(case((value, "true"), else_="false"))
    return func.json_set(profiles.c.traits, json_path(name), value)


def _as_trait_text(conn: Connection, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamp column as the fixed-width text every datetime trait holds."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    return func.strftime("%Y-%m-%dT%H:%M:%fZ", moment)  # stored as naive UTC text


def _refresh_activity(conn: Connection, profile_ids: Sequence[str] | None, *, now: datetime) -> int:
    """`last_activity_at` and `active` (quality.activity's pair), for everyone or some profiles."""
    if profile_ids is None:
        return refresh_activity(conn, now=now)
    latest = (
        select(
            events.c.profile_id.label("pid"),
            _as_trait_text(conn, func.max(events.c.timestamp)).label("value"),
        )
        .where(events.c.type.in_(ACTIVITY_TYPES), in_values(conn, events.c.profile_id, profile_ids))
        .group_by(events.c.profile_id)
        .subquery()
    )
    written = _write(conn, "last_activity_at", latest, "string")
    cutoff = now - timedelta(days=DEFAULT_WINDOW_DAYS)
    # The same rule as quality.activity: no activity yet counts from when the profile was made.
    active_now = func.coalesce(
        stored(conn, "last_activity_at", "string") >= format_datetime(cutoff), profiles.c.created_at >= cutoff
    )
    # Profiles with no activity keep what the hourly refresh gave them (or nothing, until it runs).
    has_activity = or_(
        stored(conn, "last_activity_at", "string").is_not(None),
        stored(conn, "active", "boolean").is_not(None),
    )
    statement = (
        update(profiles)
        .where(
            in_values(conn, profiles.c.id, profile_ids),
            has_activity,
            stored(conn, "active", "boolean").is_distinct_from(active_now),
        )
        .values(traits=with_trait(conn, "active", active_now, boolean=True))
    )
    return written + conn.execute(statement).rowcount
