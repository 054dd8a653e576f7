"""Opt-in, opt-down and unsubscribe rates per topic over time, and current counts per state.

Everything is read from the ledger with window functions, so the figures are the ledger's and
need no counters kept in step. A topic's "subscribers" are the people whose topic-level state
is subscribed (consent_states' meaning; the ledger replayed agrees with it); rates are events in
a period per 100 subscribers at the period's start.

What the figures leave out, on purpose: people who never answered an opt-out topic are mailed
but are not "subscribers"; a channel-wide unsubscribe counts as an unsubscribe from each topic
the person had, yet leaves their topic states (and so the subscriber count) as they were, as
consent_states does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from patron.consent.model import (
    CONFIRM,
    CONSENT_ACTIONS,
    EXPIRE,
    FREQUENCY,
    FREQUENCY_RANK,
    GLOBAL,
    GRANT,
    NONE,
    PENDING,
    REQUEST,
    STATES,
    SUBSCRIBED,
    UNSUBSCRIBED,
    WITHDRAW,
)
from patron.consent.topics import list_topics
from patron.errors import Invalid
from patron.storage.schema import consent_ledger, consent_states, profiles, topics
from patron.storage.types import utcnow

UNITS = ("week", "month")
MAX_PERIODS = 120
# Actions that leave a (channel, topic) subscribed.
ON = (GRANT, CONFIRM)


@dataclass(frozen=True, slots=True)
class PeriodRates:
    """One topic's movements in one week or month."""

    start: date
    subscribers: int  # at the period's start
    opt_ins: int
    opt_downs: int
    unsubscribes: int

    def rate(self, count: int) -> float | None:
        """`count` per 100 subscribers at the start; None when there were none."""
        return round(100 * count / self.subscribers, 2) if self.subscribers else None

    @property
    def opt_in_rate(self) -> float | None:
        """New subscriptions per 100 subscribers."""
        return self.rate(self.opt_ins)

    @property
    def opt_down_rate(self) -> float | None:
        """Subscribers who lowered their frequency, per 100."""
        return self.rate(self.opt_downs)

    @property
    def unsubscribe_rate(self) -> float | None:
        """Subscribers who left, per 100."""
        return self.rate(self.unsubscribes)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "start": self.start.isoformat(),
            "subscribers": self.subscribers,
            "opt_ins": self.opt_ins,
            "opt_downs": self.opt_downs,
            "unsubscribes": self.unsubscribes,
            "opt_in_rate": self.opt_in_rate,
            "opt_down_rate": self.opt_down_rate,
            "unsubscribe_rate": self.unsubscribe_rate,
        }


def period_starts(unit: str, count: int, now: datetime) -> list[date]:
    """The first days of the last `count` weeks (Monday) or months, oldest first, `now`'s included."""
    if unit not in UNITS:
        raise Invalid(f"unit must be week or month, not {unit!r}", field="unit")
    if not 1 <= count <= MAX_PERIODS:
        raise Invalid(f"periods must be between 1 and {MAX_PERIODS}, not {count}", field="periods")
    today = now.astimezone(UTC).date()
    if unit == "week":
        this = today - timedelta(days=today.weekday())
        return [this - timedelta(weeks=back) for back in range(count - 1, -1, -1)]
    starts = []
    year, month = today.year, today.month
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def period_of(day: date, unit: str) -> date:
    """The first day of the week (Monday) or month holding `day`."""
    return day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)


def topic_rates(
    conn: Connection,
    *,
    unit: str = "month",
    periods: int = 12,
    channel: str = "email",
    now: datetime | None = None,
) -> dict[str, list[PeriodRates]]:
    """Per offered topic, oldest period first: subscribers at the start, opt-ins (grants and
    confirmations that made a subscription), opt-downs (a lower frequency chosen by a subscriber)
    and unsubscribes (topic withdrawals, and channel-wide ones for every topic the person had)."""
    starts = period_starts(unit, periods, now or utcnow())
    since = datetime.combine(starts[0], datetime.min.time(), tzinfo=UTC)
    steps = _steps(channel)
    changes = _changes(steps)
    keys = [t.key for t in list_topics(conn) if channel in t.channels]

    moves: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    baseline: dict[str, int] = defaultdict(int)

    def add(rows: Any, *names: str) -> None:
        for topic, day, *counts in rows:
            for name, count in zip(names, counts, strict=True):
                moves[(topic, period_of(_as_date(day), unit))][name] += int(count or 0)

    # Subscriptions made and ended per day in the window; before it, only the net count matters.
    day = case((changes.c.occurred_at < since, ""), else_=_day(conn, changes.c.occurred_at))
    flips = (
        select(changes.c.topic, day, func.sum(changes.c.is_on), func.sum(1 - changes.c.is_on))
        .where(changes.c.topic != GLOBAL)
        .group_by(changes.c.topic, day)
    )
    for topic, when, ons, offs in conn.execute(flips):
        if when:
            add([(topic, when, ons, offs)], "ons", "offs")
        else:
            baseline[topic] = int(ons or 0) - int(offs or 0)
    add(conn.execute(_unsubscribes(conn, steps, changes, since)), "unsubscribes")
    add(conn.execute(_opt_downs(conn, changes, channel, since)), "opt_downs")

    result: dict[str, list[PeriodRates]] = {}
    for key in keys:
        running = baseline[key]
        series = []
        for start in starts:
            seen = moves.get((key, start), {})
            series.append(
                PeriodRates(
                    start=start,
                    subscribers=max(running, 0),
                    opt_ins=seen.get("ons", 0),
                    opt_downs=seen.get("opt_downs", 0),
                    unsubscribes=seen.get("unsubscribes", 0),
                )
            )
            running += seen.get("ons", 0) - seen.get("offs", 0)
        result[key] = series
    return result


