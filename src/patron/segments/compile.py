"""Segment definitions compiled to one set-based SQL condition over `profiles`, on SQLite and
PostgreSQL alike; every value is a bound parameter.

Each condition is true or false, never unknown: a missing trait, a JSON null or a value of another
type than the one compared with makes a comparison false (also for !=). SQL's NULL is only let
through where it means the same as false (inside and/or); a `not` turns it into false first.

Event conditions become one grouped scan of the events named, using the (event, timestamp) index:
`id IN (... GROUP BY profile_id HAVING count(*) >= 2)`, or `id NOT IN (... HAVING NOT ...)` when
the comparison also holds for people with no such event at all (count(...) < 2).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from patron.consent.model import GLOBAL, SUBSCRIBED, UNSUBSCRIBED
from patron.errors import Invalid
from patron.fields.types import format_datetime
from patron.storage.bulk import in_values
from patron.storage.schema import consent_states, events, identities, profiles
from patron.storage.schema import segments as segments_table
from patron.storage.traits import json_path

PROFILE_COLUMNS = {"created_at": profiles.c.created_at, "updated_at": profiles.c.updated_at}
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_FIXED_UNITS = {"minutes", "hours", "days", "weeks"}
# (aggregate, comparison) where one qualifying event settles it: max > M iff some event is after M.
_ANY_EVENT_DECIDES = {("last", ">"), ("last", ">="), ("first", "<"), ("first", "<=")}
Resolver = Callable[[str], dict[str, Any]]


def moment(relative: dict[str, Any], now: datetime) -> datetime:
    """The moment a {"minus"|"plus": N, "unit"} value names, counted from `now` (calendar months)."""
    if not relative:
        return now
    sign = -1 if "minus" in relative else 1
    amount = relative.get("minus", relative.get("plus"))
    unit = relative["unit"]
    if unit in _FIXED_UNITS:
        return now + sign * timedelta(**{unit: amount})
    whole = int(amount)
    if whole != amount:  # "1.5 months": calendar months cannot be split, so count days
        days = amount * (30.436875 if unit == "months" else 365.2425)
        return now + sign * timedelta(days=days)
    return now + sign * relativedelta(**{unit: whole})


def is_relative(value: Any) -> bool:
    """True for a {"now": {...}} value."""
    return isinstance(value, dict) and "now" in value


def number_literal(value: int | float) -> ColumnElement[Any]:
    """A number bound exactly (PostgreSQL numeric), so 2**53 + 1 is not 2**53."""
    return literal(Decimal(value) if isinstance(value, int) else Decimal(repr(value)), Numeric)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class _Context:
    conn: Connection
    now: datetime
    profile_ids: Sequence[str] | None
    resolve: Resolver
    expanding: list[str] = field(default_factory=list)
    _field_types: dict[str, str] | None = None
    top: bool = True  # in the WHERE's top-level AND chain, where `id IN (...)` becomes a semi-join

    @property
    def postgresql(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def field_type(self, name: str) -> str | None:
        if self._field_types is None:
            from patron.fields.definitions import field_types

            self._field_types = field_types(self.conn)
        return self._field_types.get(name)

    @property
    def few(self) -> bool:
        """Only some profiles are checked: look each one's rows up rather than scan for all."""
        return self.profile_ids is not None

    @property
    def per_person(self) -> bool:
        """Conditions are probed per person (correlated) rather than joined as one set."""
        return self.few or not self.top

    @contextmanager
    def nested(self) -> Iterator[None]:
        """Compile under or/not: no longer in the top-level AND chain."""
        was, self.top = self.top, False
        try:
            yield
        finally:
            self.top = was


def segment_resolver(conn: Connection) -> Resolver:
    """Looks a saved segment's tree up by name (NotFound-like Invalid when there is none)."""

    def resolve(name: str) -> dict[str, Any]:
        tree = conn.execute(select(segments_table.c.tree).where(segments_table.c.name == name)).scalar()
        if tree is None:
            raise Invalid(f'there is no segment named "{name}"', field="definition")
        return tree

    return resolve


def condition(
    conn: Connection,
    tree: dict[str, Any],
    *,
    now: datetime,
    profile_ids: Sequence[str] | None = None,
    resolve: Resolver | None = None,
) -> ColumnElement[bool]:
    """The definition as a true-or-false SQL condition on the `profiles` table."""
    return _definite(_compile(_context(conn, now, profile_ids, resolve), tree))


def _context(
    conn: Connection, now: datetime, profile_ids: Sequence[str] | None, resolve: Resolver | None
) -> _Context:
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return _Context(conn, aware, profile_ids, resolve or segment_resolver(conn))


