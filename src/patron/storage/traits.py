"""Dialect-aware SQL over the JSON `profiles.traits` column (SQLite JSON1 and PostgreSQL JSONB)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Update, func, literal, update

from patron.storage.schema import profiles


def json_path(name: str) -> str:
    """SQLite JSON path for a top-level key (trait names are word characters only)."""
    return f'$."{name}"'


def typed_trait(name: str, field_type: str) -> ColumnElement:
    """The trait as an SQL value of its field type, for comparison and ordering."""
    element = profiles.c.traits[name]
    if field_type == "number":
        return element.as_float()
    if field_type == "boolean":
        return element.as_boolean()
    # Strings, and datetimes/dates in their fixed-width text form, compare as text.
    return element.as_string()


def trait_text(dialect: str, name: str) -> ColumnElement:
    """The trait as SQL text (numbers as numbers on SQLite), with no cast: for counting in bulk."""
    if dialect == "postgresql":
        return profiles.c.traits.op("->>")(literal(name))
    return func.json_extract(profiles.c.traits, json_path(name))


def has_trait(dialect: str, name: str) -> ColumnElement[bool]:
    """True for profiles where the trait is present."""
    if dialect == "postgresql":
        return profiles.c.traits.op("?")(literal(name))
    return func.json_type(profiles.c.traits, json_path(name)).is_not(None)


def remove_trait(dialect: str, name: str) -> Update:
    """One statement removing the trait from every profile holding it.

    Its provenance entry stays until the profile's next write; readers only show provenance
    of traits that are present.
    """
    if dialect == "postgresql":
        removed = profiles.c.traits.op("-")(literal(name))
    else:
        removed = func.json_remove(profiles.c.traits, json_path(name))
    return update(profiles).where(has_trait(dialect, name)).values(traits=removed)
