"""Lead scores: the decayed sum of a profile's score changes, its stage, and explaining both.

score = sum over event awards of points * 0.5 ** (age / half-life) + the trait-rule points held
now (those never fade), rounded to 2 decimals, kept in the traits `lead_score` and `lead_stage`.
A profile is scored once it has any score change; a stage change is also an event on its
timeline (type "score", event "Stage Changed") and a 0-point score change saying from and to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Numeric,
    String,
    case,
    cast,
    delete,
    extract,
    func,
    literal,
    or_,
    select,
    update,
)

from patron.computed.refresh import stored
from patron.errors import NotFound
from patron.fields.definitions import define_field, field_types
from patron.fields.types import format_datetime
from patron.scoring import stages as stage_table
from patron.scoring.awards import CHANGE_COLUMNS, apply_condition, award_events
from patron.scoring.rules import (
    ScoringRule,
    get_rule,
    insert_rule,
    list_rules,
    points_number,
    remove_rule,
    store_changes,
)
from patron.scoring.settings import get_half_life_days, set_half_life_days
from patron.scoring.stages import list_stages, replace_stages
from patron.storage.bulk import driver_datetime, driver_json, in_values, insert_many
from patron.storage.ids import new_id
from patron.storage.schema import events, profiles, score_changes, score_stages
from patron.storage.traits import json_path
from patron.storage.types import UTCDateTime, utcnow

SCORE, STAGE = "lead_score", "lead_stage"
SCORE_FIELDS = {
    SCORE: ("number", "Computed: lead score (rules' points, event points fading with the half-life)"),
    STAGE: ("string", "Computed: lifecycle stage reached by the lead score"),
}
STAGE_EVENT = ("patron", "score", "Stage Changed")  # source, type, event
_EVENT_COLUMNS = ("profile_id", "source", "message_id", "type", "event", "properties", "context", "timestamp",
                  "received_at")  # fmt: skip


def register_score_fields(conn: Connection) -> None:
    """lead_score (number) and lead_stage (string) in the data dictionary, source "computed"."""
    known = field_types(conn)
    for name, (field_type, description) in SCORE_FIELDS.items():
        if name not in known:
            define_field(conn, name, field_type, description=description, source="computed")


def seed_stages(conn: Connection) -> int:
    """The default stages unless some are set, and the lead_score/lead_stage dictionary entries."""
    register_score_fields(conn)
    return stage_table.seed_stages(conn)


def react(conn: Connection, profile_ids: Sequence[str], *, now: datetime | None = None) -> list[str]:
    """Apply every active rule to these profiles and recompute their scores; returns the ids
    whose lead_score or lead_stage changed."""
    ids = list(dict.fromkeys(profile_ids))
    if not ids:
        return []
    rules = list_rules(conn, active_only=True)
    if not rules:  # nothing can have earned or lost points (rule changes recompute for themselves)
        return []
    now = now or utcnow()
    for rule in rules:
        _apply(conn, rule, ids, now=now)
    return recompute(conn, ids, now=now)


def rescore(conn: Connection, *, now: datetime | None = None) -> list[str]:
    """Apply every rule to everyone (switched-off trait rules give their points back) and
    recompute every score; returns the ids whose score or stage changed."""
    now = now or utcnow()
    for rule in list_rules(conn):
        _apply(conn, rule, None, now=now)
    return recompute(conn, None, now=now)


def decay(conn: Connection, *, now: datetime | None = None) -> list[str]:
    """Recompute every scored profile at `now` (event points fade); returns the ids whose
    lead_score or lead_stage changed (a daily job re-checks their segments)."""
    return recompute(conn, None, now=now or utcnow())


def recompute(conn: Connection, profile_ids: Sequence[str] | None, *, now: datetime) -> list[str]:
    """Write lead_score and lead_stage for scored profiles (all, or these) whose values differ;
    record stage changes; returns the ids written."""
    register_score_fields(conn)
    totals = _totals(conn, profile_ids, now=now).subquery("totals")
    stage = (
        select(score_stages.c.name)
        .where(score_stages.c.threshold <= totals.c.score)
        .order_by(score_stages.c.threshold.desc())
        .limit(1)
        .scalar_subquery()
    )
    staged = select(totals.c.profile_id, totals.c.score, stage.label("stage")).subquery("staged")
    stage_now = stored(conn, STAGE, "string")
    moves = conn.execute(
        select(staged.c.profile_id, stage_now.label("before"), staged.c.stage, staged.c.score)
        .join_from(staged, profiles, profiles.c.id == staged.c.profile_id)
        .where(stage_now.is_distinct_from(staged.c.stage))
    ).all()
    _record_stage_changes(conn, moves, now=now)
    written = conn.execute(
        update(profiles)
        .where(
            profiles.c.id == staged.c.profile_id,
            or_(
                stored(conn, SCORE, "number").is_distinct_from(staged.c.score),
                stage_now.is_distinct_from(staged.c.stage),
            ),
        )
        .values(traits=_with_score(conn, staged.c.score, staged.c.stage))
        .returning(profiles.c.id)
    )
    return sorted(written.scalars())


def explain(conn: Connection, profile_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A profile's score and stage at `now`, and every change behind them, newest first."""
    now = now or utcnow()
    if conn.execute(select(profiles.c.id).where(profiles.c.id == profile_id)).first() is None:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
    half_life = get_half_life_days(conn)
    worth = _rounded(conn, _worth(conn, now=now, half_life_days=half_life))
    rows = conn.execute(
        select(score_changes, worth.label("worth_now"))
        .where(score_changes.c.profile_id == profile_id)
        .order_by(score_changes.c.occurred_at.desc(), score_changes.c.id.desc())
    ).all()
    score = conn.execute(_totals(conn, [profile_id], now=now)).first()
    total = points_number(score.score) if score is not None else None
    stages = list_stages(conn)
    reached = [s["name"] for s in stages if total is not None and s["threshold"] <= total]
    return {
        "profile_id": profile_id,
        "score": total,
        "stage": reached[-1] if reached else None,
        "half_life_days": half_life,
        "changes": [
            {
                "id": row.id,
                "points": points_number(row.points),
                "worth_now": points_number(row.worth_now),
                "reason": row.reason,
                "rule_id": row.rule_id,
                "event_id": row.event_id,
                "occurred_at": format_datetime(row.occurred_at),
            }
            for row in rows
        ],
    }


