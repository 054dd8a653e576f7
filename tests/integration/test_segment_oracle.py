"""The SQL compiler agrees with the brute-force oracle (tests/segment_oracle.py) on both databases.

One data set per test function, built through the functions users' data goes through (profile
upserts, the consent ledger, tracking intake and the event processor), read back, and then many
definitions over it: random trees from hypothesis, and one explicit case per operator so that a
failure names the operator.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from patron.consent.ledger import Change, record_many, states_of
from patron.consent.topics import create_topic
from patron.fields.definitions import define_field, field_types
from patron.fields.types import format_datetime
from patron.identity.rules import DEFAULT_RULES
from patron.profiles import get_profiles, prepare_record, upsert_records
from patron.segments.definition import check_tree, parse, to_text
from patron.storage import transaction
from patron.tracking.dictionary import load_checker
from patron.tracking.events import timeline
from patron.tracking.intake import Source, prepare, store
from patron.tracking.processing import process_chunk
from tests.conftest import Database
from tests.segment_oracle import OracleProfile, matching

# The end of a month: "now - 1 month" is the 28th of February (calendar months, not 30 days).
NOW = datetime(2026, 3, 31, 12, 0, 0, tzinfo=UTC)
UNITS = ("minutes", "hours", "days", "weeks", "months", "years")
AMOUNTS = (1, 2, 6, 7, 18, 29, 30, 31, 90, 183, 365)
SIX_MONTHS = NOW - relativedelta(months=6)
THIRTY_DAYS = NOW - timedelta(days=30)
MS = timedelta(milliseconds=1)

NUMBERS = (0, 1, -1, 2, 3, 10, 100, 0.5, 2.5, -3.25, 0.1, 99.99, 1_000_000, 1_234_567)
TEXTS = (
    "gold", "Gold", "GOLD", "silver", "gold member", "a", "b", "B", "Z", "10", "2", "true", "서울",
    "부산", "김민준", "가나다", "ㄱ", "a%b", "a_b", "100%", "it's", 'say "hi"', "파티 🎉", "Ä", "é",
)  # fmt: skip
DATETIME_TEXTS = tuple(
    format_datetime(moment)
    for moment in (
        NOW, NOW - timedelta(days=1), NOW - timedelta(days=7), THIRTY_DAYS, THIRTY_DAYS - MS,
        THIRTY_DAYS + MS, SIX_MONTHS, SIX_MONTHS - MS, NOW - timedelta(days=365), NOW + timedelta(days=3),
    )
)  # fmt: skip
DATE_TEXTS = tuple(
    day.isoformat()
    for day in (
        NOW.date(), (NOW - relativedelta(years=18)).date(), (NOW - relativedelta(years=18, days=-1)).date(),
        (NOW - relativedelta(years=30)).date(), SIX_MONTHS.date(), (SIX_MONTHS - timedelta(days=1)).date(),
    )
)  # fmt: skip
LISTS = (
    ["a", "b"], [1, 2, 3], ["gold", 1, True], ["서울", "부산"], [], [None, "a"], [["gold"]],
    [{"k": "gold"}], [1.5, "1.5"], [False], ["Gold", "silver"],
)  # fmt: skip
OBJECTS = ({"k": "gold"}, {"plan": 1})
# What each trait mostly holds; any trait sometimes holds anything (the typing rules decide).
TRAITS: dict[str, tuple[Any, ...]] = {
    "plan": TEXTS,
    "score": NUMBERS,
    "tags": LISTS,
    "vip": (True, False),
    "note": TEXTS,
    "birthday": DATE_TEXTS,  # a standard field typed `date`
    "renewal": DATE_TEXTS,  # defined below as `date`
    "seen_at": DATETIME_TEXTS,  # discovered as text: now-relative values compare as datetime text
    "lead_score": NUMBERS,
    "lead_stage": ("lead", "mql", "sql", "customer", "Lead"),
}
ANYTHING = (*NUMBERS, *TEXTS, *DATETIME_TEXTS, *DATE_TEXTS, True, False, *LISTS, *OBJECTS)
KINDS = ("email", "phone", "user_id", "anonymous_id", "ext:shop")
EVENT_NAMES = ("Order Completed", "Page Viewed", "주문 완료", "Signed Up", "Pricing")
# Dyadic fractions: sums are exact in binary floating point, in SQL numeric and in Python alike.
REVENUES = (0, 1, 2, 5, 10, 10.0, 12.5, 0.25, -3, 100, 7.75)
# The same moments written other ISO 8601 ways: compared as moments, not as text.
ISO_TEXTS = ("2026-03-01T12:00:00Z", "2026-03-01T21:00:00+09:00", "2026-03-24T12:00:00.000+00:00")
EVENT_AGES = (
    timedelta(0), timedelta(days=1), timedelta(days=7), timedelta(days=29), timedelta(days=30),
    timedelta(days=30) - MS, timedelta(days=30) + MS, timedelta(days=31), timedelta(days=90),
    timedelta(hours=5), timedelta(days=400), -timedelta(days=1),
)  # fmt: skip
CHANNELS = ("email", "sms")
TOPICS = ("newsletter", "offers")
# Segments that exist in every data set, for `in segment`.
NAMED_SEGMENTS: dict[str, dict[str, Any]] = {
    "Gold": {"trait": "plan", "op": "in", "value": ["gold", "Gold"]},
    "Buyers": {"event": "Order Completed", "agg": "count", "within": {"last": 30, "unit": "days"},
               "op": ">=", "value": 1},
    "Gold buyers": {"and": [{"segment": "Gold"}, {"segment": "Buyers"}]},
}  # fmt: skip


@dataclass
class World:
    """A data set in the database and the same people as the oracle sees them."""

    people: list[OracleProfile]
    field_types: dict[str, str]
    segments: dict[str, dict[str, Any]]


def _profile_spec(rng: random.Random, n: int, seed: int) -> dict[str, Any]:
    traits = {}
    for name, usual in TRAITS.items():
        if rng.random() < 0.7:
            traits[name] = rng.choice(usual if rng.random() < 0.75 else ANYTHING)
    kinds = [kind for kind in KINDS if rng.random() < 0.45] or [rng.choice(KINDS)]
    values = {
        "email": f"person{seed}x{n}@gmail.com",
        "phone": f"+8210{seed % 100:02d}{n:06d}",
        "user_id": f"user-{seed}-{n}",
        "anonymous_id": f"anon-{seed}-{n}",
        "ext:shop": f"shop-{n}",
    }
    created = rng.choice(
        [SIX_MONTHS, SIX_MONTHS - MS, SIX_MONTHS + MS, NOW - timedelta(days=30), NOW + timedelta(hours=1),
         NOW - timedelta(seconds=rng.randrange(2 * 365 * 86400))]
    )  # fmt: skip
    consent = []
    for step in range(rng.randrange(4)):
        expires = rng.choice([None, None, NOW - timedelta(days=1), NOW + timedelta(days=1), NOW])
        consent.append(
            Change(
                channel=rng.choice(CHANNELS),
                topic=rng.choice(("", "", *TOPICS)),
                action=rng.choice(("grant", "grant", "withdraw", "request")),
                legal_basis="implied" if expires else "consent",
                occurred_at=NOW - timedelta(days=10 - step),
                expires_at=expires,
            )
        )
    events = []
    if "user_id" in kinds or "anonymous_id" in kinds:
        who = {"userId": values["user_id"]} if "user_id" in kinds else {"anonymousId": values["anonymous_id"]}
        for number in range(rng.randrange(7)):
            properties: dict[str, Any] = {}
            if rng.random() < 0.7:
                properties["revenue"] = rng.choice(REVENUES if rng.random() < 0.8 else ANYTHING)
            if rng.random() < 0.6:
                properties["plan"] = rng.choice((*TEXTS, "gold ", "") if rng.random() < 0.8 else ANYTHING)
            if rng.random() < 0.4:
                properties["items"] = rng.choice(LISTS)
            if rng.random() < 0.3:
                properties["coupon"] = rng.choice(("", "SPRING", "spring", "봄맞이", None))
            kind = "page" if rng.random() < 0.15 else "track"
            message = {
                "type": kind,
                **who,
                "messageId": f"m-{seed}-{n}-{number}",
                "timestamp": format_datetime(NOW - rng.choice(EVENT_AGES)),
                "properties": properties,
                **({"name": "Pricing"} if kind == "page" else {"event": rng.choice(EVENT_NAMES)}),
            }
            events.append(message)
    return {
        "traits": traits,
        "identities": [(kind, values[kind]) for kind in kinds],
        "created_at": created,
        "consent": consent,
        "events": events,
    }


def build_world(conn: Connection, *, seed: int, size: int = 36) -> list[str]:
    """Write `size` random people (traits, identities, consent, events) and the named segments;
    returns the profile ids."""
    rng = random.Random(seed)
    for key in TOPICS:
        create_topic(conn, {"key": key, "channels": list(CHANNELS)})
    define_field(conn, "renewal", "date")
    specs = [_profile_spec(rng, n, seed) for n in range(size)]
    ids = []
    for spec in specs:
        # The record as written: mixed JSON types per trait, as one import batch can hold them.
        record = prepare_record(
            spec["traits"], spec["identities"], source="crm", field_types={}, default_region="US"
        )
        assert not record.problems, record.problems
        with mock.patch("patron.profiles.writes.utcnow", return_value=spec["created_at"]):
            outcome = upsert_records(conn, [record])
        ids.append(outcome.records[0].profile_id)
    record_many(
        conn, [(pid, change) for pid, spec in zip(ids, specs, strict=True) for change in spec["consent"]]
    )
    messages = [message for spec in specs for message in spec["events"]]
    prepared = prepare(
        messages, source=Source("oracle", mode="allow"), received_at=NOW, rules=DEFAULT_RULES,
        plan=load_checker(conn),
    )  # fmt: skip
    assert not prepared.rejected, prepared.rejected
    store(conn, prepared)
    while process_chunk(conn, rules=DEFAULT_RULES, default_region="US").events:
        pass
    _create_named_segments(conn)
    return ids


def _create_named_segments(conn: Connection) -> None:
    from patron.segments.store import create_segment

    for name, tree in NAMED_SEGMENTS.items():
        create_segment(conn, name=name, tree=tree, now=NOW)


def read_world(conn: Connection, ids: list[str]) -> World:
    """The people as stored, in the oracle's terms."""
    stored = get_profiles(conn, ids)
    consent = states_of(conn, ids)
    people = []
    for pid in ids:
        profile = stored[pid]
        items, _ = timeline(conn, pid, limit=500)
        people.append(
            OracleProfile(
                id=pid,
                traits=profile.traits,
                created_at=profile.created_at,
                updated_at=profile.updated_at,
                identity_kinds=frozenset(identity.kind for identity in profile.identities),
                consent={key: (row.state, row.expires_at) for key, row in consent.get(pid, {}).items()},
                events=tuple(
                    (item["event"], item["properties"], _parse(item["timestamp"])) for item in items
                ),
            )
        )
    return World(people, field_types(conn), dict(NAMED_SEGMENTS))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    """One random data set (the same on both databases), read back for the oracle."""
    with transaction(db.engine) as conn:
        ids = build_world(conn, seed=20260331)
    with db.engine.connect() as conn:
        yield read_world(conn, ids)


