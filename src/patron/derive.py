"""Derived data kept current on every write: computed traits, then scores, then segments.

The one hook for "something about these people changed" (events processed, traits written,
consent given or withdrawn, profiles merged). It runs in the caller's transaction, so derived data
commits, or not, with the write that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from patron import computed, scoring, segments
from patron.storage.types import utcnow


def react(
    conn: Connection,
    profile_ids: Iterable[str | None],
    *,
    now: datetime | None = None,
    events_of: Iterable[str] | None = None,
) -> segments.Changes:
    """Bring computed traits, scores and segment membership of these profiles up to date.

    `events_of` names the profiles whose events changed, when the caller knows it is fewer than
    all (an import writes traits; only its merges move events): computed traits are read from
    events, so only those profiles' are recomputed. Default: all of them.
    """
    ids = sorted({profile_id for profile_id in profile_ids if profile_id})
    if not ids:
        return segments.Changes()
    now = now or utcnow()
    with_events = ids if events_of is None else sorted(set(events_of))
    if with_events:
        computed.refresh(conn, with_events, now=now)
    scoring.react(conn, ids, now=now)
    return segments.react(conn, ids, now=now)
