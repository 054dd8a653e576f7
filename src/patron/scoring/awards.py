"""Turning rules into score changes: one INSERT ... SELECT per rule, for some profiles or all.

Event rules award each not-yet-awarded matching event (NOT EXISTS on the rule and event), ranked
per profile with a window function so `once` and `max_awards` hold however many events arrive
together. Trait rules compare what a profile holds from the rule (the sum of its changes) with
what it should hold now (the points while the condition matches, else 0) and record the
difference: an award when the condition starts to hold, a take-back when it stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    String,
    case,
    exists,
    func,
    insert,
    literal,
    select,
)

from patron.computed.filters import event_filters
from patron.scoring.rules import ScoringRule
from patron.segments.compile import matching
from patron.storage.bulk import in_values
from patron.storage.schema import events, profiles, score_changes
from patron.storage.types import UTCDateTime

CHANGE_COLUMNS = ("profile_id", "rule_id", "event_id", "points", "reason", "occurred_at", "recorded_at")


def award_events(
    conn: Connection, rule: ScoringRule, profile_ids: Sequence[str] | None, *, now: datetime
) -> int:
    """Award an event rule's points for matching events not yet awarded; returns how many awards."""
    if not rule.is_active:
        return 0
    awarded = score_changes.alias("awarded")
    scope = [
        events.c.event == rule.event,
        events.c.profile_id.is_not(None),
        *event_filters(conn, rule.where, now=now),
        ~exists(select(literal(1)).where(awarded.c.rule_id == rule.id, awarded.c.event_id == events.c.id)),
    ]
    if profile_ids is not None:
        scope.append(in_values(conn, events.c.profile_id, profile_ids))
    order = func.row_number().over(
        partition_by=events.c.profile_id, order_by=(events.c.timestamp, events.c.id)
    )
    fresh = (
        select(events.c.id, events.c.profile_id, events.c.timestamp, order.label("n"))
        .where(*scope)
        .subquery()
    )
    chosen = select(
        fresh.c.profile_id,
        literal(rule.id, Integer),
        fresh.c.id,
        literal(rule.points, Float),
        literal(f"{rule.name}: {_signed(rule.points)} ({rule.describe()})", String),
        fresh.c.timestamp,
        literal(now, UTCDateTime),
    )
    if rule.cap is not None:
        earlier = (
            select(func.count())
            .where(
                awarded.c.rule_id == rule.id,
                awarded.c.profile_id == fresh.c.profile_id,
                awarded.c.event_id.is_not(None),
            )
            .scalar_subquery()
        )
        chosen = chosen.where(fresh.c.n + earlier <= rule.cap)
    return conn.execute(insert(score_changes).from_select(list(CHANGE_COLUMNS), chosen)).rowcount


def apply_condition(
    conn: Connection, rule: ScoringRule, profile_ids: Sequence[str] | None, *, now: datetime
) -> int:
    """Bring what each profile holds from a trait rule in line with its condition; returns changes."""
    held = (
        select(score_changes.c.profile_id, func.sum(score_changes.c.points).label("points"))
        .where(score_changes.c.rule_id == rule.id, score_changes.c.event_id.is_(None))
        .group_by(score_changes.c.profile_id)
    )
    if profile_ids is not None:
        held = held.where(in_values(conn, score_changes.c.profile_id, profile_ids))
    holding = held.subquery("holding")
    before = func.coalesce(holding.c.points, 0.0)
    if rule.is_active and rule.condition:
        matched = matching(conn, rule.condition, now=now, profile_ids=profile_ids).subquery("matched")
        joined = profiles.outerjoin(holding, holding.c.profile_id == profiles.c.id).outerjoin(
            matched, matched.c.id == profiles.c.id
        )
        target: ColumnElement[Any] = case((matched.c.id.is_not(None), literal(rule.points, Float)), else_=0.0)
        scope = [in_values(conn, profiles.c.id, profile_ids)] if profile_ids is not None else []
    else:  # switched off: whoever holds points from it gives them back
        joined = profiles.join(holding, holding.c.profile_id == profiles.c.id)
        target = literal(0.0, Float)
        scope = []
    reason = case(
        (target == 0, literal(_taken_back(rule), String)),
        (before == 0, literal(f"{rule.name}: {_signed(rule.points)} ({rule.describe()})", String)),
        else_=literal(
            f"{rule.name}: now {_signed(rule.points)}, the rule changed ({rule.describe()})", String
        ),
    )
    differences = (
        select(
            profiles.c.id,
            literal(rule.id, Integer),
            literal(None, Integer),
            target - before,
            reason,
            literal(now, UTCDateTime),
            literal(now, UTCDateTime),
        )
        .select_from(joined)
        .where(*scope, target != before)
    )
    return conn.execute(insert(score_changes).from_select(list(CHANGE_COLUMNS), differences)).rowcount


def _taken_back(rule: ScoringRule) -> str:
    if not rule.is_active:
        return f"{rule.name}: taken back (the rule was switched off)"
    return f"{rule.name}: taken back (no longer {rule.describe()})"


def _signed(points: float) -> str:
    return f"{points:+g}"
