"""A brute-force Python evaluator of segment definitions: the test oracle for the SQL compiler.

It reads nothing from the database and shares no code with patron.segments: it implements the
segment semantics of the P6 brief directly over plain Python data, one profile at a time, so a
disagreement with `patron.segments.compile.matching` points at one side or the other, never at
a helper both use. Only `format_datetime` (the fixed-width text traits hold datetimes in) is
borrowed, because it defines the stored form rather than any rule of the compiler.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from patron.fields.types import format_datetime

PROFILE_COLUMNS = ("created_at", "updated_at")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class OracleInvalid(Exception):
    """The definition cannot be evaluated (a cycle of segments, or an unknown segment)."""


@dataclass(frozen=True)
class OracleProfile:
    """Everything a segment condition can look at, for one person."""

    id: str
    traits: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    identity_kinds: frozenset[str] = frozenset()
    # (channel, topic) -> (state, expires_at); topic "" is the channel as a whole.
    consent: Mapping[tuple[str, str], tuple[str, datetime | None]] = field(default_factory=dict)
    # (event name, properties, timestamp), any type of event.
    events: tuple[tuple[str | None, Mapping[str, Any], datetime], ...] = ()


def moment(relative: Mapping[str, Any], now: datetime) -> datetime:
    """now -/+ N units: calendar months and years, fixed-length minutes to weeks."""
    if not relative:
        return now
    sign = -1 if "minus" in relative else 1
    amount = relative["minus"] if "minus" in relative else relative["plus"]
    unit = relative["unit"]
    if unit in ("months", "years"):
        return now + relativedelta(**{unit: sign * int(amount)})
    return now + sign * timedelta(**{unit: amount})


def json_kind(value: Any) -> str:
    """The JSON type of a decoded value: boolean, number, string, null, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def is_relative(value: Any) -> bool:
    """True for a now-relative VALUE ({"now": {...}})."""
    return isinstance(value, dict) and set(value) == {"now"}


def compare(actual: Any, op: str, expected: Any) -> bool:
    """The typed comparison: false unless both sides are the same JSON type (number, string,
    boolean); strings by code point, false < true."""
    kind = json_kind(expected)
    if kind not in ("number", "string", "boolean") or json_kind(actual) != kind:
        return False
    return COMPARE[op](actual, expected)


def _moment_text(value: Any, now: datetime, *, is_date: bool) -> Any:
    """A now-relative VALUE as the text a trait holding a datetime (or date) compares with."""
    if not is_relative(value):
        return value
    at = moment(value["now"], now)
    return at.date().isoformat() if is_date else format_datetime(at)


def value_holds(actual: Any, op: str, expected: Any, *, now: datetime, is_date: bool = False) -> bool:
    """trait/property OP VALUE over a JSON value that may be missing (pass `MISSING`)."""
    if actual is MISSING:
        return False
    if op == "contains" and is_relative(expected):
        raise NotImplementedError("the brief gives `contains` no meaning for a moment relative to now")
    expected = _moment_text(expected, now, is_date=is_date)
    if op == "contains":
        if json_kind(actual) == "string":
            return json_kind(expected) == "string" and expected in actual
        if json_kind(actual) == "array":
            return any(compare(element, "=", expected) for element in actual)
        return False
    return compare(actual, op, expected)


MISSING = object()


def holds(
    tree: Mapping[str, Any],
    profile: OracleProfile,
    *,
    now: datetime,
    segments: Mapping[str, Mapping[str, Any]],
    field_types: Mapping[str, str] | None = None,
    _inside: tuple[str, ...] = (),
) -> bool:
    """Whether the definition `tree` holds for `profile` at `now`; `segments` maps a segment's
    name to its tree (for `in segment`); `field_types` is the data dictionary {name: type}."""
    types = field_types or {}

    def again(node: Mapping[str, Any], inside: tuple[str, ...] = _inside) -> bool:
        return holds(node, profile, now=now, segments=segments, field_types=types, _inside=inside)

    if "and" in tree:
        return all([again(part) for part in tree["and"]])  # every part evaluated: cycles surface
    if "or" in tree:
        return any([again(part) for part in tree["or"]])
    if "not" in tree:
        return not again(tree["not"])
    if "segment" in tree:
        name = tree["segment"]
        if name in _inside:
            raise OracleInvalid(f"segment {name!r} refers to itself")
        if name not in segments:
            raise OracleInvalid(f"no segment {name!r}")
        return again(segments[name], (*_inside, name))
    if "identity" in tree:
        return tree["identity"] in profile.identity_kinds
    if "subscribed" in tree:
        return _subscribed(profile, tree["subscribed"]["channel"], tree["subscribed"].get("topic", ""), now)
    if "event" in tree:
        return _event_holds(tree, profile, now=now)
    return _trait_holds(tree, profile, now=now, field_types=types)


