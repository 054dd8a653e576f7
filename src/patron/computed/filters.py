"""Event property filters ([{"property", "op", "value"}]) shared by computed traits and scoring rules.

They must mean exactly what the same filters mean inside a segment's event condition, so the SQL
comes from the segment compiler's typed JSON access rather than a second spelling of the typing
rules (a number only equals a JSON number, text only a JSON string, missing is false).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection

from patron.errors import Invalid
from patron.segments.compile import property_filters
from patron.segments.compile import property_number as compiled_number
from patron.segments.definition import check_tree, to_text


def check_filters(where: Any, *, field: str = "where") -> list[dict[str, Any]]:
    """`where` as a list of filters, or Invalid naming the filter and what is wrong with it."""
    if where is None:
        return []
    if not isinstance(where, list):
        raise Invalid(f'{field} must be a list of {{"property", "op", "value"}} filters', field=field)
    if where:
        probe = {"event": "probe", "agg": "count", "where": where, "op": ">=", "value": 1}
        try:
            check_tree(probe)
        except Invalid as exc:  # the segment checker names "tree.where[0].op": say "where[0].op"
            named = (exc.field or field).replace("tree.where", field, 1)
            raise Invalid(exc.message.replace("tree.where", field, 1), field=named) from None
    return [dict(item) for item in where]


def describe_filters(where: Sequence[dict[str, Any]]) -> str:
    """The filters as the definition language writes them: path = "/pricing" and plan != "free"."""
    return " and ".join(
        to_text({"trait": item["property"], "op": item["op"], "value": item["value"]}) for item in where
    )


def event_filters(
    conn: Connection, where: Sequence[dict[str, Any]], *, now: datetime
) -> list[ColumnElement[bool]]:
    """One SQL condition on `events.properties` per filter, as segment event conditions compile them."""
    return property_filters(conn, where, now=now)


def property_number(conn: Connection, name: str, *, now: datetime) -> ColumnElement[Any]:
    """The event property as a number where it is a JSON number, else NULL (sums skip it)."""
    return compiled_number(conn, name, now=now)