def summary(conn: Connection, *, channel: str = "email") -> dict[str, dict[str, int]]:
    """Per offered topic: how many people are subscribed, unsubscribed, pending, or never asked."""
    total = conn.execute(select(func.count()).select_from(profiles)).scalar_one()
    counted: dict[str, dict[str, int]] = defaultdict(dict)
    query = (
        select(consent_states.c.topic, consent_states.c.state, func.count())
        .where(consent_states.c.channel == channel, consent_states.c.topic != GLOBAL)
        .group_by(consent_states.c.topic, consent_states.c.state)
    )
    for topic, state, count in conn.execute(query):
        counted[topic][state] = count
    result = {}
    for topic in list_topics(conn):
        if channel not in topic.channels:
            continue
        seen = counted.get(topic.key, {})
        row = {state: seen.get(state, 0) for state in STATES}
        # "none" also covers everyone with no row at all: never asked.
        row[NONE] = total - row[SUBSCRIBED] - row[UNSUBSCRIBED] - row[PENDING]
        result[topic.key] = row
    return result


def channel_summary(conn: Connection, *, channel: str = "email") -> dict[str, int]:
    """The channel-wide states ("unsubscribe from all") with everyone else as none."""
    total = conn.execute(select(func.count()).select_from(profiles)).scalar_one()
    query = (
        select(consent_states.c.state, func.count())
        .where(consent_states.c.channel == channel, consent_states.c.topic == GLOBAL)
        .group_by(consent_states.c.state)
    )
    seen = dict(conn.execute(query).all())
    row = {state: seen.get(state, 0) for state in STATES}
    row[NONE] = total - row[SUBSCRIBED] - row[UNSUBSCRIBED] - row[PENDING]
    return row


def _steps(channel: str) -> Subquery:
    """Ledger rows that can move a subscription, each with the action before it on the same topic.

    Requests are left out: a pending person is no subscriber, and a request by a subscriber
    leaves them subscribed. An expiry counts only when it lapses an expiring grant (implied
    consent); one that lapses a request returns the person to where they were before it.
    """
    key = (consent_ledger.c.profile_id, consent_ledger.c.channel, consent_ledger.c.topic)
    order = (consent_ledger.c.occurred_at, consent_ledger.c.id)
    every = (
        select(
            consent_ledger.c.id,
            consent_ledger.c.profile_id,
            consent_ledger.c.channel,
            consent_ledger.c.topic,
            consent_ledger.c.action,
            consent_ledger.c.occurred_at,
            func.lag(consent_ledger.c.action).over(partition_by=key, order_by=order).label("before"),
            func.lag(consent_ledger.c.expires_at).over(partition_by=key, order_by=order).label("lapsing"),
        )
        .where(consent_ledger.c.channel == channel, consent_ledger.c.action.in_(CONSENT_ACTIONS))
        .subquery("every_step")
    )
    kept = and_(
        every.c.action != REQUEST,
        or_(every.c.action != EXPIRE, and_(every.c.before == GRANT, every.c.lapsing.is_not(None))),
    )
    key = (every.c.profile_id, every.c.channel, every.c.topic)
    order = (every.c.occurred_at, every.c.id)
    return (
        select(
            every.c.id,
            every.c.profile_id,
            every.c.channel,
            every.c.topic,
            every.c.action,
            every.c.occurred_at,
            func.lag(every.c.action)
            .over(partition_by=key, order_by=(every.c.occurred_at, every.c.id))
            .label("prev"),
        )
        .where(kept)
        .subquery("steps")
    )


