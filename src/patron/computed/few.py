"""Computed traits for a few people at once (a write just touched them): the real-time path.

One grouped read of their events gives every computed trait (a conditional aggregate per trait),
the values are compared with what their profiles hold, and each changed profile is written once
with all its changed traits. The whole-population path (refresh.py: one statement per trait) gives
the same values; a test holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB

from patron.computed.filters import event_filters, property_number
from patron.computed.refresh import SEEN_TYPES
from patron.fields.types import format_datetime
from patron.quality.activity import ACTIVITY_TYPES, DEFAULT_WINDOW_DAYS
from patron.storage.bulk import driver_json, in_values
from patron.storage.schema import events, profiles

# Up to this many people take this path; more go through refresh.py's set-based statements.
FEW = 50


def refresh_few(conn: Connection, traits: Sequence[Any], profile_ids: Sequence[str], *, now: datetime) -> int:
    """Bring these traits (ComputedTrait) up to date for these few profiles; returns profiles written."""
    columns: list[Any] = []
    for trait in traits:
        columns.extend(_aggregates(conn, trait, now))
    activity = any(trait.kind == "active" for trait in traits)
    if activity:
        columns.append(func.max(case((events.c.type.in_(ACTIVITY_TYPES), events.c.timestamp))))
    found = {
        row[0]: row[1:]
        for row in conn.execute(
            select(events.c.profile_id, *columns)
            .where(in_values(conn, events.c.profile_id, profile_ids))
            .group_by(events.c.profile_id)
        )
    }
    stored = conn.execute(
        select(profiles.c.id, profiles.c.traits, profiles.c.created_at).where(
            in_values(conn, profiles.c.id, profile_ids)
        )
    ).all()
    cutoff = now - timedelta(days=DEFAULT_WINDOW_DAYS)
    written = 0
    for profile_id, current, created_at in stored:
        values = list(found.get(profile_id, ()))
        changed: dict[str, Any] = {}
        if values:
            position = 0
            for trait in traits:
                if trait.kind == "active":
                    continue
                width = 2 if trait.kind in ("count", "sum") else 1
                value = _value(trait.kind, values[position : position + width])
                position += width
                if value is not None and current.get(trait.name) != value:
                    changed[trait.name] = value
        if activity:
            last = values[-1] if values else None
            if last is not None and current.get("last_activity_at") != format_datetime(last):
                changed["last_activity_at"] = format_datetime(last)
            last_text = changed.get("last_activity_at", current.get("last_activity_at"))
            if isinstance(last_text, str) or isinstance(current.get("active"), bool):
                active = (isinstance(last_text, str) and last_text >= format_datetime(cutoff)) or (
                    not isinstance(last_text, str) and created_at >= cutoff
                )
                if current.get("active") is not active:
                    changed["active"] = active
        if changed:
            merged = _merged(conn, changed)
            conn.execute(update(profiles).where(profiles.c.id == profile_id).values(traits=merged))
            written += 1
    return written


def _aggregates(conn: Connection, trait: Any, now: datetime) -> list[Any]:
    """The conditional aggregate(s) a trait needs over one person's events."""
    if trait.kind == "active":
        return []
    if trait.kind in ("first_seen", "last_seen"):
        matches: Any = events.c.type.in_(SEEN_TYPES)
    else:
        matches = and_(events.c.event == trait.event, *event_filters(conn, trait.where, now=now))
    how_many = func.count(case((matches, 1)))
    if trait.kind == "count":
        return [how_many, how_many]
    if trait.kind == "sum":
        return [func.sum(case((matches, property_number(conn, trait.property, now=now)))), how_many]
    earliest = trait.kind in ("first_seen", "first")
    moment = case((matches, events.c.timestamp))
    return [func.min(moment) if earliest else func.max(moment)]


def _value(kind: str, values: Sequence[Any]) -> Any:
    """The trait's value from its aggregates; None when the person has no such event (no write)."""
    if kind in ("count", "sum"):
        total, how_many = values
        if not how_many:
            return None
        total = total or 0
        if isinstance(total, Decimal | float) and total == int(total):
            return int(total)
        return float(total) if isinstance(total, Decimal) else total
    moment = values[0]
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite hands back the stored text through CASE
        moment = datetime.fromisoformat(moment)
    return format_datetime(moment)


def _merged(conn: Connection, changed: dict[str, Any]) -> Any:
    """profiles.traits with the changed keys set."""
    patch = driver_json(changed)
    if conn.dialect.name == "postgresql":
        return profiles.c.traits.op("||")(cast(literal(patch, String), JSONB))
    return func.json_patch(profiles.c.traits, literal(patch, String))
