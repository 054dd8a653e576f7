"""Who is in each segment, kept current as the data changes.

- `evaluate`: one segment, everyone (on save, and when its definition changes).
- `react`: every segment, only the people a write touched (events, traits, consent), in one
  query that checks all segments at once.
- `cross_boundaries`: people whose time-relative conditions ("in last 30 days", "created_at >
  now - 6 months") changed truth since the last check, found from the boundary itself, not by
  re-checking everyone.

Each stay is a row (entered_at, exited_at); each entry and exit after the first fill is also an
event ("Segment Entered" / "Segment Exited", type "segment") that journeys trigger on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    String,
    and_,
    cast,
    func,
    or_,
    select,
    type_coerce,
    union,
    update,
)

from patron.errors import Invalid
from patron.fields.definitions import field_types
from patron.fields.types import format_datetime
from patron.profiles.queries import Profile, get_profiles
from patron.segments import local
from patron.segments.compile import PROFILE_COLUMNS, condition, is_relative, matching, moment
from patron.segments.store import get_segment, walk
from patron.storage.bulk import driver_datetime, driver_json, in_values, insert_many
from patron.storage.ids import new_ids
from patron.storage.schema import consent_states, events, profiles, segment_memberships
from patron.storage.schema import segments as segments_table
from patron.storage.traits import trait_text
from patron.storage.types import utcnow

log = logging.getLogger("patron.segments")
ENTERED, EXITED = "Segment Entered", "Segment Exited"
EVENT_TYPE = "segment"
SOURCE = "patron"
CHUNK = 2000
# Up to this many people are re-checked in memory (patron.segments.local), more in SQL.
LOCAL_MAX = 50
_EVENT_COLUMNS = ("profile_id", "source", "message_id", "type", "event", "properties", "context",
                  "timestamp", "received_at")  # fmt: skip
_MEMBER_COLUMNS = ("segment_id", "profile_id", "entered_at")


@dataclass
class Changes:
    """Entries and exits, per segment id."""

    entered: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    exited: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))

    def merge(self, other: Changes) -> None:
        """Add another run's changes to these."""
        for segment_id, ids in other.entered.items():
            self.entered[segment_id].extend(ids)
        for segment_id, ids in other.exited.items():
            self.exited[segment_id].extend(ids)

    def as_dict(self) -> dict[str, int]:
        """Counts, for job results and the CLI."""
        return {
            "entered": sum(len(v) for v in self.entered.values()),
            "exited": sum(len(v) for v in self.exited.values()),
        }


@dataclass(frozen=True, slots=True)
class _Live:
    id: int
    name: str
    tree: dict[str, Any]


def _live_segments(conn: Connection) -> list[_Live]:
    rows = conn.execute(select(segments_table.c.id, segments_table.c.name, segments_table.c.tree))
    return [_Live(row.id, row.name, row.tree) for row in rows]


def _resolver(live: Sequence[_Live]) -> Any:
    trees = {segment.name: segment.tree for segment in live}

    def resolve(name: str) -> dict[str, Any]:
        if name not in trees:
            raise Invalid(f'there is no segment named "{name}"', field="definition")
        return trees[name]

    return resolve


def evaluate(conn: Connection, segment_id: int, *, now: datetime | None = None) -> Changes:
    """Re-check everyone against one segment; the first fill records no entry events."""
    now = now or utcnow()
    segment = get_segment(conn, segment_id)
    live = _live_segments(conn)
    matched = set(conn.execute(matching(conn, segment.tree, now=now, resolve=_resolver(live))).scalars())
    current = set(
        conn.execute(
            select(segment_memberships.c.profile_id).where(
                segment_memberships.c.segment_id == segment_id, segment_memberships.c.exited_at.is_(None)
            )
        ).scalars()
    )
    changes = Changes()
    changes.entered[segment_id] = sorted(matched - current)
    changes.exited[segment_id] = sorted(current - matched)
    _apply(conn, changes, {segment_id: segment.name}, now, record_events=segment.evaluated_at is not None)
    conn.execute(update(segments_table).where(segments_table.c.id == segment_id).values(evaluated_at=now))
    return changes


