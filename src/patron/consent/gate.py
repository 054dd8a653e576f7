"""The one question every send must ask: may we contact this person on this channel about this topic?

`can_send` answers for one profile with a reason; `audience` answers for everyone at once in SQL
(set-based), then drops suppressed addresses. Both apply the same rule, and a test holds them to
each other on random data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, and_, case, literal, or_, select
from sqlalchemy.orm import aliased

from patron.consent import suppression
from patron.consent.model import (
    CHANNELS,
    GLOBAL,
    NONE,
    OPT_OUT,
    OPT_OUT_POLICY,
    PENDING,
    SUBSCRIBED,
    UNSUBSCRIBED,
)
from patron.consent.preferences import get_preferences
from patron.consent.regions import model_for, policies
from patron.consent.topics import Topic, get_topic
from patron.errors import Invalid
from patron.storage.schema import consent_states, contact_preferences, profiles
from patron.storage.traits import trait_text
from patron.storage.types import utcnow

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a message may go, and why."""

    allowed: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        """The API form."""
        return {"allowed": self.allowed, "reason": self.reason}


def effective(state: str | None, expires_at: datetime | None, now: datetime) -> str:
    """A stored state as it holds at `now`: a lapsed implied consent is no consent."""
    if state is None:
        return NONE
    if state == SUBSCRIBED and expires_at is not None and expires_at <= now:
        return NONE
    return state


def decide(
    *,
    global_state: str,
    topic_state: str | None,
    topic: Topic | None,
    country: str | None,
    region_model: str,
    paused: bool,
    suppressed: str | None,
) -> Decision:
    """The rule itself, on plain values."""
    if suppressed:
        return Decision(False, f"address suppressed ({suppressed})")
    if global_state == UNSUBSCRIBED:
        return Decision(False, "unsubscribed from all")
    if paused:
        return Decision(False, "paused")
    if topic is None:
        if global_state == SUBSCRIBED:
            return Decision(True, "subscribed")
        if global_state == NONE and region_model == OPT_OUT:
            return Decision(True, "opt-out region, never unsubscribed")
        return Decision(False, "no consent" if global_state == NONE else "confirmation pending")
    if topic_state == SUBSCRIBED:
        return Decision(True, f"subscribed to {topic.key}")
    if topic_state == UNSUBSCRIBED:
        return Decision(False, f"unsubscribed from {topic.key}")
    if topic_state == PENDING:
        return Decision(False, f"confirmation of {topic.key} pending")
    if topic.default_in(country) == OPT_OUT_POLICY and (
        global_state == SUBSCRIBED or region_model == OPT_OUT
    ):
        return Decision(True, f"{topic.key} is opt-out and was never declined")
    return Decision(False, f"not subscribed to {topic.key}")


def can_send(
    conn: Connection,
    profile_id: str,
    channel: str,
    topic_key: str | None = None,
    *,
    now: datetime | None = None,
) -> Decision:
    """May `profile_id` be contacted on `channel` about `topic_key` (None: no particular topic)?"""
    now = now or utcnow()
    _check_channel(channel)
    topic = get_topic(conn, topic_key) if topic_key else None
    if topic is not None and channel not in topic.channels:
        return Decision(False, f"{topic.key} is not offered on {channel}")
    rows = {
        row.topic: row
        for row in conn.execute(
            select(consent_states).where(
                consent_states.c.profile_id == profile_id,
                consent_states.c.channel == channel,
                consent_states.c.topic.in_([GLOBAL, topic_key or GLOBAL]),
            )
        )
    }
    country = conn.execute(
        select(profiles.c.traits["country"].as_string()).where(profiles.c.id == profile_id)
    ).scalar()
    hashes = suppression.profile_address_hashes(conn, [profile_id], channel)[profile_id]
    suppressed = suppression.suppressed_hashes(conn, channel, hashes)
    g, t = rows.get(GLOBAL), rows.get(topic_key or "\0")
    return decide(
        global_state=effective(g.state if g else None, g.expires_at if g else None, now),
        topic_state=effective(t.state, t.expires_at, now) if t else None,
        topic=topic,
        country=country,
        region_model=model_for(policies(conn), country),
        paused=get_preferences(conn, profile_id).paused(now),
        suppressed=next(iter(suppressed.values()), None),
    )