def create_rule(conn: Connection, fields: Mapping[str, Any], *, now: datetime | None = None) -> ScoringRule:
    """Add a rule and apply it to everyone at once (past events count, faded by their age)."""
    now = now or utcnow()
    rule = insert_rule(conn, fields, now=now)
    _apply(conn, rule, None, now=now)
    _resegment(conn, recompute(conn, None, now=now), now)
    return rule


def update_rule(
    conn: Connection, rule_id: int, changes: Mapping[str, Any], *, now: datetime | None = None
) -> ScoringRule:
    """Change a rule and re-apply it to everyone: new matches earn points, a trait rule's holders
    get the new points or give them back (awards already made for events stay)."""
    now = now or utcnow()
    rule = store_changes(conn, get_rule(conn, rule_id), changes, now=now)
    _apply(conn, rule, None, now=now)
    _resegment(conn, recompute(conn, None, now=now), now)
    return rule


def delete_rule(conn: Connection, rule_id: int, *, now: datetime | None = None) -> list[str]:
    """Remove a rule and every point it gave; returns the ids whose score or stage changed."""
    now = now or utcnow()
    rule = get_rule(conn, rule_id)
    affected = list(
        conn.execute(
            select(score_changes.c.profile_id).where(score_changes.c.rule_id == rule.id).distinct()
        ).scalars()
    )
    conn.execute(delete(score_changes).where(score_changes.c.rule_id == rule.id))
    remove_rule(conn, rule.id)
    changed = recompute(conn, affected, now=now) if affected else []
    _resegment(conn, changed, now)
    return changed