def react(
    conn: Connection,
    profile_ids: Iterable[str],
    *,
    now: datetime | None = None,
    only: Sequence[int] | None = None,
) -> Changes:
    """Re-check these people against every segment (or the `only` ones) and record what changed."""
    now = now or utcnow()
    ids = sorted(set(profile_ids))
    changes = Changes()
    if not ids:
        return changes
    live = _live_segments(conn)
    if only is not None:
        wanted = set(only)
        checked = [segment for segment in live if segment.id in wanted]
    else:
        checked = live
    if not checked:
        return changes
    resolve = _resolver(live)
    size = LOCAL_MAX if len(ids) <= LOCAL_MAX else CHUNK
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if len(chunk) <= LOCAL_MAX:
            usable, matched = _matched_in_memory(conn, checked, live, chunk, now)
        else:
            usable, matched = _matched_in_sql(conn, checked, resolve, chunk, now)
        if not usable:
            return changes
        current = {
            (row.segment_id, row.profile_id)
            for row in conn.execute(
                select(segment_memberships.c.segment_id, segment_memberships.c.profile_id).where(
                    in_values(conn, segment_memberships.c.profile_id, chunk),
                    segment_memberships.c.exited_at.is_(None),
                    segment_memberships.c.segment_id.in_([s.id for s in usable]),
                )
            )
        }
        step = Changes()
        for segment_id, profile_id in sorted(matched - current):
            step.entered[segment_id].append(profile_id)
        for segment_id, profile_id in sorted(current - matched):
            step.exited[segment_id].append(profile_id)
        _apply(conn, step, {s.id: s.name for s in usable}, now, record_events=True)
        changes.merge(step)
    return changes


def _matched_in_sql(
    conn: Connection, checked: Sequence[_Live], resolve: Any, chunk: Sequence[str], now: datetime
) -> tuple[list[_Live], set[tuple[int, str]]]:
    """(segments that could be checked, (segment id, profile id) that hold): one statement for all."""
    columns = []
    usable: list[_Live] = []
    for segment in checked:
        try:
            columns.append(condition(conn, segment.tree, now=now, profile_ids=chunk, resolve=resolve))
            usable.append(segment)
        except Invalid as exc:  # a definition broken by a later change must not stop the rest
            log.warning("segment %s (%s) cannot be evaluated: %s", segment.id, segment.name, exc)
    if not usable:
        return usable, set()
    query = select(profiles.c.id, *(c.label(f"s{n}") for n, c in enumerate(columns))).where(
        in_values(conn, profiles.c.id, chunk)
    )
    matched = {
        (segment.id, row[0])
        for row in conn.execute(query)
        for segment, held in zip(usable, row[1:], strict=True)
        if held
    }
    return usable, matched


def _matched_in_memory(
    conn: Connection, checked: Sequence[_Live], live: Sequence[_Live], chunk: Sequence[str], now: datetime
) -> tuple[list[_Live], set[tuple[int, str]]]:
    """The same answer for a few people, from their data read once (patron.segments.local)."""
    trees = {segment.name: segment.tree for segment in live}
    people = local.load_people(conn, chunk, local.event_names(trees.values()))
    types = field_types(conn) if _asks_dates(trees.values()) else {}
    usable: list[_Live] = []
    matched: set[tuple[int, str]] = set()
    for segment in checked:
        try:
            holding = [
                pid for pid, person in people.items()
                if local.holds(segment.tree, person, now=now, trees=trees, field_types=types)
            ]  # fmt: skip
        except Invalid as exc:
            log.warning("segment %s (%s) cannot be evaluated: %s", segment.id, segment.name, exc)
            continue
        usable.append(segment)
        matched.update((segment.id, pid) for pid in holding)
    return usable, matched