def matching(
    conn: Connection,
    tree: dict[str, Any],
    *,
    now: datetime,
    profile_ids: Sequence[str] | None = None,
    resolve: Resolver | None = None,
) -> Select[Any]:
    """SELECT of the ids of the profiles the definition holds for (only among `profile_ids`)."""
    context = _context(conn, now, profile_ids, resolve)
    # No coalesce at the top: WHERE already treats unknown as false, and a bare AND of
    # `id IN (subquery)` terms lets both databases drive the query from the smallest set
    # (a semi-join) instead of scanning every profile.
    query = select(profiles.c.id).where(_compile(context, tree))
    if profile_ids is not None:
        query = query.where(in_values(conn, profiles.c.id, profile_ids))
    return query


def _definite(expression: ColumnElement[bool]) -> ColumnElement[bool]:
    """NULL (unknown) becomes false."""
    return func.coalesce(expression, false())


def _compile(ctx: _Context, node: dict[str, Any]) -> ColumnElement[bool]:
    if "and" in node:
        # The same answer in any order; SQLite checks terms as written, so the cheap trait tests
        # go before per-person probes (8.6 s against 1.5 s for `has email and country = "GB"`).
        return and_(*(_compile(ctx, part) for part in sorted(node["and"], key=_cost)))
    if "or" in node:
        with ctx.nested():
            return or_(*(_compile(ctx, part) for part in node["or"]))
    if "not" in node:
        with ctx.nested():
            return not_(_definite(_compile(ctx, node["not"])))
    if "segment" in node:
        return _segment(ctx, node["segment"])
    if "identity" in node:
        # A probe of the profile_id index per person: most people have an email, so the list an
        # IN would build is nearly everyone (8.7 s against 1.2 s over 1,000,000 on SQLite).
        return exists().where(identities.c.profile_id == profiles.c.id, identities.c.kind == node["identity"])
    if "subscribed" in node:
        return _subscribed(ctx, node["subscribed"]["channel"], node["subscribed"].get("topic") or GLOBAL)
    if "event" in node:
        return _event(ctx, node)
    return _trait(ctx, node)


def _cost(node: dict[str, Any]) -> int:
    """Rough order of evaluation cost per person: event sets, plain traits, then probes."""
    if "event" in node:
        return 0
    if "trait" in node:
        return 1
    return 2


def _segment(ctx: _Context, name: str) -> ColumnElement[bool]:
    if name in ctx.expanding:
        chain = " -> ".join([*ctx.expanding, name])
        raise Invalid(f"segments refer to each other in a circle: {chain}", field="definition")
    ctx.expanding.append(name)
    try:
        return _compile(ctx, ctx.resolve(name))
    finally:
        ctx.expanding.pop()


def _subscribed(ctx: _Context, channel: str, topic: str) -> ColumnElement[bool]:
    holding = [
        consent_states.c.channel == channel,
        consent_states.c.topic == topic,
        consent_states.c.state == SUBSCRIBED,
        or_(consent_states.c.expires_at.is_(None), consent_states.c.expires_at > ctx.now),
    ]
    left_all = [
        consent_states.c.channel == channel,
        consent_states.c.topic == GLOBAL,
        consent_states.c.state == UNSUBSCRIBED,
    ]
    # EXISTS, a primary-key probe per person: PostgreSQL turns it into a semi-join (or anti-join)
    # at the top level, and it never degrades into re-reading a large IN list per row, as
    # NOT IN does once the list outgrows work_mem.
    mine = consent_states.c.profile_id == profiles.c.id
    held = exists().where(mine, *holding)
    return held if topic == GLOBAL else and_(held, not_(exists().where(mine, *left_all)))


# -- JSON values -------------------------------------------------------------------------------