def _is_on(action: ColumnElement[Any]) -> ColumnElement[int]:
    return case((action.in_(ON), 1), else_=0)


def _changes(steps: Subquery) -> Subquery:
    """The steps where a topic became subscribed (is_on 1) or stopped being so (is_on 0): a
    repeated grant or a withdrawal by someone not subscribed changes nothing."""
    return (
        select(steps, _is_on(steps.c.action).label("is_on"))
        .where(_is_on(steps.c.action) != _is_on(steps.c.prev))
        .subquery("changes")
    )


def _subscribed_at(changes: Subquery, moments: Select[Any]) -> Subquery:
    """(profile_id, topic, occurred_at) for each moment (rows of id, profile_id, occurred_at) and
    each topic the person was subscribed to at that moment.

    No join on time ranges (a nested loop over every pair): each moment is laid into each topic's
    timeline of changes, and a running count of changes tells the state, since changes alternate
    and the first one always subscribes.
    """
    marks = moments.subquery("moments")
    keys = select(topics.c.key.label("topic")).subquery("topic_keys")
    timeline = union_all(
        select(
            changes.c.id,
            changes.c.profile_id,
            changes.c.topic,
            changes.c.occurred_at,
            literal(1, Integer).label("is_change"),
        ).where(changes.c.topic != GLOBAL),
        select(
            marks.c.id, marks.c.profile_id, keys.c.topic, marks.c.occurred_at, literal(0, Integer)
        ).select_from(marks.join(keys, true())),
    ).subquery("timeline")
    counted = select(
        timeline,
        func.sum(timeline.c.is_change)
        .over(
            partition_by=(timeline.c.profile_id, timeline.c.topic),
            order_by=(timeline.c.occurred_at, timeline.c.id),
        )
        .label("changes_so_far"),
    ).subquery("counted")
    return (
        select(counted.c.profile_id, counted.c.topic, counted.c.occurred_at)
        .where(counted.c.is_change == 0, counted.c.changes_so_far % 2 == 1)
        .subquery("subscribed_then")
    )


def _unsubscribes(conn: Connection, steps: Subquery, changes: Subquery, since: datetime) -> Any:
    """(topic, day, people): withdrawals from a topic by anyone not already unsubscribed, and
    channel-wide withdrawals counted once for each topic the person was subscribed to then."""
    fresh = and_(
        steps.c.action == WITHDRAW,
        or_(steps.c.prev.is_(None), steps.c.prev != WITHDRAW),
        steps.c.occurred_at >= since,
    )
    from_topic = select(steps.c.profile_id, steps.c.topic, steps.c.occurred_at).where(
        fresh, steps.c.topic != GLOBAL
    )
    leaving_all = select(steps.c.id, steps.c.profile_id, steps.c.occurred_at).where(
        fresh, steps.c.topic == GLOBAL
    )
    through_all = _subscribed_at(changes, leaving_all)
    both = union_all(from_topic, select(through_all)).subquery("unsubscribes")
    # One person leaving a topic twice in a day (its own withdrawal and "unsubscribe from all")
    # is one unsubscribe.
    day = _day(conn, both.c.occurred_at)
    return select(both.c.topic, day, func.count(distinct(both.c.profile_id))).group_by(both.c.topic, day)


def _opt_downs(conn: Connection, changes: Subquery, channel: str, since: datetime) -> Any:
    """(topic, day, people): frequency changes to a less frequent choice, per topic the person
    was subscribed to at that moment."""
    rank = dict(FREQUENCY_RANK)
    chosen = case(rank, value=consent_ledger.c.detail["frequency"].as_string(), else_=None)
    was = case(rank, value=consent_ledger.c.detail["was"].as_string(), else_=None)
    lowered = select(consent_ledger.c.id, consent_ledger.c.profile_id, consent_ledger.c.occurred_at).where(
        consent_ledger.c.action == FREQUENCY,
        consent_ledger.c.channel == channel,
        consent_ledger.c.occurred_at >= since,
        chosen > was,
    )
    subscribed = _subscribed_at(changes, lowered)
    day = _day(conn, subscribed.c.occurred_at)
    return select(subscribed.c.topic, day, func.count(distinct(subscribed.c.profile_id))).group_by(
        subscribed.c.topic, day
    )


def _day(conn: Connection, moment: ColumnElement[Any]) -> ColumnElement[str]:
    """The UTC calendar day of a stored moment as YYYY-MM-DD text, on either database."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM-DD")
    return func.date(moment)  # SQLite stores UTC as text


def _as_date(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