def _asks_dates(trees: Iterable[dict[str, Any]]) -> bool:
    """Whether any trait is compared with a moment (a date-typed trait then compares as a date)."""
    return any(
        "trait" in node
        and any(is_relative(v) for v in (node["value"] if node["op"] == "in" else [node.get("value")]))
        for tree in trees
        for node in walk(tree)
    )


def _apply(
    conn: Connection, changes: Changes, names: dict[int, str], now: datetime, *, record_events: bool
) -> None:
    at = driver_datetime(conn, now)
    rows = [(sid, pid, at) for sid, pids in changes.entered.items() for pid in pids]
    insert_many(conn, segment_memberships, _MEMBER_COLUMNS, rows)
    for segment_id, pids in changes.exited.items():
        for start in range(0, len(pids), CHUNK):
            conn.execute(
                update(segment_memberships)
                .where(
                    segment_memberships.c.segment_id == segment_id,
                    segment_memberships.c.exited_at.is_(None),
                    in_values(conn, segment_memberships.c.profile_id, pids[start : start + CHUNK]),
                )
                .values(exited_at=now)
            )
    for segment_id in set(changes.entered) | set(changes.exited):
        delta = len(changes.entered.get(segment_id, ())) - len(changes.exited.get(segment_id, ()))
        if delta:
            conn.execute(
                update(segments_table)
                .where(segments_table.c.id == segment_id)
                .values(member_count=segments_table.c.member_count + delta)
            )
    if record_events:
        _record_events(conn, changes, names, now)


def _record_events(conn: Connection, changes: Changes, names: dict[int, str], now: datetime) -> None:
    at = driver_datetime(conn, now)
    wanted = [
        (kind, segment_id, pid)
        for kind, per_segment in ((ENTERED, changes.entered), (EXITED, changes.exited))
        for segment_id, pids in per_segment.items()
        for pid in pids
    ]
    if not wanted:
        return
    message_ids = new_ids(len(wanted))
    rows = [
        (
            pid,
            SOURCE,
            f"segment-{message_id}",
            EVENT_TYPE,
            kind,
            driver_json({"segment_id": segment_id, "segment": names[segment_id]}),
            "{}",
            at,
            at,
        )
        for (kind, segment_id, pid), message_id in zip(wanted, message_ids, strict=True)
    ]
    insert_many(conn, events, _EVENT_COLUMNS, rows)


def forget(conn: Connection, profile_ids: Sequence[str]) -> None:
    """Before profiles are deleted (their stays go with them): take them out of segment counts."""
    for start in range(0, len(profile_ids), CHUNK):
        open_stays = conn.execute(
            select(segment_memberships.c.segment_id, func.count())
            .where(
                in_values(conn, segment_memberships.c.profile_id, profile_ids[start : start + CHUNK]),
                segment_memberships.c.exited_at.is_(None),
            )
            .group_by(segment_memberships.c.segment_id)
        ).all()
        for segment_id, count in open_stays:
            conn.execute(
                update(segments_table)
                .where(segments_table.c.id == segment_id)
                .values(member_count=segments_table.c.member_count - count)
            )


# -- time boundaries ---------------------------------------------------------------------------


def cross_boundaries(conn: Connection, *, now: datetime | None = None) -> Changes:
    """Re-check the people whose time-relative conditions may have changed since each segment's
    last check: a qualifying event leaving its window, a date trait passing `now - 6 months`."""
    now = now or utcnow()
    live = _live_segments(conn)
    resolve = _resolver(live)
    changes = Changes()
    checked_at = dict(conn.execute(select(segments_table.c.id, segments_table.c.evaluated_at)).all())
    for segment in live:
        since = checked_at.get(segment.id)
        if since is None or since >= now:
            continue
        try:
            leaves = list(_time_leaves(segment.tree, resolve, []))
        except Invalid:
            continue
        if not leaves:
            continue
        candidates = _crossing(conn, leaves, since, now)
        ids = list(conn.execute(candidates).scalars()) if candidates is not None else []
        if ids:
            changes.merge(react(conn, ids, now=now, only=[segment.id]))
        conn.execute(update(segments_table).where(segments_table.c.id == segment.id).values(evaluated_at=now))
    return changes