class _Json:
    """Typed access to one key of a JSON column (profiles.traits or events.properties)."""

    def __init__(self, ctx: _Context, column: ColumnElement[Any], name: str) -> None:
        self.ctx = ctx
        self.column = column
        self.name = name

    def _type(self) -> ColumnElement[Any]:
        if self.ctx.postgresql:
            return func.jsonb_typeof(self.column.op("->")(literal(self.name, String)))
        return func.json_type(self.column, json_path(self.name))

    def kind_is(self, kind: str) -> ColumnElement[bool]:
        """The value is a JSON string | number | boolean | array | present (not null)."""
        type_ = self._type()
        if self.ctx.postgresql:
            return type_ != "null" if kind == "present" else type_ == kind
        sqlite_names = {
            "string": ("text",),
            "number": ("integer", "real"),
            "boolean": ("true", "false"),
            "array": ("array",),
        }
        if kind == "present":
            return type_ != "null"
        names = sqlite_names[kind]
        return type_ == names[0] if len(names) == 1 else type_.in_(names)

    def text(self) -> ColumnElement[Any]:
        """The raw value as SQL: text for strings (binary order), numbers as numbers on SQLite."""
        if self.ctx.postgresql:
            return type_coerce(self.column.op("->>")(literal(self.name, String)), String).collate("C")
        return func.json_extract(self.column, json_path(self.name))

    def number(self, *, guarded: bool = True) -> ColumnElement[Any]:
        """The value as a number where it is a JSON number, else NULL (never a failing cast).

        Unguarded on SQLite it is the raw value: for callers that check the type themselves.
        """
        if self.ctx.postgresql:  # numeric, as jsonb holds numbers: exact beyond 2**53
            raw = self.column.op("->>")(literal(self.name, String))
            return case((self.kind_is("number"), cast(raw, Numeric)))
        raw = func.json_extract(self.column, json_path(self.name))
        return case((self.kind_is("number"), raw)) if guarded else raw

    def boolean(self) -> ColumnElement[Any]:
        """The value where it is a JSON boolean (0/1 on SQLite)."""
        if self.ctx.postgresql:
            raw = self.column.op("->>")(literal(self.name, String))
            return case((self.kind_is("boolean"), cast(raw, Boolean)))
        return func.json_extract(self.column, json_path(self.name))

    def compare(self, op: str, value: Any, *, as_date: bool = False) -> ColumnElement[bool]:
        """`key OP value` under the typing rule: only a value of the compared type can hold."""
        compare = COMPARE[op]
        if is_relative(value):
            at = moment(value["now"], self.ctx.now)
            value = at.date().isoformat() if as_date else format_datetime(at)
        if _is_number(value):
            if self.ctx.postgresql:
                return compare(self.number(), number_literal(value))
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                value = float(value)  # beyond SQLite's integers: compared as a real, as JSON holds it
            return and_(compare(self.number(guarded=False), value), self.kind_is("number"))
        if isinstance(value, bool):
            if self.ctx.postgresql:
                return compare(self.boolean(), literal(value, Boolean))
            return and_(compare(self.boolean(), int(value)), self.kind_is("boolean"))
        # Text: the comparison first, so the type is checked only where it already holds.
        return and_(compare(self.text(), literal(value, String)), self.kind_is("string"))

    def contains(self, value: Any) -> ColumnElement[bool]:
        """A string holding `value` as a substring, or an array with an element equal to it."""
        in_array = self._array_has(value)
        if not isinstance(value, str):
            return in_array
        if self.ctx.postgresql:
            substring = func.strpos(self.text(), literal(value, String)) > 0
        else:
            substring = func.instr(self.text(), literal(value, String)) > 0
        return or_(and_(self.kind_is("string"), substring), in_array)

    def _array_has(self, value: Any) -> ColumnElement[bool]:
        if is_relative(value):
            return false()
        if self.ctx.postgresql:
            wanted = cast(literal(json.dumps([value]), String), JSONB)
            element = self.column.op("->")(literal(self.name, String))
            return and_(self.kind_is("array"), element.op("@>")(wanted))
        each = func.json_each(self.column, json_path(self.name)).table_valued("value", "type")
        if isinstance(value, bool):
            match = and_(each.c.type == ("true" if value else "false"))
        elif _is_number(value):
            match = and_(each.c.type.in_(("integer", "real")), each.c.value == value)
        else:
            match = and_(each.c.type == "text", each.c.value == literal(value, String))
        return and_(self.kind_is("array"), exists(select(literal(1)).select_from(each).where(match)))


# -- traits ------------------------------------------------------------------------------------


def _trait(ctx: _Context, node: dict[str, Any]) -> ColumnElement[bool]:
    name, op = node["trait"], node["op"]
    if name in PROFILE_COLUMNS:
        return _profile_column(ctx, PROFILE_COLUMNS[name], op, node.get("value"))
    value = _Json(ctx, profiles.c.traits, name)
    if op == "set":
        return value.kind_is("present")
    if op == "not_set":
        return not_(_definite(value.kind_is("present")))
    if op == "in":
        return or_(*(_trait_compare(ctx, value, "=", each) for each in node["value"]))
    if op == "contains":
        return value.contains(node["value"])
    return _trait_compare(ctx, value, op, node["value"])


def _trait_compare(ctx: _Context, value: _Json, op: str, wanted: Any) -> ColumnElement[bool]:
    as_date = is_relative(wanted) and ctx.field_type(value.name) == "date"
    return value.compare(op, wanted, as_date=as_date)


