"""Consent when profiles merge and unmerge: ledgers follow the person, the stricter state wins.

A merge moves the absorbed profile's ledger rows to the survivor and replays it. Where either
profile had withdrawn and the replay would subscribe the merged person (a grant on the other
profile came later), a withdrawal is appended (method "merge"): a merge must never re-open a door
someone closed. Preferences keep the lower frequency and the later pause. An unmerge hands the
absorbed profile's own rows back; withdrawals the merge added stay (the safe side).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from patron.consent.ledger import Change, record_many, refresh_states, states_of
from patron.consent.model import FREQUENCY_RANK, UNSUBSCRIBED
from patron.storage.bulk import repoint
from patron.storage.schema import consent_ledger, contact_preferences
from patron.storage.statements import upsert
from patron.storage.types import utcnow

CHUNK = 2000


def ledger_ids_of(conn: Connection, profile_ids: Sequence[str]) -> dict[str, list[int]]:
    """Per profile: its ledger row ids, which an unmerge hands back."""
    found: dict[str, list[int]] = {pid: [] for pid in profile_ids}
    for start in range(0, len(profile_ids), CHUNK):
        chunk = list(profile_ids[start : start + CHUNK])
        query = select(consent_ledger.c.profile_id, consent_ledger.c.id).where(
            consent_ledger.c.profile_id.in_(chunk)
        )
        for pid, row_id in conn.execute(query):
            found[pid].append(row_id)
    return found


def merge_consent(conn: Connection, moves: Sequence[tuple[str, str]]) -> int:
    """Move each absorbed profile's ledger to its survivor, replay, keep the stricter state and
    preferences; returns how many withdrawals the stricter rule added."""
    if not moves:
        return 0
    survivors = list(dict.fromkeys(kept for _, kept in moves))
    everyone = list(dict.fromkeys([*survivors, *(absorbed for absorbed, _ in moves)]))
    withdrawn: dict[str, set[tuple[str, str]]] = {}
    before = states_of(conn, everyone)
    group_of = dict(moves)
    for pid, states in before.items():
        kept = group_of.get(pid, pid)
        for key, row in states.items():
            if row.state == UNSUBSCRIBED:
                withdrawn.setdefault(kept, set()).add(key)
    _merge_preferences(conn, moves)
    repoint(conn, consent_ledger, "profile_id", moves)
    refresh_states(conn, everyone)
    after = states_of(conn, survivors)
    stricter = [
        (
            kept,
            Change(
                channel=channel,
                action="withdraw",
                topic=topic,
                method="merge",
                actor="merge",
                detail={"reason": "one of the merged profiles had withdrawn"},
            ),
        )
        for kept, keys in withdrawn.items()
        for channel, topic in sorted(keys)
        if after.get(kept, {}).get((channel, topic)) is not None
        and after[kept][(channel, topic)].state != UNSUBSCRIBED
    ]
    record_many(conn, stricter)
    return len(stricter)


def hand_back_consent(conn: Connection, kept_id: str, restored_id: str, ledger_ids: Sequence[int]) -> int:
    """Unmerge: the restored profile's own ledger rows go back to it; both states are replayed."""
    moved = 0
    for start in range(0, len(ledger_ids), CHUNK):
        chunk = list(ledger_ids[start : start + CHUNK])
        moved += conn.execute(
            update(consent_ledger)
            .where(consent_ledger.c.profile_id == kept_id, consent_ledger.c.id.in_(chunk))
            .values(profile_id=restored_id)
        ).rowcount
    refresh_states(conn, [kept_id, restored_id])
    return moved


def _merge_preferences(conn: Connection, moves: Sequence[tuple[str, str]]) -> None:
    everyone = list(dict.fromkeys(pid for move in moves for pid in move))
    rows = {
        row.profile_id: row
        for row in conn.execute(
            select(contact_preferences).where(contact_preferences.c.profile_id.in_(everyone))
        )
    }
    merged: dict[str, dict[str, object]] = {}
    for absorbed, kept in moves:
        if absorbed not in rows:
            continue
        current = merged.get(kept) or (dict(rows[kept]._mapping) if kept in rows else None)
        theirs = dict(rows[absorbed]._mapping)
        if current is None:
            merged[kept] = {**theirs, "profile_id": kept}
            continue
        if FREQUENCY_RANK.get(theirs["frequency"], 0) > FREQUENCY_RANK.get(current["frequency"], 0):
            current["frequency"] = theirs["frequency"]
        pauses = [p for p in (current["paused_until"], theirs["paused_until"]) if p is not None]
        current["paused_until"] = max(pauses) if pauses else None
        current["locale"] = current["locale"] or theirs["locale"]
        merged[kept] = current
    if merged:
        now = utcnow()
        conn.execute(
            upsert(
                conn,
                contact_preferences,
                ["profile_id"],
                ["frequency", "paused_until", "locale", "updated_at"],
            ),
            [{**values, "updated_at": now} for values in merged.values()],
        )