def audience_query(conn: Connection, channel: str, topic_key: str | None, *, now: datetime) -> Select:
    """SELECT of the ids of profiles that may be contacted, before the suppression list."""
    _check_channel(channel)
    topic = get_topic(conn, topic_key) if topic_key else None
    g = aliased(consent_states, name="g")
    t = aliased(consent_states, name="t")
    country = trait_text(conn.dialect.name, "country")
    table = policies(conn)
    default_model = model_for(table, None)
    opt_out_countries = [c for c, m in table.items() if m == OPT_OUT and c != "*"]
    other_countries = [c for c, m in table.items() if m != OPT_OUT and c != "*"]
    if default_model == OPT_OUT:
        in_opt_out_region = or_(country.is_(None), country.not_in(other_countries))
    else:
        in_opt_out_region = country.in_(opt_out_countries) if opt_out_countries else literal(False)

    def state_of(alias: object) -> object:
        return case(
            (alias.c.state.is_(None), literal(NONE)),  # type: ignore[attr-defined]
            (
                and_(alias.c.state == SUBSCRIBED, alias.c.expires_at.is_not(None), alias.c.expires_at <= now),  # type: ignore[attr-defined]
                literal(NONE),
            ),
            else_=alias.c.state,  # type: ignore[attr-defined]
        )

    global_state = state_of(g)
    query = (
        select(profiles.c.id)
        .select_from(profiles)
        .outerjoin(g, and_(g.c.profile_id == profiles.c.id, g.c.channel == channel, g.c.topic == GLOBAL))
        .outerjoin(contact_preferences, contact_preferences.c.profile_id == profiles.c.id)
        .where(
            global_state != UNSUBSCRIBED,
            or_(contact_preferences.c.paused_until.is_(None), contact_preferences.c.paused_until <= now),
        )
    )
    if topic is None:
        return query.where(or_(global_state == SUBSCRIBED, and_(global_state == NONE, in_opt_out_region)))
    if channel not in topic.channels:
        return query.where(literal(False))
    topic_state = state_of(t)
    query = query.outerjoin(
        t, and_(t.c.profile_id == profiles.c.id, t.c.channel == channel, t.c.topic == topic.key)
    )
    opt_out_here = [c for c, p in topic.region_defaults.items() if p == OPT_OUT_POLICY]
    opt_in_here = [c for c, p in topic.region_defaults.items() if p != OPT_OUT_POLICY]
    if topic.default == OPT_OUT_POLICY:
        topic_opt_out = or_(country.is_(None), country.not_in(opt_in_here)) if opt_in_here else literal(True)
    else:
        topic_opt_out = country.in_(opt_out_here) if opt_out_here else literal(False)
    return query.where(
        or_(
            topic_state == SUBSCRIBED,
            and_(topic_state == NONE, topic_opt_out, or_(global_state == SUBSCRIBED, in_opt_out_region)),
        )
    )


def audience(
    conn: Connection, channel: str, topic_key: str | None = None, *, now: datetime | None = None
) -> list[str]:
    """Ids of every profile that may be contacted on `channel` about `topic_key`, suppressed
    addresses removed (a profile with any suppressed address on the channel is left out)."""
    now = now or utcnow()
    ids = list(conn.execute(audience_query(conn, channel, topic_key, now=now)).scalars())
    return _without_suppressed(conn, channel, ids)


def _without_suppressed(conn: Connection, channel: str, ids: Sequence[str]) -> list[str]:
    """`ids` less everyone holding a suppressed address on `channel`, a chunk of people at a time."""
    if channel not in suppression.ADDRESS_KIND:
        return list(ids)
    blocked: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        hashes = suppression.profile_address_hashes(conn, ids[start : start + CHUNK], channel)
        suppressed = suppression.suppressed_hashes(
            conn, channel, [h for found in hashes.values() for h in found]
        )
        blocked.update(pid for pid, found in hashes.items() if not suppressed.keys().isdisjoint(found))
    return [pid for pid in ids if pid not in blocked]


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}", field="channel")
