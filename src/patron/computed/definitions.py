"""Computed traits: what each one counts, the built-in ones, defining and deleting them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from patron.computed.few import FEW, refresh_few
from patron.computed.filters import check_filters
from patron.computed.refresh import refresh_trait
from patron.errors import Conflict, Invalid, NotFound
from patron.fields.definitions import (
    STANDARD_FIELDS,
    check_field_name,
    define_field,
    delete_field,
    field_types,
)
from patron.storage.schema import computed_traits
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.traits import remove_trait
from patron.storage.types import utcnow

# kind -> the data dictionary type of the value it keeps
KINDS: dict[str, str] = {
    "first_seen": "datetime",
    "last_seen": "datetime",
    "count": "number",
    "sum": "number",
    "first": "datetime",
    "last": "datetime",
    "active": "boolean",
}
EVENT_KINDS = ("count", "sum", "first", "last")
# Traits other parts of Patron write: a computed trait of the same name would fight them.
RESERVED = ("lead_score", "lead_stage", "last_activity_at")
MAX_EVENT_NAME = 200
ORDER = "Order Completed"
BUILTINS: tuple[dict[str, Any], ...] = (
    {"name": "first_seen", "kind": "first_seen", "description": "Time of the person's first call (any kind)"},
    {"name": "last_seen", "kind": "last_seen", "description": "Time of the person's latest call (any kind)"},
    {"name": "order_count", "kind": "count", "event": ORDER, "description": f'How many "{ORDER}" events'},
    {"name": "total_revenue", "kind": "sum", "event": ORDER, "property": "revenue",
     "description": f'Sum of revenue over "{ORDER}" events'},
    {"name": "last_order_at", "kind": "last", "event": ORDER, "description": f'Time of the latest "{ORDER}"'},
    {"name": "active", "kind": "active",
     "description": "Any track, page or screen call within 180 days (also sets last_activity_at)"},
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ComputedTrait:
    """A trait Patron keeps in profiles.traits from the person's events."""

    name: str
    kind: str
    event: str | None
    property: str | None
    where: list[dict[str, Any]]
    description: str
    is_builtin: bool
    created_at: datetime
    updated_at: datetime

    @property
    def field_type(self) -> str:
        """The data dictionary type of its value."""
        return KINDS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "type": self.field_type,
            "event": self.event,
            "property": self.property,
            "where": self.where,
            "description": self.description,
            "builtin": self.is_builtin,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def computed_names(conn: Connection) -> set[str]:
    """Every trait Patron keeps itself (computed traits, activity, lead score and stage): no
    source sets them, so they carry no provenance."""
    return set(RESERVED) | set(conn.execute(select(computed_traits.c.name)).scalars())


def list_computed(conn: Connection) -> list[ComputedTrait]:
    """Every computed trait, built-in ones first, then by name."""
    query = select(computed_traits).order_by(computed_traits.c.is_builtin.desc(), computed_traits.c.name)
    return [ComputedTrait(**row._mapping) for row in conn.execute(query)]


def get_computed(conn: Connection, name: str) -> ComputedTrait:
    """One computed trait by name; NotFound when there is none."""
    row = conn.execute(select(computed_traits).where(computed_traits.c.name == name)).first()
    if row is None:
        raise NotFound(f"no computed trait named {name!r}", field="name")
    return ComputedTrait(**row._mapping)


def define_computed(
    conn: Connection,
    *,
    name: str,
    kind: str,
    event: str | None = None,
    property: str | None = None,  # noqa: A002 - the column's name, as the API spells it
    where: list[dict[str, Any]] | None = None,
    description: str = "",
    now: datetime | None = None,
) -> ComputedTrait:
    """Add a computed trait and compute it at once for every profile."""
    now = now or utcnow()
    check_field_name(name)
    if name in STANDARD_FIELDS or name in RESERVED:
        raise Invalid(f"{name!r} is a trait Patron already keeps; choose another name", field="name")
    if conn.execute(select(computed_traits.c.name).where(computed_traits.c.name == name)).first():
        raise Conflict(f"a computed trait named {name!r} already exists", field="name")
    values = _checked(name=name, kind=kind, event=event, property=property, where=where)
    _register_field(conn, name, KINDS[kind], description or f"Computed: {kind}")
    conn.execute(
        insert(computed_traits).values(
            **values, description=description, is_builtin=False, created_at=now, updated_at=now
        )
    )
    trait = get_computed(conn, name)
    refresh_trait(conn, trait, None, now=now)
    return trait


