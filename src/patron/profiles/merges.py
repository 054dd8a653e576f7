"""Merging profiles in the database: the rows that follow a merged profile to its survivor, and
the merge record that lets it be explained and undone.

Two paths merge: ingest, when one record links an anonymous visitor to a known person
(`absorb_profile`), and dedupe (patron.dedupe.merging), in bulk. Both move rows with
`move_profile_rows` and keep what an unmerge hands back with `absorbed_rows`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select

from patron.storage.bulk import repoint
from patron.storage.references import MOVED_ON_MERGE
from patron.storage.schema import (
    account_members,
    events,
    identities,
    merge_candidates,
    profile_merges,
    profiles,
)
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

CHUNK = 2000
# Columns of an open merge candidate carried over to the survivors' pair.
_CARRIED = ("reason", "evidence", "status", "origin", "score", "created_at")


def absorbed_rows(conn: Connection, absorbed_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per profile about to be absorbed: its identities and event ids, what an unmerge hands back."""
    from patron.consent.merging import ledger_ids_of  # consent reads profiles: imported here, not above

    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"identities": [], "event_ids": [], "consent_ledger_ids": []}
    )
    for start in range(0, len(absorbed_ids), CHUNK):
        chunk = list(absorbed_ids[start : start + CHUNK])
        query = select(
            identities.c.profile_id, identities.c.kind, identities.c.value, identities.c.source
        ).where(identities.c.profile_id.in_(chunk))
        for pid, kind, value, source in conn.execute(query):
            found[pid]["identities"].append({"kind": kind, "value": value, "source": source})
        held = select(events.c.profile_id, events.c.id).where(events.c.profile_id.in_(chunk))
        for pid, event_id in conn.execute(held):
            found[pid]["event_ids"].append(event_id)
        for pid, ledger_ids in ledger_ids_of(conn, chunk).items():
            found[pid]["consent_ledger_ids"] = ledger_ids
    return found


def move_profile_rows(conn: Connection, moves: Sequence[tuple[str, str]]) -> None:
    """For each (absorbed, survivor): identities, consent (patron.consent.merging), every table
    registered in MOVED_ON_MERGE, account memberships and open merge candidates go to the
    survivor, set-based."""
    from patron.consent.merging import merge_consent  # consent reads profiles: imported here, not above

    if not moves:
        return
    repoint(conn, identities, "profile_id", moves)
    merge_consent(conn, moves)
    for table, column in MOVED_ON_MERGE:
        repoint(conn, table, column, moves)
    survivor = dict(moves)
    absorbed = list(survivor)
    memberships: list[dict[str, Any]] = []
    carried: dict[tuple[str, str], dict[str, Any]] = {}
    now = utcnow()
    for start in range(0, len(absorbed), CHUNK):
        chunk = absorbed[start : start + CHUNK]
        query = select(account_members.c.account_id, account_members.c.profile_id).where(
            account_members.c.profile_id.in_(chunk)
        )
        memberships += [
            {"account_id": account, "profile_id": survivor_in(survivor, pid), "created_at": now}
            for account, pid in conn.execute(query)
        ]
        candidates = select(merge_candidates).where(
            or_(merge_candidates.c.profile_a.in_(chunk), merge_candidates.c.profile_b.in_(chunk)),
            merge_candidates.c.status == "open",
        )
        for row in conn.execute(candidates).mappings():
            a, b = survivor_in(survivor, row["profile_a"]), survivor_in(survivor, row["profile_b"])
            if a != b:  # a pair across the merge lives on between the survivors
                pair = (min(a, b), max(a, b))
                carried.setdefault(
                    pair, {**{k: row[k] for k in _CARRIED}, "profile_a": pair[0], "profile_b": pair[1]}
                )
    # The absorbed profiles' own rows go when they are deleted (foreign keys cascade).
    if memberships:
        conn.execute(
            insert_ignoring_conflicts(conn, account_members, ["account_id", "profile_id"]), memberships
        )
    if carried:
        conn.execute(
            insert_ignoring_conflicts(conn, merge_candidates, ["profile_a", "profile_b"]),
            list(carried.values()),
        )


def absorb_profile(
    conn: Connection,
    *,
    keep: str,
    absorb: str,
    evidence: dict[str, Any],
    snapshot: dict[str, Any],
    kept_before: dict[str, Any] | None = None,
) -> int:
    """Move `absorb`'s rows to `keep`, record the merge, delete `absorb`; returns the merge's id.

    `snapshot` holds what `absorb` was (traits, provenance); its identities, events and accounts
    are added here, and `kept_before` (what `keep` was and gained) gets `keep`'s accounts, so the
    merge can be undone. The caller has already written `keep`'s merged traits.
    """
    handed_back = absorbed_rows(conn, [absorb])[absorb]
    memberships = (
        conn.execute(select(account_members.c.account_id).where(account_members.c.profile_id == absorb))
        .scalars()
        .all()
    )
    if kept_before is not None:
        kept_accounts = select(account_members.c.account_id).where(account_members.c.profile_id == keep)
        kept_before = {**kept_before, "accounts": list(conn.execute(kept_accounts).scalars())}
    move_profile_rows(conn, [(absorb, keep)])
    merge_id = conn.execute(
        insert(profile_merges)
        .values(
            kept_id=keep,
            absorbed_id=absorb,
            reason=evidence.get("reason", "merged"),
            evidence=evidence,
            snapshot={**snapshot, **handed_back, "accounts": list(memberships)},
            kept_before=kept_before,
            actor="ingest",
            created_at=utcnow(),
        )
        .returning(profile_merges.c.id)
    ).scalar_one()
    from patron.segments import forget  # segments read profiles: imported here, not above

    forget(conn, [absorb])
    conn.execute(delete(profiles).where(profiles.c.id == absorb))
    return merge_id


def survivor_in(survivor: dict[str, str], profile_id: str) -> str:
    """The profile `profile_id` lives on as, following {absorbed: kept} (safe against cycles)."""
    seen: set[str] = set()
    while profile_id in survivor and profile_id not in seen:
        seen.add(profile_id)
        profile_id = survivor[profile_id]
    return profile_id
