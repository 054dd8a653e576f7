"""The data dictionary: standard and custom trait definitions (name, type, description, source)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from patron.errors import Conflict, Forbidden, Invalid, NotFound
from patron.fields.types import FIELD_TYPES, coerce
from patron.storage.schema import fields, profiles
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.traits import has_trait, remove_trait
from patron.storage.types import utcnow

STANDARD_FIELDS: dict[str, tuple[str, str]] = {
    "email": ("string", "Email address (also an identity: trimmed, lower-cased)"),
    "phone": ("string", "Phone number in E.164 (also an identity)"),
    "first_name": ("string", "Given name"),
    "last_name": ("string", "Family name"),
    "company": ("string", "Company or organisation"),
    "job_title": ("string", "Job title"),
    "country": ("string", "Country, ISO 3166-1 alpha-2"),
    "city": ("string", "City"),
    "timezone": ("string", "IANA time zone, e.g. Asia/Seoul"),
    "locale": ("string", "Preferred language and region, e.g. ko-KR"),
    "birthday": ("date", "Date of birth"),
    "industry": ("string", "Industry or sector"),
    "phone_type": ("string", "Kind of phone number (mobile, fixed_line, voip, ...), recorded at entry"),
    "active": ("boolean", "Computed: any activity (event, open, click) within the activity window"),
    "last_activity_at": ("datetime", "Computed: time of the last event, open or click"),
}
# Unicode letters, digits and '_', starting with a letter or '_': safe as a JSON key and a
# path on both databases, and readable in Korean ("구매_횟수").
_FIELD_NAME = re.compile(r"^[^\W\d]\w{0,63}$")
EXAMPLES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class FieldDefinition:
    """One entry of the data dictionary."""

    name: str
    type: str
    description: str
    source: str | None
    owner: str
    status: str  # planned (defined on purpose) | unplanned (discovered in data)
    is_standard: bool
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form."""
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "source": self.source,
            "owner": self.owner,
            "status": self.status,
            "standard": self.is_standard,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@lru_cache(maxsize=4096)
def is_field_name(name: str) -> bool:
    """True when `name` can name a trait."""
    return bool(_FIELD_NAME.match(name))


def check_field_name(name: str) -> str:
    """`name` if it can name a trait, else Invalid saying what is allowed."""
    if not is_field_name(name):
        raise Invalid(
            f"{name!r} cannot name a field: use letters, digits and '_', start with a letter, "
            "at most 64 characters (e.g. 'favourite_color')",
            field="name",
        )
    return name


def check_field_type(field_type: str) -> str:
    """`field_type` if Patron knows it."""
    if field_type not in FIELD_TYPES:
        raise Invalid(f"type {field_type!r} is not one of {', '.join(FIELD_TYPES)}", field="type")
    return field_type


def seed_standard_fields(conn: Connection) -> int:
    """Make sure every standard trait has its definition; returns how many were added."""
    now = utcnow()
    rows = [
        {
            "name": name,
            "type": ftype,
            "description": text,
            "source": None,
            "is_standard": True,
            "created_at": now,
            "updated_at": now,
        }
        for name, (ftype, text) in STANDARD_FIELDS.items()
    ]
    return _insert_missing(conn, rows)


def field_types(conn: Connection) -> dict[str, str]:
    """{name: type} for every defined field: what imports and upserts coerce values to."""
    return dict(conn.execute(select(fields.c.name, fields.c.type)).all())


def list_fields(conn: Connection) -> list[FieldDefinition]:
    """Every field, standard ones first, then by name."""
    query = select(fields).order_by(fields.c.is_standard.desc(), fields.c.name)
    return [FieldDefinition(**row._mapping) for row in conn.execute(query)]


def get_field(conn: Connection, name: str) -> FieldDefinition:
    """One field by name; NotFound if it is not defined."""
    row = conn.execute(select(fields).where(fields.c.name == name)).first()
    if row is None:
        raise NotFound(f"no field named {name!r}", field="name")
    return FieldDefinition(**row._mapping)


