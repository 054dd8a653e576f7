"""Saved segments: create, change, delete, look up; preview a definition before saving."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from patron.errors import Conflict, Invalid, NotFound
from patron.segments.compile import condition, matching
from patron.segments.definition import check_tree, parse, to_text
from patron.storage.schema import scoring_rules
from patron.storage.schema import segments as segments_table
from patron.storage.types import utcnow

NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class Segment:
    """A saved segment and how many people are in it now."""

    id: int
    name: str
    description: str
    definition: str
    tree: dict[str, Any]
    member_count: int
    created_at: datetime
    updated_at: datetime
    evaluated_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "definition": self.definition,
            "tree": self.tree,
            "count": self.member_count,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "evaluated_at": self.evaluated_at.isoformat() if self.evaluated_at else None,
        }


def _segment(row: Row[Any]) -> Segment:
    return Segment(**{name: getattr(row, name) for name in Segment.__slots__})


def definition_of(definition: str | None, tree: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """(text, tree) from either form; Invalid when neither or both is given, or it does not parse."""
    if (definition is None) == (tree is None):
        raise Invalid(
            'give the definition as text ("definition") or as a tree ("tree"), not both', field="definition"
        )
    if definition is not None:
        return definition.strip(), parse(definition)
    assert tree is not None
    check_tree(tree)
    return to_text(tree), tree


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("a segment needs a name", field="name")
    if len(name) > NAME_MAX:
        raise Invalid(f"a segment name has at most {NAME_MAX} characters", field="name")
    return name


def get_segment(conn: Connection, segment_id: int) -> Segment:
    """One segment; NotFound if there is none with that id."""
    row = conn.execute(select(segments_table).where(segments_table.c.id == segment_id)).first()
    if row is None:
        raise NotFound(f"no segment with id {segment_id}")
    return _segment(row)


def get_segment_by_name(conn: Connection, name: str) -> Segment:
    """One segment by its name; NotFound if there is none."""
    row = conn.execute(select(segments_table).where(segments_table.c.name == name)).first()
    if row is None:
        raise NotFound(f'no segment named "{name}"')
    return _segment(row)


def find_segment(conn: Connection, key: str | int) -> Segment:
    """A segment by id (a number) or, failing that, by name."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        try:
            return get_segment(conn, int(key))
        except NotFound:
            if isinstance(key, int):
                raise
    return get_segment_by_name(conn, str(key))


def list_segments(conn: Connection) -> list[Segment]:
    """Every segment, by name."""
    return [_segment(row) for row in conn.execute(select(segments_table).order_by(segments_table.c.name))]


def create_segment(
    conn: Connection,
    *,
    name: str,
    definition: str | None = None,
    tree: dict[str, Any] | None = None,
    description: str = "",
    now: datetime | None = None,
) -> Segment:
    """Save a segment and fill its membership (the first fill records no entry events)."""
    from patron.segments.membership import evaluate

    now = now or utcnow()
    name = _check_name(name)
    text, tree = definition_of(definition, tree)
    if conn.execute(select(segments_table.c.id).where(segments_table.c.name == name)).first():
        raise Conflict(f'a segment named "{name}" exists already', field="name")
    _check_references(conn, name, tree, now)
    segment_id = conn.execute(
        insert(segments_table)
        .values(
            name=name,
            description=description or "",
            definition=text,
            tree=tree,
            member_count=0,
            created_at=now,
            updated_at=now,
        )  # fmt: skip
        .returning(segments_table.c.id)
    ).scalar_one()
    evaluate(conn, segment_id, now=now)
    return get_segment(conn, segment_id)


