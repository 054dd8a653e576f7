"""Segment definitions checked in memory for a few people at a time: the real-time path.

A write touches one person (an event, a trait, a consent); re-checking them against every live
segment with one SQL statement per segment costs milliseconds of statement building alone. Here the
person's data is read once (profile, identity kinds, consent states, the events the live
definitions name) and every definition is checked against it in microseconds. The meaning is the
compiler's (patron.segments.compile); a test holds the two to each other on random data on both
databases, and whole-population evaluation always goes through SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from patron.consent.model import GLOBAL, SUBSCRIBED, UNSUBSCRIBED
from patron.errors import Invalid
from patron.fields.types import format_datetime
from patron.segments.compile import COMPARE, PROFILE_COLUMNS, as_moment, is_relative, moment
from patron.segments.store import walk
from patron.storage.bulk import in_values
from patron.storage.schema import consent_states, events, identities, profiles

_MISSING = object()


@dataclass
class Person:
    """What segment conditions can look at, for one profile."""

    id: str
    traits: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    identity_kinds: set[str] = field(default_factory=set)
    # (channel, topic) -> (state, expires_at); topic "" is the channel as a whole.
    consent: dict[tuple[str, str], tuple[str, datetime | None]] = field(default_factory=dict)
    # event name -> [(timestamp, properties)]
    events: dict[str, list[tuple[datetime, Mapping[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def event_names(trees: Iterable[Mapping[str, Any]]) -> set[str]:
    """The event names these definitions look at."""
    return {node["event"] for tree in trees for node in walk(dict(tree)) if "event" in node}


def load_people(conn: Connection, profile_ids: Sequence[str], names: Iterable[str]) -> dict[str, Person]:
    """Everything the definitions need about these profiles, in four indexed reads."""
    people = {
        row.id: Person(row.id, row.traits, row.created_at, row.updated_at)
        for row in conn.execute(
            select(profiles.c.id, profiles.c.traits, profiles.c.created_at, profiles.c.updated_at).where(
                in_values(conn, profiles.c.id, profile_ids)
            )
        )
    }
    if not people:
        return people
    ids = list(people)
    for pid, kind in conn.execute(
        select(identities.c.profile_id, identities.c.kind).where(
            in_values(conn, identities.c.profile_id, ids)
        )
    ):
        people[pid].identity_kinds.add(kind)
    consent = select(
        consent_states.c.profile_id,
        consent_states.c.channel,
        consent_states.c.topic,
        consent_states.c.state,
        consent_states.c.expires_at,
    ).where(in_values(conn, consent_states.c.profile_id, ids))
    for pid, channel, topic, state, expires_at in conn.execute(consent):
        people[pid].consent[(channel, topic)] = (state, expires_at)
    wanted = sorted(set(names))
    if wanted:
        query = select(events.c.profile_id, events.c.event, events.c.timestamp, events.c.properties).where(
            in_values(conn, events.c.profile_id, ids), events.c.event.in_(wanted)
        )
        for pid, name, timestamp, properties in conn.execute(query):
            people[pid].events[name].append((timestamp, properties))
    return people


def holds(
    tree: Mapping[str, Any],
    person: Person,
    *,
    now: datetime,
    trees: Mapping[str, Mapping[str, Any]],
    field_types: Mapping[str, str],
    _inside: tuple[str, ...] = (),
) -> bool:
    """Whether the definition holds for the person at `now`; `trees` maps segment names to trees."""

    def check(node: Mapping[str, Any], inside: tuple[str, ...] = _inside) -> bool:
        return holds(node, person, now=now, trees=trees, field_types=field_types, _inside=inside)

    if "and" in tree:
        return all(check(part) for part in tree["and"])
    if "or" in tree:
        return any(check(part) for part in tree["or"])
    if "not" in tree:
        return not check(tree["not"])
    if "segment" in tree:
        name = tree["segment"]
        if name in _inside:
            raise Invalid(f"segments refer to each other in a circle: {' -> '.join([*_inside, name])}")
        if name not in trees:
            raise Invalid(f'there is no segment named "{name}"', field="definition")
        return check(trees[name], (*_inside, name))
    if "identity" in tree:
        return tree["identity"] in person.identity_kinds
    if "subscribed" in tree:
        wanted = tree["subscribed"]
        return _subscribed(person, wanted["channel"], wanted.get("topic") or GLOBAL, now)
    if "event" in tree:
        return _event(tree, person, now)
    return _trait(tree, person, now, field_types)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _typed(actual: Any, op: str, expected: Any) -> bool:
    """Only a value of the compared JSON type can hold (strings by code point, false < true)."""
    kind = _json_kind(expected)
    if kind not in ("number", "string", "boolean") or _json_kind(actual) != kind:
        return False
    return COMPARE[op](actual, expected)


def _value(actual: Any, op: str, expected: Any, now: datetime, *, as_date: bool = False) -> bool:
    """A trait or event property compared as the compiler compares it."""
    if actual is _MISSING:
        return False
    if op == "contains":
        if is_relative(expected):
            return False
        if _json_kind(actual) == "string":
            return isinstance(expected, str) and expected in actual
        if _json_kind(actual) == "array":
            return any(_typed(element, "=", expected) for element in actual)
        return False
    if is_relative(expected):
        at = moment(expected["now"], now)
        expected = at.date().isoformat() if as_date else format_datetime(at)
    return _typed(actual, op, expected)


def _trait(node: Mapping[str, Any], person: Person, now: datetime, field_types: Mapping[str, str]) -> bool:
    name, op, value = node["trait"], node["op"], node.get("value")
    if name in PROFILE_COLUMNS:
        column: datetime = getattr(person, name)
        if op in ("set", "not_set"):
            return op == "set"
        if op == "contains":
            return False
        values = value if op == "in" else [value]
        compare = COMPARE["=" if op == "in" else op]
        moments = [as_moment(v, now) for v in values]
        return any(at is not None and compare(column, at) for at in moments)
    actual = person.traits.get(name, _MISSING)
    if op == "set":
        return actual is not _MISSING and actual is not None
    if op == "not_set":
        return actual is _MISSING or actual is None
    as_date = field_types.get(name) == "date"
    if op == "in":
        return any(_value(actual, "=", v, now, as_date=is_relative(v) and as_date) for v in value)
    return _value(actual, op, value, now, as_date=is_relative(value) and as_date)


def _subscribed(person: Person, channel: str, topic: str, now: datetime) -> bool:
    def live(key: tuple[str, str]) -> bool:
        state, expires_at = person.consent.get(key, ("none", None))
        return state == SUBSCRIBED and (expires_at is None or expires_at > now)

    if topic == GLOBAL:
        return live((channel, GLOBAL))
    return live((channel, topic)) and person.consent.get((channel, GLOBAL), ("none", None))[0] != UNSUBSCRIBED


def _event(node: Mapping[str, Any], person: Person, now: datetime) -> bool:
    found = person.events.get(node["event"], [])
    if node.get("within"):
        since = moment({"minus": node["within"]["last"], "unit": node["within"]["unit"]}, now)
        found = [e for e in found if e[0] >= since]
    for item in node.get("where") or ():
        found = [
            e for e in found if _value(e[1].get(item["property"], _MISSING), item["op"], item["value"], now)
        ]
    op, wanted, agg = node["op"], node["value"], node["agg"]
    compare = COMPARE[op]
    if agg in ("first", "last"):
        at = as_moment(wanted, now)
        if at is None or not found:
            return False
        times = [timestamp for timestamp, _ in found]
        return compare(min(times) if agg == "first" else max(times), at)
    if _json_kind(wanted) != "number":
        return False
    if agg == "count":
        return compare(len(found), wanted)
    amounts = [e[1].get(node["property"]) for e in found]
    return compare(sum(a for a in amounts if _json_kind(a) == "number"), wanted)