def _time_leaves(tree: dict[str, Any], resolve: Any, seen: list[str]) -> Iterable[dict[str, Any]]:
    """The conditions of a tree (references followed) whose truth can change with time alone."""
    for node in walk(tree):
        if "segment" in node:
            if node["segment"] in seen:
                continue
            yield from _time_leaves(resolve(node["segment"]), resolve, [*seen, node["segment"]])
        elif "subscribed" in node:
            yield node  # an implied consent lapses at its expiry
        elif "event" in node:
            if (
                node.get("within")
                or is_relative(node.get("value"))
                or any(is_relative(f.get("value")) for f in node.get("where") or ())
            ):
                yield node
        elif "trait" in node:
            values = node.get("value") if node.get("op") == "in" else [node.get("value")]
            if any(is_relative(v) for v in values or ()):
                yield node


def _crossing(conn: Connection, leaves: list[dict[str, Any]], since: datetime, now: datetime) -> Any:
    """SELECT of profile ids with a boundary in (since, now] for any of the leaves."""
    selects = []
    for node in leaves:
        if "subscribed" in node:
            selects.append(
                select(consent_states.c.profile_id).where(
                    consent_states.c.channel == node["subscribed"]["channel"],
                    consent_states.c.expires_at > since,
                    consent_states.c.expires_at <= now,
                )
            )
        elif "event" in node:
            selects.extend(_event_crossings(node, since, now))
        else:
            values = node["value"] if node["op"] == "in" else [node["value"]]
            for value in values:
                if is_relative(value):
                    selects.append(_trait_crossing(conn, node["trait"], value["now"], since, now))
    if not selects:
        return None
    return union(*selects) if len(selects) > 1 else selects[0]


def _span(relative: dict[str, Any], since: datetime, now: datetime) -> tuple[datetime, datetime]:
    a, b = moment(relative, since), moment(relative, now)
    return (a, b) if a <= b else (b, a)


def _event_crossings(node: dict[str, Any], since: datetime, now: datetime) -> list[Any]:
    named = and_(events.c.event == node["event"], events.c.profile_id.is_not(None))
    found = []
    relatives = []
    if node.get("within"):
        relatives.append({"minus": node["within"]["last"], "unit": node["within"]["unit"]})
    if is_relative(node.get("value")):
        relatives.append(node["value"]["now"])
    relatives += [f["value"]["now"] for f in node.get("where") or () if is_relative(f.get("value"))]
    for relative in relatives:
        low, high = _span(relative, since, now)
        found.append(
            select(events.c.profile_id).where(named, events.c.timestamp >= low, events.c.timestamp <= high)
        )
    if any(is_relative(f.get("value")) for f in node.get("where") or ()):
        # A property compared with now: any such event may flip; re-check everyone having one.
        found.append(select(events.c.profile_id).where(named))
    return found


def _trait_crossing(
    conn: Connection, name: str, relative: dict[str, Any], since: datetime, now: datetime
) -> Any:
    low, high = _span(relative, since, now)
    if name in PROFILE_COLUMNS:
        column = PROFILE_COLUMNS[name]
        return select(profiles.c.id).where(column >= low, column <= high)
    text = trait_text(conn.dialect.name, name)
    if conn.dialect.name == "postgresql":  # ranges of ISO text in byte order, whatever the collation
        text = type_coerce(text, String).collate("C")
    # Datetime text, or a bare date: both sort by time, so one range covers both forms.
    return select(profiles.c.id).where(
        or_(
            and_(text >= format_datetime(low), text <= format_datetime(high)),
            and_(text >= low.date().isoformat(), text <= high.date().isoformat()),
        )
    )