def _trait_holds(
    node: Mapping[str, Any], profile: OracleProfile, *, now: datetime, field_types: Mapping[str, str]
) -> bool:
    name, op, value = node["trait"], node["op"], node.get("value")
    if name in PROFILE_COLUMNS:
        column: datetime = getattr(profile, name)
        if op == "set":
            return True
        if op == "not_set":
            return False
        if op == "in":
            return any(_column_holds(column, "=", v, now) for v in value)
        return _column_holds(column, op, value, now)
    actual = profile.traits.get(name, MISSING)
    if op == "set":
        return actual is not MISSING and actual is not None
    if op == "not_set":
        return actual is MISSING or actual is None
    is_date = field_types.get(name) == "date"
    if op == "in":
        return any(value_holds(actual, "=", v, now=now, is_date=is_date) for v in value)
    return value_holds(actual, op, value, now=now, is_date=is_date)


def _column_holds(column: datetime, op: str, value: Any, now: datetime) -> bool:
    """created_at/updated_at compare as datetimes with a now-relative VALUE; the brief defines
    nothing else for them, and the generators ask nothing else."""
    if not is_relative(value) or op not in COMPARE:
        return False
    return COMPARE[op](column, moment(value["now"], now))


def _subscribed(profile: OracleProfile, channel: str, topic: str, now: datetime) -> bool:
    def live(key: tuple[str, str]) -> bool:
        state, expires_at = profile.consent.get(key, ("none", None))
        return state == "subscribed" and (expires_at is None or expires_at > now)

    if not topic:
        return live((channel, ""))
    channel_wide = profile.consent.get((channel, ""), ("none", None))[0]
    return live((channel, topic)) and channel_wide != "unsubscribed"


def _event_holds(node: Mapping[str, Any], profile: OracleProfile, *, now: datetime) -> bool:
    since = None
    if node.get("within"):
        since = moment({"minus": node["within"]["last"], "unit": node["within"]["unit"]}, now)
    chosen = [
        (properties, timestamp)
        for name, properties, timestamp in profile.events
        if name == node["event"]
        and (since is None or timestamp >= since)
        and all(
            value_holds(properties.get(f["property"], MISSING), f["op"], f["value"], now=now)
            for f in node.get("where") or ()
        )
    ]
    op, value, agg = node["op"], node["value"], node["agg"]
    if agg in ("count", "sum"):
        if json_kind(value) != "number":
            return False
        if agg == "count":
            total: float = len(chosen)
        else:
            total = sum(
                p[node["property"]] for p, _ in chosen if json_kind(p.get(node["property"])) == "number"
            )
        return COMPARE[op](total, value)
    if not chosen:
        return False
    at = min(t for _, t in chosen) if agg == "first" else max(t for _, t in chosen)
    if is_relative(value):
        return COMPARE[op](at, moment(value["now"], now))
    if isinstance(value, str):
        try:
            wanted = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return COMPARE[op](at, wanted if wanted.tzinfo else wanted.replace(tzinfo=UTC))
    return False


def matching(
    tree: Mapping[str, Any],
    people: Iterable[OracleProfile],
    *,
    now: datetime,
    segments: Mapping[str, Mapping[str, Any]],
    field_types: Mapping[str, str] | None = None,
) -> set[str]:
    """Ids of the people the definition holds for."""
    return {p.id for p in people if holds(tree, p, now=now, segments=segments, field_types=field_types)}