def compiled_ids(db: Database, tree: dict[str, Any]) -> set[str]:
    """Ids `patron.segments.compile.matching` selects at NOW."""
    from patron.segments.compile import matching as sql_matching

    with db.engine.connect() as conn:
        return set(conn.execute(sql_matching(conn, tree, now=NOW)).scalars())


def rechecked_ids(db: Database, tree: dict[str, Any], few: list[str]) -> tuple[set[str], set[str]]:
    """The same choice among a few people, as a write re-checks them: through `matching` with
    profile_ids, and through `condition` as a column (what `react` reads)."""
    from patron.segments.compile import condition
    from patron.segments.compile import matching as sql_matching
    from patron.storage.schema import profiles

    with db.engine.connect() as conn:
        chosen = set(conn.execute(sql_matching(conn, tree, now=NOW, profile_ids=few)).scalars())
        held = condition(conn, tree, now=NOW, profile_ids=few).label("held")
        rows = conn.execute(select(profiles.c.id, held).where(profiles.c.id.in_(few))).all()
    return chosen, {pid for pid, is_held in rows if is_held}


def assert_agrees(db: Database, world: World, tree: dict[str, Any]) -> set[str]:
    """The SQL and the oracle choose the same people, over everyone and among a few; returns them."""
    expected = matching(tree, world.people, now=NOW, segments=world.segments, field_types=world.field_types)
    got = compiled_ids(db, tree)
    _same(world, tree, "everyone", got, expected)
    few = sorted(p.id for p in world.people)[::3]
    by_matching, by_condition = rechecked_ids(db, tree, few)
    _same(world, tree, "a few, by matching", by_matching, expected & set(few))
    _same(world, tree, "a few, by condition", by_condition, expected & set(few))
    _same(world, tree, "a few, in memory", in_memory_ids(db, world, tree, few), expected & set(few))
    return got


