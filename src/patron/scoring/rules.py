"""Scoring rules: points per matching event, or while a condition on the person holds."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from patron.computed.filters import check_filters, describe_filters
from patron.errors import Invalid, NotFound
from patron.segments.definition import check_tree, parse, to_text
from patron.storage.schema import scoring_rules

KINDS = ("event", "trait")
REPEATS = ("once", "each")
MAX_NAME = 200
MAX_EVENT_NAME = 200
EDITABLE = ("name", "event", "where", "condition", "points", "repeat", "max_awards", "is_active")


@dataclass(frozen=True, slots=True)
class ScoringRule:
    """One rule: `points` per matching event (kind event) or while `condition` holds (kind trait)."""

    id: int
    name: str
    kind: str
    event: str | None
    where: list[dict[str, Any]]
    condition: dict[str, Any] | None
    points: float
    repeat: str
    max_awards: int | None
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @property
    def cap(self) -> int | None:
        """At most this many awards per profile (None: no limit)."""
        return 1 if self.repeat == "once" else self.max_awards

    @property
    def definition(self) -> str | None:
        """A trait rule's condition in the definition language."""
        return to_text(self.condition) if self.condition else None

    def describe(self) -> str:
        """What earns the points, as a reason shows it: event "Page Viewed" where path = "/pricing"."""
        if self.kind == "trait":
            return self.definition or ""
        text = "event " + json.dumps(self.event, ensure_ascii=False)
        return f"{text} where {describe_filters(self.where)}" if self.where else text

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "event": self.event,
            "where": self.where,
            "condition": self.condition,
            "definition": self.definition,
            "points": points_number(self.points),
            "repeat": self.repeat,
            "max_awards": self.max_awards,
            "is_active": self.is_active,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def points_number(value: float) -> int | float:
    """5.0 -> 5: points read as people wrote them."""
    return int(value) if float(value).is_integer() else value


def list_rules(conn: Connection, *, active_only: bool = False) -> list[ScoringRule]:
    """Every rule, oldest first."""
    query = select(scoring_rules).order_by(scoring_rules.c.id)
    if active_only:
        query = query.where(scoring_rules.c.is_active)
    return [ScoringRule(**row._mapping) for row in conn.execute(query)]


def get_rule(conn: Connection, rule_id: int) -> ScoringRule:
    """One rule by id; NotFound when there is none."""
    row = conn.execute(select(scoring_rules).where(scoring_rules.c.id == rule_id)).first()
    if row is None:
        raise NotFound(f"no scoring rule with id {rule_id}", field="id")
    return ScoringRule(**row._mapping)


def insert_rule(conn: Connection, fields: Mapping[str, Any], *, now: datetime) -> ScoringRule:
    """Store a new rule after checking it (no points are awarded here)."""
    values = checked_rule(fields)
    rule_id = conn.execute(
        insert(scoring_rules).values(**values, created_at=now, updated_at=now).returning(scoring_rules.c.id)
    ).scalar_one()
    return get_rule(conn, rule_id)


def store_changes(
    conn: Connection, rule: ScoringRule, changes: Mapping[str, Any], *, now: datetime
) -> ScoringRule:
    """Apply a partial change to a rule after checking the result (no points are awarded here)."""
    unknown = set(changes) - set(EDITABLE) - {"kind"}
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name!r} cannot be changed; the fields are {', '.join(EDITABLE)}", field=name)
    if "kind" in changes and changes["kind"] != rule.kind:
        raise Invalid("a rule's kind cannot change: create a new rule instead", field="kind")
    merged = {
        "name": rule.name, "kind": rule.kind, "event": rule.event, "where": rule.where,
        "condition": rule.condition, "points": rule.points, "repeat": rule.repeat,
        "max_awards": rule.max_awards, "is_active": rule.is_active, **changes,
    }  # fmt: skip
    values = checked_rule(merged)
    conn.execute(update(scoring_rules).where(scoring_rules.c.id == rule.id).values(**values, updated_at=now))
    return get_rule(conn, rule.id)


def remove_rule(conn: Connection, rule_id: int) -> None:
    """Delete the rule's row (its score changes are the caller's to keep or remove)."""
    conn.execute(delete(scoring_rules).where(scoring_rules.c.id == rule_id))


def checked_rule(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a rule, or Invalid naming the first field that is wrong and how to fix it."""
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise Invalid(f"name must be text of 1 to {MAX_NAME} characters", field="name")
    kind = fields.get("kind")
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)} (got {kind!r})", field="kind")
    points = fields.get("points")
    if (
        isinstance(points, bool)
        or not isinstance(points, int | float)
        or not math.isfinite(points)
        or not points
    ):
        raise Invalid("points must be a number other than 0 (negative takes points away)", field="points")
    is_active = fields.get("is_active", True)
    if not isinstance(is_active, bool):
        raise Invalid("is_active must be true or false", field="is_active")
    repeat = fields.get("repeat") or "each"
    if repeat not in REPEATS:
        raise Invalid(f"repeat must be one of {', '.join(REPEATS)} (got {repeat!r})", field="repeat")
    max_awards = fields.get("max_awards")
    if max_awards is not None and (
        isinstance(max_awards, bool) or not isinstance(max_awards, int) or max_awards < 1
    ):
        raise Invalid(
            "max_awards must be a whole number of at least 1, or null for no limit", field="max_awards"
        )
    values: dict[str, Any] = {
        "name": name.strip(),
        "kind": kind,
        "points": float(points),
        "is_active": is_active,
    }
    if kind == "event":
        event = fields.get("event")
        if not isinstance(event, str) or not event.strip() or len(event) > MAX_EVENT_NAME:
            raise Invalid('an event rule needs the event\'s name, like "Page Viewed"', field="event")
        if fields.get("condition") is not None:
            raise Invalid("an event rule takes where filters, not a condition", field="condition")
        where = check_filters(fields.get("where"))
        return {**values, "event": event.strip(), "where": where, "condition": None, "repeat": repeat,
                "max_awards": max_awards}  # fmt: skip
    if fields.get("event") is not None or fields.get("where"):
        raise Invalid("a trait rule takes a condition, not an event or filters", field="event")
    if repeat != "each" or max_awards is not None:
        field = "repeat" if repeat != "each" else "max_awards"
        raise Invalid(
            "a trait rule's points are held while the condition holds: no repeat or cap", field=field
        )
    return {**values, "event": None, "where": [], "condition": condition_tree(fields.get("condition")),
            "repeat": "each", "max_awards": None}  # fmt: skip


def condition_tree(condition: Any) -> dict[str, Any]:
    """A trait rule's condition (text or tree) as a checked tree; Invalid says where it is wrong."""
    if isinstance(condition, str):
        try:
            return parse(condition)
        except Invalid as exc:
            raise Invalid(f"condition: {exc.message}", field="condition", details=exc.details) from None
    if isinstance(condition, dict):
        try:
            check_tree(condition)
        except Invalid as exc:
            raise Invalid(f"condition: {exc.message}", field="condition", details=exc.details) from None
        return condition
    raise Invalid('a trait rule needs a condition, like country = "KR" (text or tree)', field="condition")