def define_field(
    conn: Connection,
    name: str,
    field_type: str,
    *,
    description: str = "",
    source: str | None = None,
    owner: str = "",
) -> FieldDefinition:
    """Add a custom field; existing values of that trait must fit the type (they are converted)."""
    check_field_name(name)
    check_field_type(field_type)
    existing = conn.execute(select(fields.c.status).where(fields.c.name == name)).first()
    if existing is not None and existing.status == "planned":
        raise Conflict(f"field {name!r} already exists; PATCH it to change it", field="name")
    if existing is not None:  # discovered in data: defining it on purpose plans it
        return update_field(
            conn,
            name,
            {
                "type": field_type,
                "description": description,
                "source": source,
                "owner": owner,
                "status": "planned",
            },
        )
    _convert_existing_values(conn, name, field_type)
    now = utcnow()
    conn.execute(
        insert(fields).values(
            name=name,
            type=field_type,
            description=description,
            source=source,
            owner=owner,
            status="planned",
            is_standard=False,
            created_at=now,
            updated_at=now,
        )
    )
    return get_field(conn, name)


def update_field(conn: Connection, name: str, changes: Mapping[str, Any]) -> FieldDefinition:
    """Change a field's type, description or source; a new type converts stored values."""
    current = get_field(conn, name)
    values: dict[str, Any] = {}
    if "type" in changes and changes["type"] != current.type:
        if current.is_standard:
            raise Forbidden(f"{name!r} is a standard field; its type cannot change", field="type")
        new_type = check_field_type(changes["type"])
        _convert_existing_values(conn, name, new_type)
        values["type"] = new_type
    for key in ("description", "source", "owner", "status"):
        if key in changes and changes[key] is not None:
            values[key] = changes[key]
    if values:
        values["updated_at"] = utcnow()
        conn.execute(update(fields).where(fields.c.name == name).values(**values))
    return get_field(conn, name)


def delete_field(conn: Connection, name: str) -> int:
    """Remove a custom field and its values from every profile; returns profiles changed."""
    current = get_field(conn, name)
    if current.is_standard:
        raise Forbidden(f"{name!r} is a standard field and cannot be deleted", field="name")
    changed = conn.execute(remove_trait(conn.dialect.name, name)).rowcount
    conn.execute(delete(fields).where(fields.c.name == name))
    return changed


def register_discovered(conn: Connection, discovered: Mapping[str, tuple[str, str, str | None]]) -> int:
    """Define traits first seen in data ({name: (type, description, source)}) unless defined."""
    now = utcnow()
    rows = [
        {
            "name": name,
            "type": ftype,
            "description": text,
            "source": source,
            "status": "unplanned",
            "is_standard": False,
            "created_at": now,
            "updated_at": now,
        }
        for name, (ftype, text, source) in discovered.items()
    ]
    return _insert_missing(conn, rows)


def _insert_missing(conn: Connection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    statement = insert_ignoring_conflicts(conn, fields, ["name"])
    return conn.execute(statement, rows).rowcount


def _convert_existing_values(conn: Connection, name: str, field_type: str) -> None:
    """Rewrite stored values of `name` in `field_type`'s canonical form, or refuse with examples."""
    query = select(profiles.c.id, profiles.c.traits).where(has_trait(conn.dialect.name, name))
    converted: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    failure_count = 0
    for profile_id, traits in conn.execute(query):
        old = traits[name]
        try:
            new = coerce(field_type, old)
        except ValueError as exc:
            failure_count += 1
            if len(failures) < EXAMPLES_SHOWN:
                failures.append({"profile_id": profile_id, "value": old, "reason": str(exc)})
            continue
        if new != old or type(new) is not type(old):
            converted.append({"pid": profile_id, "traits": {**traits, name: new}})
    if failure_count:
        raise Conflict(
            f"{failure_count} profile(s) hold values of {name!r} that are not {field_type}; "
            "fix or remove them first",
            field="type",
            details={"failures": failure_count, "examples": failures},
        )
    if converted:
        conn.execute(
            update(profiles).where(profiles.c.id == bindparam("pid")).values(traits=bindparam("traits")),
            converted,
        )