# -- reading -----------------------------------------------------------------------------------


def members(
    conn: Connection, segment_id: int, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[str], str | None]:
    """Current members' profile ids in id order, a page at a time, and the cursor of the next."""
    get_segment(conn, segment_id)
    query = (
        select(segment_memberships.c.profile_id)
        .where(segment_memberships.c.segment_id == segment_id, segment_memberships.c.exited_at.is_(None))
        .order_by(segment_memberships.c.profile_id)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(segment_memberships.c.profile_id > cursor)
    ids = list(conn.execute(query).scalars())
    return ids[:limit], (ids[limit - 1] if len(ids) > limit else None)


def iter_members(conn: Connection, segment_id: int, *, batch_size: int = 1000) -> Iterator[Profile]:
    """The segment's current members as profiles, a page at a time (constant memory)."""
    cursor: str | None = None
    while True:
        ids, cursor = members(conn, segment_id, cursor=cursor, limit=batch_size)
        found = get_profiles(conn, ids)
        yield from (found[profile_id] for profile_id in ids if profile_id in found)
        if not cursor:
            return


def member_ids(conn: Connection, segment_id: int) -> list[str]:
    """Every current member's profile id."""
    return list(
        conn.execute(
            select(segment_memberships.c.profile_id).where(
                segment_memberships.c.segment_id == segment_id, segment_memberships.c.exited_at.is_(None)
            )
        ).scalars()
    )


def size_history(
    conn: Connection, segment_id: int, *, days: int = 90, now: datetime | None = None
) -> list[tuple[date, int]]:
    """Members at the end of each of the last `days` days (today last)."""
    now = now or utcnow()
    get_segment(conn, segment_id)
    first = (now - timedelta(days=days - 1)).date()
    per_day: dict[date, int] = defaultdict(int)
    start = 0
    for column, sign in ((segment_memberships.c.entered_at, 1), (segment_memberships.c.exited_at, -1)):
        day = cast(column, Date) if conn.dialect.name == "postgresql" else func.date(column)
        rows = conn.execute(
            select(day.label("day"), func.count())
            .where(segment_memberships.c.segment_id == segment_id, column.is_not(None))
            .group_by(day)
        ).all()
        for when, count in rows:
            when = date.fromisoformat(when) if isinstance(when, str) else when
            if when < first:
                start += sign * count
            else:
                per_day[when] += sign * count
    history = []
    size = start
    for offset in range(days):
        day = first + timedelta(days=offset)
        size += per_day.get(day, 0)
        history.append((day, size))
    return history


def segments_of(conn: Connection, profile_id: str) -> list[dict[str, Any]]:
    """The segments a person is in now, with when they entered."""
    rows = conn.execute(
        select(segments_table.c.id, segments_table.c.name, segment_memberships.c.entered_at)
        .join(segments_table, segments_table.c.id == segment_memberships.c.segment_id)
        .where(segment_memberships.c.profile_id == profile_id, segment_memberships.c.exited_at.is_(None))
        .order_by(segments_table.c.name)
    )
    return [{"id": r.id, "name": r.name, "entered_at": r.entered_at.isoformat()} for r in rows]


def recent_changes(conn: Connection, segment_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest entries and exits of a segment, newest first."""
    moment_of = func.coalesce(segment_memberships.c.exited_at, segment_memberships.c.entered_at)
    rows = conn.execute(
        select(
            segment_memberships.c.profile_id,
            segment_memberships.c.entered_at,
            segment_memberships.c.exited_at,
        )
        .where(segment_memberships.c.segment_id == segment_id)
        .order_by(moment_of.desc(), segment_memberships.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "profile_id": r.profile_id,
            "change": "exited" if r.exited_at else "entered",
            "at": (r.exited_at or r.entered_at).isoformat(),
        }
        for r in rows
    ]
