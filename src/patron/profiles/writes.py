"""Set-based upsert of prepared records: find each person by any identity, create if none.

One batch costs a handful of statements whatever its size: one identity lookup per kind,
one profile load, then executemany inserts and updates (see bench/import.py for figures).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update

from patron.errors import ConcurrentWrite, Conflict, NotFound
from patron.fields.definitions import register_discovered
from patron.identity.normalise import Identity
from patron.profiles.record import PreparedRecord, search_text
from patron.storage.ids import new_id
from patron.storage.schema import identities, merge_candidates, profiles
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# Keeps every IN list under SQLite's and psycopg's bound-parameter limits.
LOOKUP_CHUNK = 5000


@dataclass(slots=True)
class _ProfileState:
    traits: dict[str, Any]
    provenance: dict[str, Any]
    is_new: bool
    changed: bool = False


@dataclass(slots=True)
class RecordOutcome:
    """What the upsert did with one record."""

    profile_id: str
    status: str  # created | updated | unchanged
    merge_candidates: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BatchOutcome:
    """Per-record outcomes, in input order, and the batch's totals."""

    records: list[RecordOutcome]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    candidates: int = 0


def upsert_records(conn: Connection, batch: Sequence[PreparedRecord]) -> BatchOutcome:
    """Upsert records that each carry at least one identity; later records see earlier ones."""
    now = utcnow()
    stamp = now.isoformat().replace("+00:00", "Z")
    owner = find_owners(conn, {i for record in batch for i in record.identities})
    states = _load_states(conn, set(owner.values()))
    new_identities: list[dict[str, Any]] = []
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    outcome = BatchOutcome(records=[])

    for record in batch:
        if not record.identities:
            raise ValueError("upsert_records needs records with an identity; reject others first")
        matched: list[str] = []
        for identity in record.identities:  # sorted by priority: the first match decides
            profile_id = owner.get(identity)
            if profile_id is not None and profile_id not in matched:
                matched.append(profile_id)
        if matched:
            profile_id = matched[0]
            state = states[profile_id]
            status = UPDATED if _apply(state, record, stamp) else UNCHANGED
        else:
            profile_id = new_id()
            state = states[profile_id] = _ProfileState({}, {}, is_new=True)
            _apply(state, record, stamp)
            status = CREATED
        result = RecordOutcome(profile_id, status)
        for other in matched[1:]:
            # One record, two people: never guess. Keep both and let a person decide.
            pair = (min(profile_id, other), max(profile_id, other))
            pairs.setdefault(pair, _evidence(record, owner, pair))
            result.merge_candidates.append(other)
        for identity in record.identities:
            if identity not in owner:
                owner[identity] = profile_id
                new_identities.append(
                    {
                        "kind": identity.kind,
                        "value": identity.value,
                        "profile_id": profile_id,
                        "source": record.source,
                        "created_at": now,
                    }
                )
                if status == UNCHANGED:
                    status = result.status = UPDATED
        outcome.records.append(result)
        setattr(outcome, status, getattr(outcome, status) + 1)

    _write(conn, states, new_identities, now)
    outcome.candidates = record_candidates(conn, pairs)
    _register_new_fields(conn, batch)
    if conn.dialect.name == "postgresql" and new_identities:
        _verify_claims(conn, new_identities)
    return outcome


def find_owners(conn: Connection, wanted: set[Identity]) -> dict[Identity, str]:
    """{identity: profile id} for the identities that belong to someone."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for identity in wanted:
        by_kind[identity.kind].append(identity.value)
    found: dict[Identity, str] = {}
    for kind, values in by_kind.items():
        for start in range(0, len(values), LOOKUP_CHUNK):
            chunk = values[start : start + LOOKUP_CHUNK]
            query = select(identities.c.value, identities.c.profile_id).where(
                identities.c.kind == kind, identities.c.value.in_(chunk)
            )
            for value, profile_id in conn.execute(query):
                found[Identity(kind, value)] = profile_id
    return found


def record_candidates(conn: Connection, pairs: dict[tuple[str, str], dict[str, Any]]) -> int:
    """Store possible duplicates (a, b) with their evidence; a known pair is left as it is."""
    if not pairs:
        return 0
    now = utcnow()
    rows = [
        {
            "profile_a": a,
            "profile_b": b,
            "reason": evidence.pop("reason"),
            "evidence": evidence,
            "status": "open",
            "created_at": now,
        }
        for (a, b), evidence in pairs.items()
    ]
    conn.execute(insert_ignoring_conflicts(conn, merge_candidates, ["profile_a", "profile_b"]), rows)
    return len(rows)


def _load_states(conn: Connection, profile_ids: set[str]) -> dict[str, _ProfileState]:
    states: dict[str, _ProfileState] = {}
    ordered = sorted(profile_ids)  # one lock order for every batch: no deadlocks on PostgreSQL
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        query = (
            select(profiles.c.id, profiles.c.traits, profiles.c.provenance)
            .where(profiles.c.id.in_(chunk))
            .order_by(profiles.c.id)
            .with_for_update()  # read-modify-write; rendered only on PostgreSQL
        )
        for profile_id, traits, provenance in conn.execute(query):
            states[profile_id] = _ProfileState(traits, provenance, is_new=False)
    return states


def _apply(state: _ProfileState, record: PreparedRecord, stamp: str) -> bool:
    """Set the record's traits on the profile; True when anything changed."""
    changed = False
    for name, value in record.traits.items():
        current = state.traits.get(name)
        # Compare types too: True == 1 and 1 == 1.0 in Python, not in the data.
        if current is None or current != value or type(current) is not type(value):
            state.traits[name] = value
            state.provenance[name] = {"source": record.source, "at": stamp}
            changed = True
    state.changed = state.changed or changed
    return changed


