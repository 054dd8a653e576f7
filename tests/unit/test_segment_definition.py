"""Segment definitions: the text form and the JSON tree round-trip; errors say where and what."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.errors import Invalid
from patron.segments import check_tree, parse, to_text
from patron.segments.definition import AGGREGATES, COMPARISONS, KEYWORDS, UNITS

EXAMPLE = (
    'country = "US" and created_at > now - 6 months and count(event "Order Completed" in last 30 days) >= 2'
    ' and subscribed(email, "newsletter") and not in segment "Customers"'
)


def test_the_issue_example_parses_to_the_tree_and_back() -> None:
    tree = parse(EXAMPLE)
    assert tree == {
        "and": [
            {"trait": "country", "op": "=", "value": "US"},
            {"trait": "created_at", "op": ">", "value": {"now": {"minus": 6, "unit": "months"}}},
            {"event": "Order Completed", "agg": "count", "within": {"last": 30, "unit": "days"}, "op": ">=",
             "value": 2},
            {"subscribed": {"channel": "email", "topic": "newsletter"}},
            {"not": {"segment": "Customers"}},
        ]
    }  # fmt: skip
    assert to_text(tree) == EXAMPLE


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('a = 1 or b = 2 and c = 3', {"or": [{"trait": "a", "op": "=", "value": 1},
                                            {"and": [{"trait": "b", "op": "=", "value": 2},
                                                     {"trait": "c", "op": "=", "value": 3}]}]}),
        ("(a = 1 or b = 2) and not c is set", {"and": [{"or": [{"trait": "a", "op": "=", "value": 1},
                                                               {"trait": "b", "op": "=", "value": 2}]},
                                                       {"not": {"trait": "c", "op": "set"}}]}),
        ('plan in ["pro", "team"]', {"trait": "plan", "op": "in", "value": ["pro", "team"]}),
        ("vip = true", {"trait": "vip", "op": "=", "value": True}),
        ("has phone", {"identity": "phone"}),
        ("has ext:shop", {"identity": "ext:shop"}),
        ("subscribed(sms)", {"subscribed": {"channel": "sms", "topic": ""}}),
        ('sum(revenue of event "Order Completed" where currency = "KRW" in last 1 year) > 100000',
         {"event": "Order Completed", "agg": "sum", "property": "revenue",
          "where": [{"property": "currency", "op": "=", "value": "KRW"}],
          "within": {"last": 1, "unit": "years"}, "op": ">", "value": 100000}),
        ('last(event "Product Viewed") > now - 2 hours',
         {"event": "Product Viewed", "agg": "last", "op": ">",
          "value": {"now": {"minus": 2, "unit": "hours"}}}),
        ('name contains "김"', {"trait": "name", "op": "contains", "value": "김"}),
    ],
)  # fmt: skip
def test_text_forms(text: str, tree: dict) -> None:
    assert parse(text) == tree
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("country = ", 11, "a value"),
        ('country == "US"', 10, "a value"),
        ("and x = 1", 1, "a trait name"),
        ("a = 1 b = 2", 7, "'and', 'or' or the end"),
        ("created_at > now - 6 parsecs", 22, "a unit"),
        ('count(event "x" in 30 days) > 1', 20, "'last'"),
        ("(a = 1", 7, "')'"),
        ("a = 1 & b = 2", 7, "a condition, a value or an operator"),
    ],
)
def test_errors_point_at_the_position_and_say_what_was_expected(
    text: str, column: int, expected: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse(text)
    assert caught.value.field == "definition"
    assert caught.value.details["column"] == column, caught.value.message
    assert caught.value.message.startswith(f"line 1, column {column}: expected {expected}")


def test_errors_on_later_lines_count_lines() -> None:
    with pytest.raises(Invalid) as caught:
        parse('country = "US"\n  and count(event "x") >= ')
    assert (caught.value.details["line"], caught.value.details["column"]) == (2, 27)


@pytest.mark.parametrize(
    ("tree", "field"),
    [
        ({"and": [{"trait": "a", "op": "set"}]}, "tree"),
        ({"trait": "and", "op": "set"}, "tree.trait"),
        ({"trait": "a", "op": "~"}, "tree.op"),
        (
            {"or": [{"trait": "a", "op": "set"}, {"event": "x", "agg": "avg", "op": ">", "value": 1}]},
            "tree.or[1].agg",
        ),
        (
            {"event": "x", "agg": "count", "within": {"last": 0, "unit": "days"}, "op": ">", "value": 1},
            "tree.within",
        ),
        ({"trait": "a", "op": "=", "value": {"now": {"minus": 1, "unit": "fortnights"}}}, "tree.value"),
        ({"colour": "red"}, "tree"),
    ],
)
def test_bad_trees_name_the_path(tree: dict, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_tree(tree)
    assert caught.value.field == field


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in KEYWORDS)
MATCHES = st.sampled_from([*COMPARISONS, "contains"])
NUMBERS = st.integers(-(10**9), 10**9) | st.floats(allow_nan=False, allow_infinity=False, width=32)
RELATIVE = st.builds(
    lambda sign, n, unit: {"now": {sign: n, "unit": unit}},
    st.sampled_from(["minus", "plus"]),
    st.integers(1, 1000),
    st.sampled_from(UNITS),
) | st.just({"now": {}})
VALUES = st.text(max_size=12) | NUMBERS | st.booleans() | RELATIVE
WITHIN = st.builds(lambda n, unit: {"last": n, "unit": unit}, st.integers(1, 365), st.sampled_from(UNITS))


@st.composite
def events(draw: st.DrawFn) -> dict:
    agg = draw(st.sampled_from(AGGREGATES))
    node: dict = {"event": draw(st.text(min_size=1, max_size=12)), "agg": agg}
    if agg == "sum":
        node["property"] = draw(NAMES)
    filters = st.builds(lambda p, o, v: {"property": p, "op": o, "value": v}, NAMES, MATCHES, VALUES)
    where = draw(st.lists(filters, max_size=2))
    if where:
        node["where"] = where
    within = draw(st.none() | WITHIN)
    if within:
        node["within"] = within
    node["op"] = draw(st.sampled_from(COMPARISONS))
    node["value"] = draw(VALUES)
    return node


TRAITS = (
    st.builds(lambda n, o, v: {"trait": n, "op": o, "value": v}, NAMES, MATCHES, VALUES)
    | st.builds(lambda n, o: {"trait": n, "op": o}, NAMES, st.sampled_from(["set", "not_set"]))
    | st.builds(
        lambda n, vs: {"trait": n, "op": "in", "value": vs}, NAMES, st.lists(VALUES, min_size=1, max_size=3)
    )
)
LEAVES = (
    TRAITS
    | events()
    | st.builds(lambda k: {"identity": k}, st.sampled_from(["email", "phone", "user_id", "ext:shop"]))
    | st.builds(lambda c, t: {"subscribed": {"channel": c, "topic": t}}, st.sampled_from(["email", "sms"]),
                st.sampled_from(["", "newsletter", "뉴스"]))
    | st.builds(lambda name: {"segment": name}, st.text(min_size=1, max_size=12))
)  # fmt: skip
TREES = st.recursive(
    LEAVES,
    lambda inner: (
        st.builds(lambda parts: {"and": parts}, st.lists(inner, min_size=2, max_size=3))
        | st.builds(lambda parts: {"or": parts}, st.lists(inner, min_size=2, max_size=3))
        | st.builds(lambda node: {"not": node}, inner)
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(TREES)
def test_every_tree_round_trips_through_text(tree: dict) -> None:
    check_tree(tree)
    assert parse(to_text(tree)) == tree
