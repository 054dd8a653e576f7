"""Merging groups of profiles into one survivor, recorded with evidence so each merge can be undone.

Set-based: a run merging thousands of groups loads every member in a few chunked queries, decides
in memory, then writes with one statement per table (moves, updates, inserts, deletes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from patron import segments
from patron.dedupe.survivorship import Choice, Survivorship, Version
from patron.profiles.merges import absorbed_rows, move_profile_rows
from patron.profiles.provenance import decode as decode_provenance
from patron.profiles.provenance import encode as encode_provenance
from patron.profiles.record import profile_row
from patron.quality import flags as quality_flags
from patron.storage.bulk import driver_datetime, driver_json, insert_many, update_many
from patron.storage.ids import new_ids
from patron.storage.schema import (
    account_members,
    profile_merges,
    profiles,
)
from patron.storage.types import utcnow

CHUNK = 2000
KEPT_COLUMNS = ("traits", "provenance", "search", "quality", "email_key", "updated_at")
MERGE_COLUMNS = (
    "kept_id", "absorbed_id", "reason", "evidence", "snapshot", "kept_before", "group_id", "score", "actor",
    "created_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MergeRequest:
    """Profiles found to be one person, why, and the scored pairs that link them."""

    ids: tuple[str, ...]
    reason: str
    score: float | None = None
    # [{"a": id, "b": id, "probability": p, ...evidence}] for pairs inside the group.
    pairs: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """One group merged: the survivor, the profiles it absorbed, the group id of their merge records."""

    kept: str
    absorbed: tuple[str, ...]
    group_id: str


@dataclass(slots=True)
class Member:
    """A profile's row as a merge needs it."""

    id: str
    traits: dict[str, Any]
    provenance: dict[str, dict[str, str]]
    flags: dict[str, tuple[str, ...]]
    created_at: datetime
    updated_at: datetime
    stored_provenance: Any = None
    quality: str = ""
    email_key: str | None = None
    accounts: list[str] = field(default_factory=list)

    def row_snapshot(self) -> dict[str, Any]:
        """What an unmerge needs to put the row back."""
        return {
            "traits": dict(self.traits),  # a copy: folding goes on changing the member
            "provenance": encode_provenance(self.provenance),
            "quality": quality_flags.encode(self.flags),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "accounts": list(self.accounts),
        }


def merge_groups(
    conn: Connection, groups: Sequence[MergeRequest], *, survivorship: Survivorship, actor: str
) -> list[MergeOutcome]:
    """Merge each group into its oldest profile; groups with a member that no longer exists are skipped."""
    wanted = sorted({pid for group in groups for pid in group.ids})
    members = load_members(conn, wanted)
    now = utcnow()
    at = driver_datetime(conn, now)
    outcomes: list[MergeOutcome] = []
    merge_rows: list[tuple[Any, ...]] = []
    moves: list[tuple[str, str]] = []
    kept_rows: list[tuple[Any, ...]] = []
    group_ids = iter(new_ids(len(groups)))
    live: list[MergeRequest] = []
    used: set[str] = set()
    for group in groups:  # a profile merges at most once per call; a vanished one skips its group
        if len(set(group.ids)) > 1 and all(pid in members and pid not in used for pid in group.ids):
            live.append(group)
            used.update(group.ids)
    absorbed_ids = [pid for g in live for pid in _order(members, g.ids)[1:]]
    snapshots = absorbed_rows(conn, absorbed_ids)
    for group in live:
        ordered = _order(members, group.ids)
        kept = members[ordered[0]]
        group_id = next(group_ids)
        for absorbed_id in ordered[1:]:
            absorbed = members[absorbed_id]
            before = kept.row_snapshot()
            choices = _fold(kept, absorbed, survivorship)
            changed = {c.field: c.winner.value for c in choices if c.winner.profile_id == absorbed.id}
            kept.accounts = sorted(set(kept.accounts) | set(absorbed.accounts))
            evidence = {
                "reason": group.reason,
                "score": group.score,
                "match": _link_evidence(group.pairs, absorbed.id),
                "survivorship": [
                    c.as_dict() for c in choices if c.losers or c.winner.profile_id == absorbed.id
                ],
            }
            snapshot = {
                **absorbed.row_snapshot(),
                "identities": [],
                "event_ids": [],
                **snapshots.get(absorbed.id, {}),
            }
            merge_rows.append((
                kept.id, absorbed.id, group.reason, driver_json(evidence), driver_json(snapshot),
                driver_json({**before, "changed": changed}), group_id, group.score, actor, at,
            ))  # fmt: skip
            moves.append((absorbed.id, kept.id))
        kept_rows.append((kept.id, *_row(kept), at))
        outcomes.append(MergeOutcome(kept.id, tuple(ordered[1:]), group_id))
    if not outcomes:
        return []
    move_profile_rows(conn, moves)
    update_many(conn, profiles, "id", KEPT_COLUMNS, kept_rows)
    insert_many(conn, profile_merges, MERGE_COLUMNS, merge_rows)
    segments.forget(conn, absorbed_ids)
    for start in range(0, len(absorbed_ids), CHUNK):
        conn.execute(delete(profiles).where(profiles.c.id.in_(absorbed_ids[start : start + CHUNK])))
    return outcomes


