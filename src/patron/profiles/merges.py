"""Merging one profile into another in the database, recorded so it can be explained and undone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from patron.storage.schema import account_members, events, identities, profile_merges, profiles
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow


def absorb_profile(
    conn: Connection,
    *,
    keep: str,
    absorb: str,
    evidence: dict[str, Any],
    snapshot: dict[str, Any],
    kept_before: dict[str, Any] | None = None,
) -> int:
    """Move `absorb`'s identities, events and accounts to `keep`, record the merge, delete `absorb`.

    `snapshot` holds what `absorb` was (traits, provenance); its identities, events and accounts
    are added here, and `kept_before` (what `keep` was and gained) gets `keep`'s accounts, so the
    merge can be undone. The caller has already written `keep`'s merged traits. Returns the merge's id.
    """
    moved = conn.execute(
        select(identities.c.kind, identities.c.value).where(identities.c.profile_id == absorb)
    ).all()
    event_ids = conn.execute(select(events.c.id).where(events.c.profile_id == absorb)).scalars().all()
    conn.execute(update(identities).where(identities.c.profile_id == absorb).values(profile_id=keep))
    conn.execute(update(events).where(events.c.profile_id == absorb).values(profile_id=keep))
    memberships = (
        conn.execute(select(account_members.c.account_id).where(account_members.c.profile_id == absorb))
        .scalars()
        .all()
    )
    if kept_before is not None:
        kept_accounts = select(account_members.c.account_id).where(account_members.c.profile_id == keep)
        kept_before = {**kept_before, "accounts": list(conn.execute(kept_accounts).scalars())}
    if memberships:
        now = utcnow()
        conn.execute(
            insert_ignoring_conflicts(conn, account_members, ["account_id", "profile_id"]),
            [{"account_id": account, "profile_id": keep, "created_at": now} for account in memberships],
        )
    merge_id = conn.execute(
        insert(profile_merges)
        .values(
            kept_id=keep,
            absorbed_id=absorb,
            reason=evidence.get("reason", "merged"),
            evidence=evidence,
            snapshot={
                **snapshot,
                "identities": [{"kind": k, "value": v} for k, v in moved],
                "event_ids": list(event_ids),
                "accounts": list(memberships),
            },
            kept_before=kept_before,
            actor="ingest",
            created_at=utcnow(),
        )
        .returning(profile_merges.c.id)
    ).scalar_one()
    conn.execute(delete(profiles).where(profiles.c.id == absorb))
    return merge_id