def update_segment(
    conn: Connection,
    segment_id: int,
    *,
    name: str | None = None,
    definition: str | None = None,
    tree: dict[str, Any] | None = None,
    description: str | None = None,
    now: datetime | None = None,
) -> Segment:
    """Change a segment; a new definition is evaluated at once and its entries and exits recorded."""
    from patron.segments.membership import evaluate

    now = now or utcnow()
    current = get_segment(conn, segment_id)
    values: dict[str, Any] = {"updated_at": now}
    if name is not None and _check_name(name) != current.name:
        new_name = _check_name(name)
        if conn.execute(select(segments_table.c.id).where(segments_table.c.name == new_name)).first():
            raise Conflict(f'a segment named "{new_name}" exists already', field="name")
        users = referring(conn, current.name)
        if users:
            raise Conflict(
                f'"{current.name}" is used by {", ".join(users)}: rename it there first', field="name"
            )
        values["name"] = new_name
    if description is not None:
        values["description"] = description
    changed_definition = definition is not None or tree is not None
    if changed_definition:
        text, new_tree = definition_of(definition, tree)
        _check_references(conn, current.name, new_tree, now)
        values.update(definition=text, tree=new_tree)
    conn.execute(update(segments_table).where(segments_table.c.id == segment_id).values(**values))
    if changed_definition:
        evaluate(conn, segment_id, now=now)
        for user in referring(conn, current.name):  # segments built on this one change with it
            evaluate(conn, get_segment_by_name(conn, user).id, now=now)
    return get_segment(conn, segment_id)


def delete_segment(conn: Connection, segment_id: int) -> None:
    """Delete a segment and its membership history; Conflict while another definition uses it."""
    current = get_segment(conn, segment_id)
    users = referring(conn, current.name)
    if users:
        raise Conflict(f'"{current.name}" is used by {", ".join(users)}; change those first', field="segment")
    conn.execute(delete(segments_table).where(segments_table.c.id == segment_id))


def segments_using_traits(conn: Connection, names: Iterable[str]) -> list[Segment]:
    """Segments whose definitions (references followed) test any of these traits."""
    wanted = set(names)
    everything = list_segments(conn)
    trees = {segment.name: segment.tree for segment in everything}

    def uses(tree: dict[str, Any], seen: frozenset[str]) -> bool:
        for node in walk(tree):
            if node.get("trait") in wanted:
                return True
            name = node.get("segment")
            if name in trees and name not in seen and uses(trees[name], seen | {name}):
                return True
        return False

    return [segment for segment in everything if uses(segment.tree, frozenset({segment.name}))]


def referring(conn: Connection, name: str) -> list[str]:
    """Names of the segments and scoring rules whose definitions say `in segment "name"`."""
    users = [
        row.name
        for row in conn.execute(select(segments_table.c.name, segments_table.c.tree))
        if row.name != name and name in referenced_names(row.tree)
    ]
    rules = conn.execute(select(scoring_rules.c.name, scoring_rules.c.condition)).all()
    users += [
        f"scoring rule {row.name!r}"
        for row in rules
        if row.condition and name in referenced_names(row.condition)
    ]
    return users


def referenced_names(tree: dict[str, Any]) -> set[str]:
    """The segment names a tree refers to directly."""
    return {node["segment"] for node in walk(tree) if "segment" in node}


def walk(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a tree, parents first."""
    yield tree
    for key in ("and", "or"):
        for part in tree.get(key, ()):
            yield from walk(part)
    if "not" in tree:
        yield from walk(tree["not"])


def _check_references(conn: Connection, name: str, tree: dict[str, Any], now: datetime) -> None:
    """Invalid when the tree names a segment that does not exist, or leads back to itself."""
    from patron.segments.compile import segment_resolver

    stored = segment_resolver(conn)

    def resolve(wanted: str) -> dict[str, Any]:
        return tree if wanted == name else stored(wanted)

    # Compiled as a reference to itself, so a circle reads from this segment round to it.
    condition(conn, {"segment": name}, now=now, resolve=resolve)


def preview(
    conn: Connection,
    *,
    definition: str | None = None,
    tree: dict[str, Any] | None = None,
    now: datetime | None = None,
    sample: int = 10,
) -> dict[str, Any]:
    """How many people a definition matches now, and a sample of them (newest first), unsaved."""
    now = now or utcnow()
    text, tree = definition_of(definition, tree)
    query = matching(conn, tree, now=now)
    count = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ids = list(conn.execute(query.order_by(query.selected_columns[0].desc()).limit(sample)).scalars())
    return {"count": count, "sample": ids, "definition": text, "tree": tree}