def _register_new_fields(conn: Connection, records: Sequence[PreparedRecord]) -> None:
    """Put traits seen for the first time into the data dictionary, with where they came from."""
    discovered = {
        name: (ftype, f"Discovered in data from {record.source}", record.source)
        for record in records
        for name, ftype in record.new_fields.items()
    }
    register_discovered(conn, discovered)


def _evidence(record: PreparedRecord, owner: dict[Identity, str], pair: tuple[str, str]) -> dict[str, Any]:
    shared = [
        {**identity.as_dict(), "profile_id": owner[identity]}
        for identity in record.identities
        if owner.get(identity) in pair
    ]
    return {
        "reason": f"one record from {record.source} matches both profiles",
        "source": record.source,
        "identities": shared,
    }


def _write(
    conn: Connection, states: dict[str, _ProfileState], new_identities: list[dict[str, Any]], now: Any
) -> None:
    created = [
        {
            "id": pid,
            "traits": s.traits,
            "provenance": s.provenance,
            "search": search_text(s.traits),
            "created_at": now,
            "updated_at": now,
        }
        for pid, s in states.items()
        if s.is_new
    ]
    changed = [
        {
            "pid": pid,
            "traits": s.traits,
            "provenance": s.provenance,
            "search": search_text(s.traits),
            "updated_at": now,
        }
        for pid, s in states.items()
        if s.changed and not s.is_new
    ]
    if created:
        conn.execute(insert(profiles), created)
    if changed:
        statement = (
            update(profiles)
            .where(profiles.c.id == bindparam("pid"))
            .values(
                traits=bindparam("traits"),
                provenance=bindparam("provenance"),
                search=bindparam("search"),
                updated_at=bindparam("updated_at"),
            )
        )
        conn.execute(statement, changed)
    if new_identities:
        conn.execute(insert_ignoring_conflicts(conn, identities, ["kind", "value"]), new_identities)


def _verify_claims(conn: Connection, claimed: list[dict[str, Any]]) -> None:
    """On PostgreSQL a concurrent writer may have taken an identity first: detect it."""
    wanted = {(row["kind"], row["value"]): row["profile_id"] for row in claimed}
    keys = list(wanted)
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        query = select(identities.c.kind, identities.c.value, identities.c.profile_id).where(
            tuple_(identities.c.kind, identities.c.value).in_(chunk)
        )
        for kind, value, profile_id in conn.execute(query):
            if wanted[(kind, value)] != profile_id:
                raise ConcurrentWrite(
                    f"identity {kind}:{value} was claimed by another writer; retry the batch"
                )


def patch_profile(
    conn: Connection, profile_id: str, record: PreparedRecord, *, unset: Sequence[str] = ()
) -> bool:
    """Set traits and add identities on one profile, remove `unset` traits; True if it changed."""
    rows = _load_states(conn, {profile_id})
    if profile_id not in rows:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
    state = rows[profile_id]
    owners = find_owners(conn, set(record.identities))
    for identity, owner_id in owners.items():
        if owner_id != profile_id:
            raise Conflict(
                f"{identity.kind} {identity.value!r} already belongs to profile {owner_id}",
                field=identity.kind,
                details={"profile_id": owner_id},
            )
    changed = _apply(state, record, utcnow().isoformat().replace("+00:00", "Z"))
    for name in unset:
        if name in state.traits:
            del state.traits[name]
            state.provenance.pop(name, None)
            state.changed = changed = True
    now = utcnow()
    new_identities = [
        {
            "kind": i.kind,
            "value": i.value,
            "profile_id": profile_id,
            "source": record.source,
            "created_at": now,
        }
        for i in record.identities
        if i not in owners
    ]
    _write(conn, rows, new_identities, now)
    _register_new_fields(conn, [record])
    return changed or bool(new_identities)


def delete_profile(conn: Connection, profile_id: str) -> None:
    """Delete a profile with its identities and merge candidates."""
    deleted = conn.execute(delete(profiles).where(profiles.c.id == profile_id)).rowcount
    if not deleted:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