def in_memory_ids(db: Database, world: World, tree: dict[str, Any], few: list[str]) -> set[str]:
    """The same choice by the real-time path that checks a few people in memory (segments.local)."""
    from patron.segments import local

    trees = {**world.segments, "": tree}
    with db.engine.connect() as conn:
        people = local.load_people(conn, few, local.event_names(trees.values()))
    return {
        pid
        for pid, person in people.items()
        if local.holds(tree, person, now=NOW, trees=world.segments, field_types=world.field_types)
    }


def _same(world: World, tree: dict[str, Any], how: str, got: set[str], expected: set[str]) -> None:
    if got == expected:
        return
    by_id = {p.id: p for p in world.people}
    wrong = [(pid, "extra" if pid in got else "missing", by_id[pid]) for pid in sorted(got ^ expected)][:3]
    raise AssertionError(
        f"{to_text(tree)} ({how})\n{tree}\nSQL and oracle differ on {len(got ^ expected)}: {wrong}"
    )


# ---- trees -------------------------------------------------------------------------------------

relative_values = st.one_of(
    st.just({"now": {}}),
    st.builds(
        lambda sign, amount, unit: {"now": {sign: amount, "unit": unit}},
        st.sampled_from(("minus", "plus")),
        st.sampled_from(AMOUNTS),
        st.sampled_from(UNITS),
    ),
)
plain_scalars = st.one_of(
    st.sampled_from((*NUMBERS, 10.0, 2.0, -0.0)),
    st.integers(-5, 120),
    st.sampled_from((*TEXTS, *DATETIME_TEXTS, *DATE_TEXTS, "lead", "mql", "SPRING", "spring", "")),
    st.text(alphabet="abgGo%_서울 ", min_size=1, max_size=3),
    st.booleans(),
)
# contains takes plain values only: the brief gives it no meaning for a moment relative to now.
scalars = st.one_of(plain_scalars, relative_values)
# Leaves mostly name traits that exist, sometimes one nobody has.
trait_names = st.sampled_from((*TRAITS, "missing_trait"))