def load_members(conn: Connection, ids: Sequence[str]) -> dict[str, Member]:
    """The profiles with these ids (locked for update on PostgreSQL), with their account memberships."""
    members: dict[str, Member] = {}
    ordered = sorted(ids)  # one lock order for every writer
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        query = (
            select(profiles.c.id, profiles.c.traits, profiles.c.provenance, profiles.c.quality,
                   profiles.c.email_key, profiles.c.created_at, profiles.c.updated_at)
            .where(profiles.c.id.in_(chunk))
            .order_by(profiles.c.id)
            .with_for_update()
        )  # fmt: skip
        for pid, traits, provenance, quality, email_key, created, updated in conn.execute(query):
            members[pid] = Member(
                pid, dict(traits), decode_provenance(provenance, traits), quality_flags.decode(quality),
                created, updated, provenance, quality, email_key,
            )  # fmt: skip
        accounts = select(account_members.c.profile_id, account_members.c.account_id).where(
            account_members.c.profile_id.in_(chunk)
        )
        for pid, account_id in conn.execute(accounts):
            members[pid].accounts.append(account_id)
    return members


def _order(members: dict[str, Member], ids: Iterable[str]) -> list[str]:
    """The survivor first: the oldest profile keeps its id, so links to it elsewhere stay valid."""
    return sorted(set(ids), key=lambda pid: (members[pid].created_at, pid))


def _fold(kept: Member, absorbed: Member, survivorship: Survivorship) -> list[Choice]:
    """Give `kept` the surviving value of every trait either holds; returns the choices made."""
    choices: list[Choice] = []
    for name in sorted(set(kept.traits) | set(absorbed.traits)):
        if name in kept.traits and kept.traits[name] == absorbed.traits.get(name):
            continue  # both say the same: nothing to choose, the kept profile's provenance stays
        versions = [_version(m, name) for m in (kept, absorbed) if name in m.traits]
        choice = survivorship.choose(name, versions)
        choices.append(choice)
        if choice.winner.profile_id == kept.id:
            continue
        kept.traits[name] = choice.winner.value
        kept.provenance[name] = absorbed.provenance.get(name, {"source": "", "at": ""})
        if choice.winner.flags:
            kept.flags[name] = choice.winner.flags
        else:
            kept.flags.pop(name, None)
    return [c for c in choices if len(c.losers) or c.winner.profile_id == absorbed.id]


def _version(member: Member, name: str) -> Version:
    origin = member.provenance.get(name) or {}
    return Version(member.id, member.traits[name], origin.get("source", ""), origin.get("at", ""),
                   member.flags.get(name, ()))  # fmt: skip


def _row(member: Member) -> tuple[str, str, str, str, str | None]:
    return profile_row(member.traits, encode_provenance(member.provenance), member.flags)


def _link_evidence(pairs: Sequence[dict[str, Any]], absorbed_id: str) -> dict[str, Any] | None:
    """The strongest scored pair that involves the absorbed profile."""
    involved = [p for p in pairs if absorbed_id in (p.get("a"), p.get("b"))]
    return max(involved, key=lambda p: p.get("probability") or 0.0) if involved else None
