"""The tracking plan in the database: conventions, event definitions, violations counted.

Trait definitions are the data dictionary's fields (patron.fields); this module adds events,
naming conventions, how each source treats events off the plan, and what broke the plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from patron.errors import Invalid, NotFound
from patron.fields import definitions as fields
from patron.storage.schema import api_keys, event_definitions, instance_settings, plan_violations
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow
from patron.tracking.plan import Conventions, EventDefinition, PlanChecker, TraitDefinition, Violation
from patron.tracking.plan_files import PlanDocument

CONVENTIONS_KEY = "plan.conventions"
SOURCE_MODES = ("allow", "flag", "block")
EXAMPLE_BYTES = 4096


class ViolationTally:
    """Violations of one request, counted per (kind, subject, detail) with the latest example."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], list[Any]] = {}

    def add(self, violation: Violation, message: dict[str, Any]) -> None:
        """Count one violation seen in `message`."""
        key = (violation.kind, violation.subject, violation.detail)
        entry = self.counts.get(key)
        if entry is None:
            self.counts[key] = [1, violation.message, message]
        else:
            entry[0] += 1
            entry[2] = message

    def __bool__(self) -> bool:
        return bool(self.counts)


def conventions(conn: Connection) -> Conventions:
    """The naming conventions in force (defaults until someone sets them)."""
    stored = conn.execute(
        select(instance_settings.c.value).where(instance_settings.c.key == CONVENTIONS_KEY)
    ).scalar()
    return Conventions(**orjson.loads(stored)) if stored else Conventions()


def set_conventions(conn: Connection, value: Conventions) -> Conventions:
    """Change the naming conventions."""
    text = orjson.dumps(
        {"events": value.events, "properties": value.properties, "traits": value.traits}
    ).decode()
    _upsert(conn, instance_settings, {"key": CONVENTIONS_KEY, "value": text}, ["key"], ["value"])
    return value


def list_events(conn: Connection, *, status: str | None = None) -> list[EventDefinition]:
    """Event definitions, planned first, by name."""
    query = select(event_definitions).order_by(event_definitions.c.status, event_definitions.c.name)
    if status:
        query = query.where(event_definitions.c.status == status)
    return [_event(row) for row in conn.execute(query)]


def get_event(conn: Connection, name: str) -> EventDefinition:
    """One event definition; NotFound otherwise."""
    row = conn.execute(select(event_definitions).where(event_definitions.c.name == name)).first()
    if row is None:
        raise NotFound(f"no event named {name!r} in the tracking plan", field="name")
    return _event(row)


def define_event(conn: Connection, definition: EventDefinition) -> EventDefinition:
    """Plan an event (or replan it): name, description, owner and the schema of its properties."""
    if not definition.name.strip() or len(definition.name) > 200:
        raise Invalid("an event name has 1 to 200 characters", field="name")
    PlanChecker(Conventions(), [definition])  # compiles the schema: refuses a broken one now
    now = utcnow()
    values = {
        "name": definition.name, "description": definition.description, "owner": definition.owner,
        "schema": definition.schema, "status": "planned", "created_at": now, "updated_at": now,
    }  # fmt: skip
    _upsert(
        conn, event_definitions, values, ["name"], ["description", "owner", "schema", "status", "updated_at"]
    )
    return get_event(conn, definition.name)


def delete_event(conn: Connection, name: str) -> None:
    """Take an event out of the plan."""
    if not conn.execute(delete(event_definitions).where(event_definitions.c.name == name)).rowcount:
        raise NotFound(f"no event named {name!r} in the tracking plan", field="name")


def discover_events(conn: Connection, names: Iterable[str], at: datetime) -> None:
    """Put events seen in data but not planned into the dictionary as unplanned."""
    rows = [
        {"name": name, "description": "", "owner": "", "schema": None, "status": "unplanned",
         "first_seen_at": at, "created_at": at, "updated_at": at}
        for name in names
    ]  # fmt: skip
    conn.execute(insert_ignoring_conflicts(conn, event_definitions, ["name"]), rows)


def record_violations(conn: Connection, source: str, tally: ViolationTally, at: datetime) -> None:
    """Add a request's violations to the running counts (one statement)."""
    rows = [
        {"kind": kind, "subject": subject[:200], "detail": detail[:200], "source": source, "message": message,
         "example": _example(example), "count": count, "first_seen_at": at, "last_seen_at": at}
        for (kind, subject, detail), (count, message, example) in tally.counts.items()
    ]  # fmt: skip
    conn.execute(_counting_upsert(conn.dialect.name), rows)