@st.composite
def trait_leaves(draw: st.DrawFn) -> dict[str, Any]:
    """A trait condition with any operator and value type."""
    name = draw(trait_names)
    op = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=", "contains", "in", "set", "not_set")))
    if op in ("set", "not_set"):
        return {"trait": name, "op": op}
    if op == "in":
        return {"trait": name, "op": op, "value": draw(st.lists(scalars, min_size=1, max_size=3))}
    if op == "contains":
        value = draw(st.one_of(st.sampled_from((*TEXTS, "old", "울", "%", "_", "a")), plain_scalars))
        return {"trait": name, "op": op, "value": value}
    return {"trait": name, "op": op, "value": draw(scalars)}


@st.composite
def column_leaves(draw: st.DrawFn) -> dict[str, Any]:
    """created_at / updated_at against a moment relative to now."""
    name = draw(st.sampled_from(("created_at", "updated_at")))
    op = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=", "set", "not_set")))
    if op in ("set", "not_set"):
        return {"trait": name, "op": op}
    return {"trait": name, "op": op, "value": draw(relative_values)}


@st.composite
def property_filters(draw: st.DrawFn) -> dict[str, Any]:
    """One `where` filter on an event property."""
    op = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=", "contains")))
    values = plain_scalars if op == "contains" else scalars
    return {
        "property": draw(st.sampled_from(("revenue", "plan", "items", "coupon", "missing"))),
        "op": op,
        "value": draw(st.one_of(st.sampled_from(REVENUES), values)),
    }