def delete_computed(conn: Connection, name: str) -> int:
    """Remove a computed trait, its dictionary entry and its values; returns profiles changed."""
    trait = get_computed(conn, name)
    if trait.is_builtin:
        raise Invalid(f"{name!r} is built in and cannot be deleted", field="name")
    changed = conn.execute(remove_trait(conn.dialect.name, name)).rowcount
    if name in field_types(conn):  # someone may have deleted the dictionary entry by hand
        delete_field(conn, name)
    conn.execute(delete(computed_traits).where(computed_traits.c.name == name))
    return changed


def seed_builtins(conn: Connection, *, now: datetime | None = None) -> int:
    """Make sure the built-in computed traits exist (and are computed); returns how many were added."""
    now = now or utcnow()
    rows = [
        {"event": None, "property": None, "where": [], **builtin, "is_builtin": True, "created_at": now,
         "updated_at": now}
        for builtin in BUILTINS
    ]  # fmt: skip
    existing = set(conn.execute(select(computed_traits.c.name)).scalars())
    added = [row for row in rows if row["name"] not in existing]
    if not added:
        return 0
    for row in added:
        _register_field(conn, row["name"], KINDS[row["kind"]], "Computed: " + row["description"])
    conn.execute(insert_ignoring_conflicts(conn, computed_traits, ["name"]), added)
    refresh(conn, None, now=now, names=[row["name"] for row in added])
    return len(added)


def refresh(
    conn: Connection,
    profile_ids: Sequence[str] | None,
    *,
    now: datetime,
    names: Sequence[str] | None = None,
) -> int:
    """Recompute every computed trait (or those `names`) for all profiles (None) or only these;
    one statement per trait; returns how many profile writes that took."""
    if profile_ids is not None and not profile_ids:
        return 0
    ids = None if profile_ids is None else list(dict.fromkeys(profile_ids))
    traits = [t for t in list_computed(conn) if names is None or t.name in names]
    if ids is not None and len(ids) <= FEW:
        return refresh_few(conn, traits, ids, now=now)
    return sum(refresh_trait(conn, trait, ids, now=now) for trait in traits)


def _checked(
    *,
    name: str,
    kind: str,
    event: str | None,
    property: str | None,
    where: Any,  # noqa: A002
) -> dict[str, Any]:
    """The row to store, or Invalid naming the first field that is wrong."""
    if kind not in KINDS:
        raise Invalid(f"kind {kind!r} is not one of {', '.join(KINDS)}", field="kind")
    if kind == "active":
        raise Invalid(
            "'active' is kept by the built-in trait of that name; use last_seen or count", field="kind"
        )
    if kind in EVENT_KINDS:
        if not isinstance(event, str) or not event.strip():
            raise Invalid(f'a {kind} trait needs the event\'s name, like "{ORDER}"', field="event")
        if len(event) > MAX_EVENT_NAME:
            raise Invalid(f"the event name is longer than {MAX_EVENT_NAME} characters", field="event")
        filters = check_filters(where)
    else:
        if event is not None or where:
            raise Invalid(f"a {kind} trait looks at every call; it takes no event or filters", field="event")
        filters = []
    if kind == "sum":
        if not isinstance(property, str) or not property.strip():
            raise Invalid("a sum needs the property to add up, like revenue", field="property")
        check_filters([{"property": property, "op": "=", "value": 0}], field="property")
    elif property is not None:
        raise Invalid(f"only a sum takes a property, not a {kind}", field="property")
    return {"name": name, "kind": kind, "event": event.strip() if event else None,
            "property": property, "where": filters}  # fmt: skip


def _register_field(conn: Connection, name: str, field_type: str, description: str) -> None:
    """The data dictionary entry that tells segments and the admin the value's type."""
    existing = field_types(conn).get(name)
    if existing is None:
        define_field(conn, name, field_type, description=description, source="computed")
    elif existing != field_type:
        raise Conflict(
            f"a field named {name!r} already holds {existing} values; a {field_type} computed trait "
            "needs another name",
            field="name",
        )