def set_stages(conn: Connection, stages: Any, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Replace the stages ([{"name", "threshold"}]) and move every scored profile to its new stage."""
    result = replace_stages(conn, stages)
    now = now or utcnow()
    _resegment(conn, recompute(conn, None, now=now), now)
    return result


def set_half_life(conn: Connection, days: Any, *, now: datetime | None = None) -> float | None:
    """Change how fast event points fade and recompute every score with it."""
    stored_days = set_half_life_days(conn, days)
    now = now or utcnow()
    _resegment(conn, recompute(conn, None, now=now), now)
    return stored_days


def _resegment(conn: Connection, changed: Sequence[str], now: datetime) -> None:
    """Segments over lead_score or lead_stage follow a rule or stage change at once."""
    from patron import segments  # segments compile scoring conditions: imported when both are loaded

    if changed:
        segments.react(conn, changed, now=now)


def _apply(conn: Connection, rule: ScoringRule, profile_ids: Sequence[str] | None, *, now: datetime) -> int:
    if rule.kind == "event":
        return award_events(conn, rule, profile_ids, now=now)
    return apply_condition(conn, rule, profile_ids, now=now)


def _totals(conn: Connection, profile_ids: Sequence[str] | None, *, now: datetime) -> Any:
    """SELECT profile_id, score (rounded) over score_changes, for these profiles or all scored."""
    worth = _worth(conn, now=now, half_life_days=get_half_life_days(conn))
    query = select(score_changes.c.profile_id, _rounded(conn, func.sum(worth)).label("score")).group_by(
        score_changes.c.profile_id
    )
    if profile_ids is not None:
        query = query.where(in_values(conn, score_changes.c.profile_id, profile_ids))
    return query


def _worth(conn: Connection, *, now: datetime, half_life_days: float | None) -> ColumnElement[Any]:
    """A change's points at `now`: event awards fade by half every half-life; trait points do not."""
    points = score_changes.c.points
    if not half_life_days:
        return points
    if conn.dialect.name == "postgresql":
        age_s = extract("epoch", literal(now, UTCDateTime) - score_changes.c.occurred_at)
        age_days = func.greatest(age_s / 86400.0, 0.0)
        fading = func.power(0.5, age_days / half_life_days)
    else:
        age_days = func.julianday(literal(driver_datetime(conn, now), String)) - func.julianday(
            score_changes.c.occurred_at
        )
        fading = func.pow(0.5, func.max(age_days, 0.0) / half_life_days)
    return case((score_changes.c.event_id.is_(None), points), else_=points * fading)


def _rounded(conn: Connection, value: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return cast(func.round(cast(value, Numeric), 2), Float)
    return func.round(value, 2)


def _with_score(conn: Connection, score: ColumnElement[Any], stage: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        pairs = func.jsonb_build_object(literal(SCORE, String), score, literal(STAGE, String), stage)
        return profiles.c.traits.op("||")(pairs)
    return func.json_set(profiles.c.traits, json_path(SCORE), score, json_path(STAGE), stage)


def _record_stage_changes(conn: Connection, moves: Sequence[Any], *, now: datetime) -> None:
    """Each stage change as a timeline event and a 0-point score change ("stage lead -> MQL")."""
    if not moves:
        return
    at = driver_datetime(conn, now)
    source, kind, name = STAGE_EVENT
    insert_many(
        conn,
        events,
        _EVENT_COLUMNS,
        [
            (
                move.profile_id, source, f"stage-{new_id()}", kind, name,
                driver_json({"from": move.before, "to": move.stage, "score": points_number(move.score)}),
                "{}", at, at,
            )
            for move in moves
        ],
    )  # fmt: skip
    insert_many(
        conn,
        score_changes,
        CHANGE_COLUMNS,
        [
            (
                move.profile_id,
                None,
                None,
                0.0,
                f"stage {move.before or 'none'} -> {move.stage or 'none'}",
                at,
                at,
            )
            for move in moves
        ],
    )