@st.composite
def event_leaves(draw: st.DrawFn) -> dict[str, Any]:
    """count/sum/first/last of an event, with filters and a window."""
    agg = draw(st.sampled_from(("count", "sum", "first", "last")))
    node: dict[str, Any] = {"event": draw(st.sampled_from((*EVENT_NAMES, "Never Happened"))), "agg": agg}
    if agg == "sum":
        node["property"] = draw(st.sampled_from(("revenue", "revenue", "plan", "items", "missing")))
    filters = draw(st.lists(property_filters(), max_size=2))
    if filters:
        node["where"] = filters
    if draw(st.booleans()):
        node["within"] = {"last": draw(st.sampled_from(AMOUNTS)), "unit": draw(st.sampled_from(UNITS))}
    node["op"] = draw(st.sampled_from(("=", "!=", ">", ">=", "<", "<=")))
    if agg in ("count", "sum"):
        node["value"] = draw(
            st.one_of(st.integers(0, 4), st.sampled_from(REVENUES), st.sampled_from((12.5, 20)))
        )
    else:
        node["value"] = draw(st.one_of(relative_values, st.sampled_from((*DATETIME_TEXTS, *ISO_TEXTS))))
    return node


leaves = st.one_of(
    trait_leaves(),
    trait_leaves(),
    column_leaves(),
    event_leaves(),
    event_leaves(),
    st.builds(lambda kind: {"identity": kind}, st.sampled_from((*KINDS, "ext:crm"))),
    st.builds(
        lambda channel, topic: {"subscribed": {"channel": channel, "topic": topic}},
        st.sampled_from(("email", "sms", "push")),
        st.sampled_from(("", "", *TOPICS)),
    ),
    st.builds(lambda name: {"segment": name}, st.sampled_from(tuple(NAMED_SEGMENTS))),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda parts: {"and": parts}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda parts: {"or": parts}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees)
def test_compiled_segments_choose_whom_the_oracle_chooses(
    db: Database, world: World, tree: dict[str, Any]
) -> None:
    check_tree(tree)
    assert_agrees(db, world, tree)


# ---- one case per operator ---------------------------------------------------------------------