def _profile_column(ctx: _Context, column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    if op == "set":
        return true()
    if op == "not_set":
        return false()
    if op == "in":
        return or_(*(_profile_column(ctx, column, "=", each) for each in value))
    if op == "contains":
        return false()
    at = as_moment(value, ctx.now)
    return false() if at is None else COMPARE[op](column, at)


def as_moment(value: Any, now: datetime) -> datetime | None:
    """A now-relative value or an ISO date/time text as an aware datetime; None for other values."""
    if is_relative(value):
        return moment(value["now"], now)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            message = f"{value!r} is not a date or time (use ISO 8601, like 2026-05-01)"
            raise Invalid(message, field="definition") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# -- events ------------------------------------------------------------------------------------


def _event(ctx: _Context, node: dict[str, Any]) -> ColumnElement[bool]:
    # No `profile_id IS NOT NULL`: a NULL id never equals a profile's, and that range would
    # tempt SQLite to walk the (profile_id, timestamp) index over every event.
    scope = [events.c.event == node["event"]]
    scope.extend(_property_filters(ctx, node.get("where") or []))
    if node.get("within"):
        within = node["within"]
        scope.append(events.c.timestamp >= moment({"minus": within["last"], "unit": within["unit"]}, ctx.now))
    op, wanted, agg = node["op"], node["value"], node["agg"]
    compare = COMPARE[op]
    if agg in ("first", "last"):
        at = as_moment(wanted, ctx.now)
        if at is None:
            return false()
        total: ColumnElement[Any] = (
            func.min(events.c.timestamp) if agg == "first" else func.max(events.c.timestamp)
        )
        wanted_value: Any = at
    elif not _is_number(wanted):
        return false()
    else:
        if agg == "count":
            total = func.count()
        else:
            total = func.coalesce(func.sum(_Json(ctx, events.c.properties, node["property"]).number()), 0)
        wanted_value = number_literal(wanted) if ctx.postgresql else literal(float(wanted), Float)
    if ctx.per_person:
        # Each person's own events, by the (profile_id, timestamp) index: for a few people, and
        # under or/not. An aggregate over no rows is 0 for count and sum, NULL (false) for first/last.
        own = select(total).where(events.c.profile_id == profiles.c.id, *scope).scalar_subquery()
        return compare(own, wanted_value)
    # Grouped by an expression on SQLite: grouped by the bare column it walks the (profile_id,
    # timestamp) index over every event of every name to avoid a sort (210 s against 1.4 s for
    # one name's events among 10,000,000, bench/segments.py).
    person = events.c.profile_id if ctx.postgresql else events.c.profile_id.op("||")("")
    if (agg, op) in _ANY_EVENT_DECIDES:
        # last(...) > M holds when any such event is after M (first(...) < M: any before): a
        # range of the (event, timestamp) index, no grouping.
        return profiles.c.id.in_(
            select(events.c.profile_id).where(*scope, compare(events.c.timestamp, wanted_value))
        )
    grouped = select(person).where(*scope).group_by(person)
    held = compare(total, wanted_value)
    if agg in ("count", "sum") and compare(0, wanted):
        # People with no such event qualify too: everyone but those whose events break it, as an
        # anti-join over one grouped scan (NOT IN would re-read a list too big for memory per row).
        breaking = grouped.having(not_(held))
        if ctx.postgresql:  # an anti-join; SQLite would re-run a correlated derived table per row
            found = breaking.subquery("breaking")
            return not_(exists().where(found.c[0] == profiles.c.id))
        return profiles.c.id.not_in(breaking.where(events.c.profile_id.is_not(None)))
    return profiles.c.id.in_(grouped.having(held))


def _property_filters(ctx: _Context, where: Sequence[dict[str, Any]]) -> list[ColumnElement[bool]]:
    conditions = []
    for item in where:
        prop = _Json(ctx, events.c.properties, item["property"])
        if item["op"] == "contains":
            conditions.append(prop.contains(item["value"]))
        else:
            conditions.append(prop.compare(item["op"], item["value"]))
    return conditions


def property_filters(
    conn: Connection, where: Sequence[dict[str, Any]], *, now: datetime
) -> list[ColumnElement[bool]]:
    """One condition on `events.properties` per filter ({"property", "op", "value"}), meaning what
    it means inside a segment's event condition (for computed traits and scoring rules)."""
    return _property_filters(_Context(conn, now, None, segment_resolver(conn)), where)


def trait_number(conn: Connection, name: str) -> ColumnElement[Any]:
    """A trait as a number where it is a JSON number, else NULL."""
    return _Json(
        _Context(conn, datetime.now(UTC), None, segment_resolver(conn)), profiles.c.traits, name
    ).number()


def property_number(conn: Connection, name: str, *, now: datetime) -> ColumnElement[Any]:
    """An event property as a number where it is a JSON number, else NULL (sums skip it)."""
    return _Json(_Context(conn, now, None, segment_resolver(conn)), events.c.properties, name).number()


__all__ = [
    "as_moment",
    "condition",
    "is_relative",
    "matching",
    "moment",
    "property_filters",
    "property_number",
    "segment_resolver",
    "trait_number",
]