@lru_cache(maxsize=4)
def _counting_upsert(dialect_name: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE count = count + excluded.count, built once per dialect
    (building it per request was 7% of ingest's CPU)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(plan_violations)
    return statement.on_conflict_do_update(
        index_elements=["kind", "subject", "detail", "source"],
        set_={
            "count": plan_violations.c.count + statement.excluded.count,
            "message": statement.excluded.message,
            "example": statement.excluded.example,
            "last_seen_at": statement.excluded.last_seen_at,
        },
    )


def list_violations(
    conn: Connection, *, kind: str | None = None, source: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Violations, most frequent first, each with its latest example."""
    query = (
        select(plan_violations).order_by(plan_violations.c.count.desc(), plan_violations.c.id).limit(limit)
    )
    if kind:
        query = query.where(plan_violations.c.kind == kind)
    if source:
        query = query.where(plan_violations.c.source == source)
    return [dict(row._mapping) for row in conn.execute(query)]


def violation_totals(conn: Connection) -> dict[str, int]:
    """{kind: number of violating events}."""
    query = select(plan_violations.c.kind, func.sum(plan_violations.c.count)).group_by(plan_violations.c.kind)
    return {kind: int(total) for kind, total in conn.execute(query)}


def load_checker(conn: Connection) -> PlanChecker:
    """A checker for the plan as it is now (callers cache it: see web/tracking)."""
    return PlanChecker(conventions(conn), list_events(conn))


def source_modes(conn: Connection) -> dict[str, str]:
    """{write key name: mode} for live write keys."""
    query = select(api_keys.c.name, api_keys.c.tracking_mode).where(
        api_keys.c.scope == "write", api_keys.c.revoked_at.is_(None)
    )
    return dict(conn.execute(query).all())


def set_source_mode(conn: Connection, key_id: int, mode: str) -> None:
    """allow, flag or block events off the plan for one write key."""
    if mode not in SOURCE_MODES:
        raise Invalid(f"mode {mode!r} is not one of {', '.join(SOURCE_MODES)}", field="tracking_mode")
    done = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.scope == "write")
        .values(tracking_mode=mode)
    ).rowcount
    if not done:
        raise NotFound(f"no write key with id {key_id}", field="id")


@dataclass(frozen=True, slots=True)
class AppliedPlan:
    """What loading a plan file changed."""

    events: int
    traits: int
    sources: int
    unknown_sources: list[str]

    def as_dict(self) -> dict[str, Any]:
        """The --json form."""
        return {"events": self.events, "traits": self.traits, "sources": self.sources,
                "unknown_sources": self.unknown_sources}  # fmt: skip


def apply_plan(conn: Connection, document: PlanDocument) -> AppliedPlan:
    """Make the database's plan say what the document (a YAML file kept in Git) says."""
    set_conventions(conn, document.conventions)
    for definition in document.events:
        define_event(conn, definition)
    for trait in document.traits:
        try:
            fields.get_field(conn, trait.name)
        except NotFound:
            fields.define_field(
                conn, trait.name, trait.type, description=trait.description, owner=trait.owner
            )
        else:
            changes = {"type": trait.type, "description": trait.description, "owner": trait.owner}
            fields.update_field(conn, trait.name, {**changes, "status": "planned"})
    unknown = []
    updated = 0
    for name, mode in document.sources.items():
        if mode not in SOURCE_MODES:
            raise Invalid(
                f"sources.{name}: {mode!r} is not one of {', '.join(SOURCE_MODES)}", field=f"sources.{name}"
            )
        done = conn.execute(
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.scope == "write", api_keys.c.revoked_at.is_(None))
            .values(tracking_mode=mode)
        ).rowcount
        updated += done
        if not done:
            unknown.append(name)
    return AppliedPlan(len(document.events), len(document.traits), updated, unknown)


def plan_document(conn: Connection) -> PlanDocument:
    """The whole plan as a document (for export to YAML, CSV or Markdown)."""
    traits = [TraitDefinition(f.name, f.type, f.description, f.owner) for f in fields.list_fields(conn)]
    return PlanDocument(conventions(conn), list_events(conn), traits, source_modes(conn))


def _event(row: Any) -> EventDefinition:
    return EventDefinition(row.name, row.description, row.owner, row.schema, row.status)


def _example(message: dict[str, Any]) -> Any:
    text = orjson.dumps(message)
    return (
        message if len(text) <= EXAMPLE_BYTES else {"truncated": text[:EXAMPLE_BYTES].decode(errors="ignore")}
    )


def _upsert(
    conn: Connection, table: Any, values: dict[str, Any], keys: list[str], changing: list[str]
) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={name: getattr(statement.excluded, name) for name in changing}
        )
    )
