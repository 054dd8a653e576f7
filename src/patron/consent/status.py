"""A person's consent as the API and the public pages show it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from patron.consent.gate import decide, effective
from patron.consent.ledger import states_of
from patron.consent.model import GLOBAL, NONE
from patron.consent.preferences import get_preferences
from patron.consent.regions import model_for, policies
from patron.consent.topics import list_topics
from patron.storage.schema import profiles
from patron.storage.types import utcnow


def consent_of(conn: Connection, profile_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """{"channels": {CHANNEL: {"global", "topics": {KEY: STATE}, "can_send": {KEY: bool}}},
    "frequency", "paused_until", "locale", "region", "model"}; every offered topic is listed."""
    now = now or utcnow()
    stored = states_of(conn, [profile_id]).get(profile_id, {})
    prefs = get_preferences(conn, profile_id)
    country = conn.execute(
        select(profiles.c.traits["country"].as_string()).where(profiles.c.id == profile_id)
    ).scalar()
    model = model_for(policies(conn), country)
    channels: dict[str, Any] = {}
    topics = list_topics(conn)
    offered = sorted(
        {c for topic in topics for c in topic.channels} | {channel for channel, _ in stored} | {"email"}
    )
    for channel in offered:
        g = stored.get((channel, GLOBAL))
        global_state = effective(g.state, g.expires_at, now) if g else NONE
        states: dict[str, str] = {}
        sendable: dict[str, bool] = {}
        for topic in topics:
            if channel not in topic.channels:
                continue
            row = stored.get((channel, topic.key))
            states[topic.key] = effective(row.state, row.expires_at, now) if row else NONE
            sendable[topic.key] = decide(
                global_state=global_state,
                topic_state=states[topic.key],
                topic=topic,
                country=country,
                region_model=model,
                paused=prefs.paused(now),
                suppressed=None,
            ).allowed
        channels[channel] = {"global": global_state, "topics": states, "can_send": sendable}
    return {
        "channels": channels,
        "frequency": prefs.frequency,
        "paused_until": prefs.paused_until.isoformat() if prefs.paused(now) and prefs.paused_until else None,
        "locale": prefs.locale,
        "region": country,
        "model": model,
    }
