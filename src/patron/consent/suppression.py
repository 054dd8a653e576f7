"""Addresses never to be contacted, kept as hashes so the list outlives erasure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from patron.errors import Invalid, NotFound
from patron.identity.normalise import IdentityError, normalise_email, normalise_phone
from patron.storage.bulk import in_values
from patron.storage.schema import consent_states, identities, suppressions
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

REASONS = ("hard_bounce", "complaint", "unsubscribe", "manual", "erasure")
# The identity kind whose values each channel delivers to.
ADDRESS_KIND = {"email": "email", "sms": "phone"}


@dataclass(frozen=True, slots=True)
class Suppression:
    """One suppressed address, known only by its hash."""

    channel: str
    address_hash: str
    reason: str
    note: str
    actor: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "channel": self.channel,
            "address_hash": self.address_hash,
            "reason": self.reason,
            "note": self.note,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }


def address_hash(channel: str, normalised: str) -> str:
    """SHA-256 of an already-normalised address, per channel."""
    return hashlib.sha256(f"{channel}:{normalised}".encode()).hexdigest()


def hash_address(channel: str, raw: str, *, region: str | None = None) -> str:
    """The hash of a raw address once normalised; Invalid when it is not an address."""
    if channel not in ADDRESS_KIND:
        raise Invalid(f"channel must be one of {', '.join(ADDRESS_KIND)}", field="channel")
    try:
        value = normalise_email(raw) if channel == "email" else normalise_phone(raw, region)
    except IdentityError as exc:
        raise Invalid(str(exc), field="address") from exc
    return address_hash(channel, value)


def suppress_hashes(
    conn: Connection, channel: str, hashes: Iterable[str], reason: str, *, note: str = "", actor: str = ""
) -> int:
    """Add hashes to the list (an address already on it keeps its first reason); returns how many were new."""
    if reason not in REASONS:
        raise Invalid(f"reason must be one of {', '.join(REASONS)}", field="reason")
    wanted = list(dict.fromkeys(hashes))
    known = suppressed_hashes(conn, channel, wanted)
    now = utcnow()
    rows = [
        {
            "channel": channel,
            "address_hash": h,
            "reason": reason,
            "note": note,
            "actor": actor,
            "created_at": now,
        }
        for h in wanted
        if h not in known
    ]
    if rows:  # a concurrent writer may add one meanwhile: the insert then skips it
        conn.execute(insert_ignoring_conflicts(conn, suppressions, ["channel", "address_hash"]), rows)
    return len(rows)


def suppress_address(
    conn: Connection, channel: str, raw: str, reason: str, *, note: str = "", actor: str = ""
) -> str:
    """Suppress one address given in clear; returns its hash."""
    hashed = hash_address(channel, raw)
    suppress_hashes(conn, channel, [hashed], reason, note=note, actor=actor)
    return hashed


def profile_address_hashes(
    conn: Connection, profile_ids: Sequence[str], channel: str
) -> dict[str, list[str]]:
    """Per profile: the hashes of its addresses on `channel` (its email or phone identities)."""
    kind = ADDRESS_KIND.get(channel)
    found: dict[str, list[str]] = {pid: [] for pid in profile_ids}
    if kind is None or not profile_ids:
        return found
    query = select(identities.c.profile_id, identities.c.value).where(
        identities.c.kind == kind, in_values(conn, identities.c.profile_id, list(profile_ids))
    )
    for pid, value in conn.execute(query):
        found[pid].append(address_hash(channel, value))
    return found


def suppressed_hashes(conn: Connection, channel: str, hashes: Iterable[str]) -> dict[str, str]:
    """Which of `hashes` are suppressed: hash -> reason."""
    wanted = list(set(hashes))
    if not wanted:
        return {}
    query = select(suppressions.c.address_hash, suppressions.c.reason).where(
        suppressions.c.channel == channel, in_values(conn, suppressions.c.address_hash, wanted)
    )
    return dict(conn.execute(query).all())


def lift(
    conn: Connection,
    channel: str,
    hashes: Iterable[str],
    *,
    before: datetime,
    reasons: Sequence[str] = ("unsubscribe",),
) -> int:
    """Take hashes off the list that were put there before `before` for one of `reasons` (a
    person who subscribes again lifts their own unsubscribe, never a bounce or a complaint)."""
    wanted = list(set(hashes))
    if not wanted:
        return 0
    return conn.execute(
        delete(suppressions).where(
            suppressions.c.channel == channel,
            suppressions.c.address_hash.in_(wanted),
            suppressions.c.reason.in_(list(reasons)),
            suppressions.c.created_at < before,
        )
    ).rowcount


def remove(conn: Connection, channel: str, hashed: str) -> None:
    """Remove one entry, whatever its reason (an admin's decision); NotFound when absent."""
    deleted = conn.execute(
        delete(suppressions).where(suppressions.c.channel == channel, suppressions.c.address_hash == hashed)
    ).rowcount
    if not deleted:
        raise NotFound("that address is not on the suppression list", field="address_hash")


def list_suppressions(
    conn: Connection, *, reason: str | None = None, limit: int = 100, offset: int = 0
) -> list[Suppression]:
    """Newest first."""
    query = select(suppressions).order_by(suppressions.c.created_at.desc(), suppressions.c.address_hash)
    if reason:
        query = query.where(suppressions.c.reason == reason)
    return [Suppression(**row._mapping) for row in conn.execute(query.limit(limit).offset(offset))]


def counts_by_reason(conn: Connection) -> dict[str, int]:
    """How many addresses each reason suppresses."""
    query = select(suppressions.c.reason, func.count()).group_by(suppressions.c.reason)
    return dict(conn.execute(query).all())


def keep_withdrawals(conn: Connection, profile_ids: Sequence[str], *, actor: str = "") -> int:
    """Before profiles are deleted (not erased): their addresses on every channel where they had
    withdrawn anything go on the list, so deleting a person and importing them again never
    re-opens a door they closed. Reason "unsubscribe": their own later subscription lifts it."""
    query = (
        select(consent_states.c.channel, consent_states.c.profile_id)
        .where(consent_states.c.profile_id.in_(list(profile_ids)), consent_states.c.state == "unsubscribed")
        .distinct()
    )
    by_channel: dict[str, list[str]] = {}
    for channel, pid in conn.execute(query):
        by_channel.setdefault(channel, []).append(pid)
    added = 0
    for channel, pids in by_channel.items():
        hashes = [h for found in profile_address_hashes(conn, pids, channel).values() for h in found]
        added += suppress_hashes(
            conn, channel, hashes, "unsubscribe", note="deleted after withdrawing", actor=actor
        )
    return added
