"""Undoing a merge: both profiles as they were, and what arrived since goes where it belongs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, tuple_, update

from patron.consent.merging import hand_back_consent
from patron.dedupe.decisions import remember_distinct
from patron.errors import Conflict, NotFound
from patron.profiles.provenance import decode as decode_provenance
from patron.profiles.provenance import encode as encode_provenance
from patron.profiles.record import profile_row
from patron.quality import flags as quality_flags
from patron.storage.schema import account_members, events, identities, profile_merges, profiles
from patron.storage.types import utcnow


def unmerge(conn: Connection, merge_id: int, *, actor: str) -> dict[str, Any]:
    """Restore the absorbed profile of merge `merge_id` and take back what the merge gave the survivor.

    The absorbed profile comes back with its id, traits, identities, events, consent ledger and
    accounts; events
    that arrived after the merge go back to it when they carry one of its user or anonymous ids.
    The survivor gets back each value the merge changed, unless that value has changed since.
    The pair is then remembered as "not the same person", so dedupe does not merge it again.
    """
    merge = conn.execute(select(profile_merges).where(profile_merges.c.id == merge_id)).mappings().first()
    if merge is None:
        raise NotFound(f"merge {merge_id} does not exist")
    if merge["undone_at"] is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    kept_id, absorbed_id = merge["kept_id"], merge["absorbed_id"]
    if _exists(conn, absorbed_id):
        raise Conflict(f"profile {absorbed_id} exists again; merge {merge_id} cannot be undone twice")
    if not _exists(conn, kept_id):
        later = conn.execute(
            select(profile_merges.c.id).where(
                profile_merges.c.absorbed_id == kept_id, profile_merges.c.undone_at.is_(None)
            )
        ).scalar()
        hint = f"; undo merge {later} first" if later else " (it was deleted)"
        raise Conflict(f"profile {kept_id}, which absorbed {absorbed_id}, no longer exists{hint}")
    snapshot, before = merge["snapshot"], merge["kept_before"]
    now = utcnow()
    _restore_absorbed(conn, absorbed_id, snapshot, now)
    handed_back = _hand_back_identities(conn, kept_id, absorbed_id, snapshot)
    returned = _hand_back_events(conn, kept_id, absorbed_id, snapshot, merge["created_at"], handed_back)
    _hand_back_accounts(conn, kept_id, absorbed_id, snapshot, before)
    hand_back_consent(conn, kept_id, absorbed_id, snapshot.get("consent_ledger_ids") or [])
    restored = _restore_kept(conn, kept_id, before) if before else []
    conn.execute(
        update(profile_merges).where(profile_merges.c.id == merge_id).values(undone_at=now, undone_by=actor)
    )
    remember_distinct(conn, kept_id, absorbed_id, actor=actor)
    return {
        "merge_id": merge_id,
        "kept_id": kept_id,
        "restored_id": absorbed_id,
        "identities": len(handed_back),
        "events": returned,
        "restored_traits": restored,
    }


def _exists(conn: Connection, profile_id: str) -> bool:
    return conn.execute(select(profiles.c.id).where(profiles.c.id == profile_id)).first() is not None


def _restore_absorbed(conn: Connection, absorbed_id: str, snapshot: dict[str, Any], now: datetime) -> None:
    traits = snapshot.get("traits") or {}
    provenance = snapshot.get("provenance") or []
    if isinstance(provenance, dict):  # merges recorded before provenance was stored grouped
        provenance = encode_provenance(provenance)
    flags = quality_flags.decode(snapshot.get("quality") or "")
    _, _, search, quality, email_key = profile_row(traits, provenance, flags)
    created = snapshot.get("created_at")
    conn.execute(
        insert(profiles).values(
            id=absorbed_id,
            traits=traits,
            provenance=provenance,
            search=search,
            quality=quality,
            email_key=email_key,
            created_at=datetime.fromisoformat(created) if created else now,
            updated_at=now,
        )
    )


def _hand_back_identities(
    conn: Connection, kept_id: str, absorbed_id: str, snapshot: dict[str, Any]
) -> list[tuple[str, str]]:
    pairs = [(i["kind"], i["value"]) for i in snapshot.get("identities") or []]
    if not pairs:
        return []
    condition = and_(
        identities.c.profile_id == kept_id, tuple_(identities.c.kind, identities.c.value).in_(pairs)
    )
    present = [
        (kind, value)
        for kind, value in conn.execute(select(identities.c.kind, identities.c.value).where(condition))
    ]
    if present:
        conn.execute(
            update(identities)
            .where(
                identities.c.profile_id == kept_id, tuple_(identities.c.kind, identities.c.value).in_(present)
            )
            .values(profile_id=absorbed_id)
        )
    return present


def _hand_back_events(
    conn: Connection,
    kept_id: str,
    absorbed_id: str,
    snapshot: dict[str, Any],
    merged_at: datetime,
    handed_back: list[tuple[str, str]],
) -> int:
    """The events it had, and later ones that carry one of its user or anonymous ids."""
    moved = 0
    event_ids = list(snapshot.get("event_ids") or [])
    for start in range(0, len(event_ids), 2000):
        chunk = event_ids[start : start + 2000]
        moved += conn.execute(
            update(events)
            .where(events.c.profile_id == kept_id, events.c.id.in_(chunk))
            .values(profile_id=absorbed_id)
        ).rowcount
    user_ids = [value for kind, value in handed_back if kind == "user_id"]
    anonymous_ids = [value for kind, value in handed_back if kind == "anonymous_id"]
    carried = []
    if user_ids:
        carried.append(events.c.user_id.in_(user_ids))
    if anonymous_ids:
        carried.append(events.c.anonymous_id.in_(anonymous_ids))
    if carried:
        # Merges recorded before event ids were kept: every event carrying its ids goes back.
        since = [events.c.received_at >= merged_at] if "event_ids" in snapshot else []
        moved += conn.execute(
            update(events)
            .where(events.c.profile_id == kept_id, *since, or_(*carried))
            .values(profile_id=absorbed_id)
        ).rowcount
    return moved


def _hand_back_accounts(
    conn: Connection, kept_id: str, absorbed_id: str, snapshot: dict[str, Any], before: dict[str, Any] | None
) -> None:
    theirs = set(snapshot.get("accounts") or [])
    if not theirs:
        return
    now = utcnow()
    conn.execute(
        insert(account_members),
        [{"account_id": a, "profile_id": absorbed_id, "created_at": now} for a in theirs],
    )
    if before is not None:  # accounts the survivor only had through the merge
        only_through_merge = theirs - set(before.get("accounts") or [])
        if only_through_merge:
            conn.execute(
                delete(account_members).where(
                    account_members.c.profile_id == kept_id,
                    account_members.c.account_id.in_(sorted(only_through_merge)),
                )
            )


def _restore_kept(conn: Connection, kept_id: str, before: dict[str, Any]) -> list[str]:
    """Put back each value the merge gave the survivor that is still the value the merge gave."""
    row = conn.execute(
        select(profiles.c.traits, profiles.c.provenance, profiles.c.quality)
        .where(profiles.c.id == kept_id)
        .with_for_update()
    ).one()
    traits = dict(row.traits)
    provenance = decode_provenance(row.provenance, traits)
    flags = quality_flags.decode(row.quality)
    old_traits = before.get("traits") or {}
    old_provenance = decode_provenance(before.get("provenance"), old_traits)
    old_flags = quality_flags.decode(before.get("quality") or "")
    restored: list[str] = []
    for name, merged_value in (before.get("changed") or {}).items():
        if traits.get(name) != merged_value:
            continue  # changed since the merge: the newer value stays
        restored.append(name)
        if name in old_traits:
            traits[name] = old_traits[name]
            provenance[name] = old_provenance.get(name, provenance.get(name, {"source": "", "at": ""}))
        else:
            traits.pop(name, None)
            provenance.pop(name, None)
        if name in old_flags:
            flags[name] = old_flags[name]
        else:
            flags.pop(name, None)
    if restored:
        _, _, search, quality, email_key = profile_row(traits, encode_provenance(provenance), flags)
        conn.execute(
            update(profiles)
            .where(profiles.c.id == kept_id)
            .values(
                traits=traits,
                provenance=encode_provenance(provenance),
                search=search,
                quality=quality,
                email_key=email_key,
                updated_at=utcnow(),
            )
        )
    return restored