# Written in the text form (parsed by patron.segments.parse); each text names its case.
OPERATOR_CASES = (
    "score = 10", "score = 0.1", "score != 10", "score > 2", "score >= 2", "score < 2.5", "score <= 0",
    'plan = "gold"', 'plan != "gold"', 'plan > "a"', 'plan < "a"', 'note >= "김"', 'plan = "10"',
    "vip = true", "vip != false", "vip > false", "vip < true",
    "seen_at > now - 30 days", "seen_at >= now - 6 months", "seen_at < now",
    "birthday <= now - 18 years", "renewal = now - 6 months", "renewal > now - 1 month",
    "created_at > now - 6 months", "created_at >= now - 6 months", "created_at < now - 30 days",
    "created_at = now - 30 days", "updated_at <= now + 2 hours", "created_at is set",
    'plan contains "old"', 'plan contains "G"', 'plan contains "%"', 'plan contains "_"',
    'note contains "울"', 'tags contains "gold"', "tags contains 1", "tags contains true",
    "tags contains false", "tags contains 1.5",
    'plan in ["gold", 10, true]', "score in [0, 1, 2.5]", "plan is set", "plan is not set",
    'missing_trait != "x"', "lead_score >= 10", 'lead_stage = "mql"',
    "has email", "has ext:shop", "has ext:crm",
    "subscribed(email)", "subscribed(sms)", 'subscribed(email, "newsletter")', 'subscribed(sms, "offers")',
    'count(event "Order Completed") >= 2', 'count(event "Order Completed") = 0',
    'count(event "Order Completed" in last 30 days) < 1', 'count(event "Pricing") >= 1',
    'count(event "주문 완료") > 0', 'count(event "Order Completed" in last 1 month) >= 1',
    'count(event "Order Completed" where revenue > 5) >= 1',
    'count(event "Order Completed" where plan = "gold") >= 1',
    'count(event "Order Completed" where items contains "a") >= 1',
    'count(event "Page Viewed" where coupon != "SPRING") = 0',
    'count(event "Order Completed" where coupon = "" and revenue >= 0) >= 1',
    'count(event "Order Completed") != "1"',
    'sum(revenue of event "Order Completed") >= 10', 'sum(revenue of event "Order Completed") = 0',
    'sum(revenue of event "Order Completed" in last 30 days) < 12.5',
    'sum(plan of event "Order Completed") = 0',
    'first(event "Order Completed") < now - 7 days', 'last(event "Order Completed") >= now - 30 days',
    f'last(event "Page Viewed") > "{format_datetime(THIRTY_DAYS)}"',
    'first(event "Order Completed") != now - 30 days',
    'last(event "Order Completed") >= "2026-03-01T21:00:00+09:00"',
    'first(event "Order Completed") <= "2026-03-01T12:00:00Z"',
    "score = 10.0", 'count(event "Order Completed" where revenue = 10) >= 1',
    'count(event "Order Completed" where plan = "gold ") >= 1',
    'not count(event "Order Completed") >= 1', 'not plan = "gold"', "not plan is not set",
    "has email and score > 1", "has phone or vip = true",
    'not (plan = "gold" or subscribed(email))',
    'in segment "Gold"', 'in segment "Gold buyers"', 'not in segment "Buyers"',
)  # fmt: skip


def test_each_operator_agrees_with_the_oracle(db: Database, world: World) -> None:
    """Every case runs over the one data set; the failure lists the operators that disagree."""
    disagreements = []
    for label in OPERATOR_CASES:
        tree = parse(label)
        try:
            assert_agrees(db, world, tree)
        except AssertionError as exc:
            disagreements.append(f"[{label}] {exc}")
    assert not disagreements, "\n\n".join(disagreements)


def test_the_data_set_separates_people(db: Database, world: World) -> None:
    """Most explicit cases pick some people and leave others: the comparisons above are not vacuous."""
    types = world.field_types
    sizes = {
        text: len(matching(parse(text), world.people, now=NOW, segments=world.segments, field_types=types))
        for text in OPERATOR_CASES
    }
    everyone = len(world.people)
    separating = [label for label, size in sizes.items() if 0 < size < everyone]
    assert len(separating) >= len(sizes) * 0.7, sizes
    assert world.field_types.get("birthday") == "date" and world.field_types.get("renewal") == "date"


def test_whole_numbers_beyond_double_precision_compare_exactly(db: Database) -> None:
    """2**53 + 1 is not 2**53: a comparison through float8 would say it is."""
    with transaction(db.engine) as conn:
        ids = {}
        for number in (2**53, 2**53 + 1):
            record = prepare_record(
                {"score": number},
                [("user_id", f"u{number}")],
                source="crm",
                field_types={},
                default_region="US",
            )
            ids[number] = upsert_records(conn, [record]).records[0].profile_id
    assert compiled_ids(db, parse(f"score = {2**53}")) == {ids[2**53]}
    assert compiled_ids(db, parse(f"score > {2**53}")) == {ids[2**53 + 1]}
