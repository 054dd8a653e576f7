"""Set-based upsert of prepared records: find each person by any identity, create if none.

One batch costs a handful of statements whatever its size: one identity lookup per kind,
one profile load, then executemany inserts and updates (see bench/import.py for figures).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, delete, func, select

from patron.errors import ConcurrentWrite, Conflict, NotFound
from patron.fields.definitions import register_discovered
from patron.identity.normalise import Identity
from patron.identity.rules import ANONYMOUS, DEFAULT_RULES, IdentityRules
from patron.profiles.merges import absorb_profile
from patron.profiles.provenance import decode as decode_provenance
from patron.profiles.provenance import encode as encode_provenance
from patron.profiles.record import PreparedRecord, profile_row
from patron.quality import flags as quality_flags
from patron.storage.bulk import driver_datetime, in_values, insert_many, update_many
from patron.storage.ids import new_ids
from patron.storage.schema import identities, merge_candidates, profiles
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
PROFILE_COLUMNS = ("id", "traits", "provenance", "search", "quality", "email_key", "updated_at", "created_at")
IDENTITY_COLUMNS = ("kind", "value", "profile_id", "source", "created_at")
# Keeps every IN list under SQLite's and psycopg's bound-parameter limits.
LOOKUP_CHUNK = 5000


@dataclass(slots=True)
class _ProfileState:
    traits: dict[str, Any]
    provenance: dict[str, Any]
    is_new: bool
    # How many identities of each kind the profile holds (limits are per kind).
    kinds: Counter[str] = field(default_factory=Counter)
    changed: bool = False
    # Quality flags of the current values ({field: codes}).
    flags: quality_flags.Flags = field(default_factory=dict)


@dataclass(slots=True)
class RecordOutcome:
    """What the upsert did with one record."""

    profile_id: str
    status: str  # created | updated | unchanged
    merge_candidates: tuple[str, ...] = ()
    # Identities not attached because the profile already holds as many of that kind as allowed.
    refused: tuple[Identity, ...] = ()
    # Anonymous profiles this record showed to be the same person, now merged into profile_id.
    merged: tuple[str, ...] = ()


@dataclass(slots=True)
class BatchOutcome:
    """Per-record outcomes, in input order, and the batch's totals."""

    records: list[RecordOutcome]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    candidates: int = 0
    merged: int = 0
    # Profiles created or changed: what derived data (segments, scores) must look at again.
    changed: set[str] = field(default_factory=set)
    # Profiles that absorbed another's events in a merge: their event-computed traits moved too.
    gained_events: set[str] = field(default_factory=set)


def upsert_records(
    conn: Connection,
    batch: Sequence[PreparedRecord],
    *,
    stamp: str | None = None,
    outcomes: bool = True,
    rules: IdentityRules = DEFAULT_RULES,
) -> BatchOutcome:
    """Upsert records that each carry at least one identity; later records see earlier ones.

    Within the identity rules: a profile holds at most `rules.limit(kind)` identities of a kind
    (extra ones are refused); a record whose deciding identity is of a single-valued kind the
    matched profile already holds another value of is someone else (a new profile, and a merge
    candidate); a record linking a profile to an anonymous-only one merges the anonymous one in.

    `stamp` is the provenance time of every value written (default: now); an import passes its
    start time, so all its values share one, the one its workers serialised rows with. With
    `outcomes=False` only the totals are kept (imports), not one RecordOutcome per record.
    """
    now = utcnow()
    at = driver_datetime(conn, now)
    stamp = stamp or provenance_stamp(now)
    run = _Resolution(
        owner=find_owners(conn, {i for record in batch for i in record.identities}), stamp=stamp, rules=rules
    )
    run.states = _load_states(conn, set(run.owner.values()))
    fresh_ids = iter(new_ids(len(batch)))
    outcome = BatchOutcome(records=[])
    counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0}
    for record in batch:
        if not record.identities:
            raise ValueError("upsert_records needs records with an identity; reject others first")
        matched: list[str] = []
        for identity in record.identities:  # sorted by priority: the first match decides
            profile_id = run.owner.get(identity)
            if profile_id is not None and profile_id not in matched:
                matched.append(profile_id)
        top = record.identities[0]
        if (
            matched
            and top not in run.owner
            and rules.limit(top.kind) == 1
            and run.at_limit(matched[0], top.kind)
        ):
            # The deciding identity is single-valued and that profile has another (say a second
            # user id on a shared device): this record is someone else, sharing weaker identities.
            # Kinds allowing several (email: 5) only refuse the extra identity, in `attach`.
            profile_id = next(fresh_ids)
            run.create(profile_id, record)
            status, others = CREATED, matched
        elif matched:
            profile_id, others = matched[0], matched[1:]
            status = UPDATED if run.apply(profile_id, record) else UNCHANGED
        else:
            profile_id, others = next(fresh_ids), []
            run.create(profile_id, record)
            status = CREATED
        merged, candidates = run.link(profile_id, others, record) if others else ((), ())
        attached, refused = run.attach(profile_id, record, at, fresh=status == CREATED)
        if status == UNCHANGED and (merged or attached):
            status = UPDATED
        if outcomes:
            outcome.records.append(RecordOutcome(profile_id, status, candidates, refused, merged))
        if status != UNCHANGED:
            outcome.changed.add(profile_id)
        counts[status] += 1
    outcome.created, outcome.updated, outcome.unchanged = counts[CREATED], counts[UPDATED], counts[UNCHANGED]
    for result in outcome.records:  # a profile merged later in the batch lives on as its keeper
        result.profile_id = run.keeper(result.profile_id)
    outcome.changed = {run.keeper(profile_id) for profile_id in outcome.changed}

    new_identities = run.new_identities
    if run.merged_into:  # identities claimed for a profile merged later in the batch
        new_identities = [(kind, value, run.keeper(pid), *rest) for kind, value, pid, *rest in new_identities]
    _write(conn, run.states, run.ready, new_identities, at)
    for keep, absorb, evidence, snapshot, before in run.merges:
        absorb_profile(
            conn,
            keep=run.keeper(keep),
            absorb=absorb,
            evidence=evidence,
            snapshot=snapshot,
            kept_before=before,
        )
    outcome.merged = len(run.merges)
    outcome.gained_events = {run.keeper(keep) for keep, *_ in run.merges}
    outcome.candidates = record_candidates(conn, run.pairs)
    _register_new_fields(conn, batch)
    return outcome


@dataclass(slots=True)
class _Resolution:
    """The state of one batch's resolution: who owns which identity, profiles being written."""

    owner: dict[Identity, str]
    stamp: str
    rules: IdentityRules
    states: dict[str, _ProfileState] = field(default_factory=dict)
    # New profiles made from one record and untouched since: their rows were serialised ahead.
    ready: dict[str, PreparedRecord] = field(default_factory=dict)
    new_identities: list[tuple[str, str, str, str, Any]] = field(default_factory=list)
    pairs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )

    def create(self, profile_id: str, record: PreparedRecord) -> None:
        """A new profile from this record (its identities are attached by `attach`)."""
        if record.new_row is not None:
            self.ready[profile_id] = record
        else:
            self.states[profile_id] = _ProfileState({}, {}, is_new=True)
            self.apply(profile_id, record)

    def state(self, profile_id: str) -> _ProfileState:
        """The profile as a mutable state (unpacking a ready row when first touched again)."""
        state = self.states.get(profile_id)
        if state is None:
            kinds = self.kinds(profile_id)
            record = self.ready.pop(profile_id)
            provenance = {name: {"source": record.source, "at": self.stamp} for name in record.traits}
            state = _ProfileState(
                dict(record.traits),
                provenance,
                is_new=True,
                kinds=kinds,
                changed=True,
                flags=dict(record.flags),
            )
            self.states[profile_id] = state
        return state

    def apply(self, profile_id: str, record: PreparedRecord) -> bool:
        """Set the record's traits on the profile; True when anything changed."""
        return _apply(self.state(profile_id), record, self.stamp)

    def kinds(self, profile_id: str) -> Counter[str]:
        """Identity counts of a profile (a ready one holds only its own record's identities)."""
        state = self.states.get(profile_id)
        if state is not None:
            return state.kinds
        record = self.ready[profile_id]
        return Counter(i.kind for i in record.identities if self.owner.get(i) == profile_id)

    def at_limit(self, profile_id: str, kind: str) -> bool:
        """True when the profile may not take another identity of `kind`."""
        limit = self.rules.limit(kind)
        return limit is not None and self.kinds(profile_id)[kind] >= limit

    def attach(
        self, profile_id: str, record: PreparedRecord, at: Any, *, fresh: bool
    ) -> tuple[int, tuple[Identity, ...]]:
        """Give the profile the record's identities nobody has yet: (how many, those refused)."""
        identities = record.identities
        if fresh and (len(identities) == 1 or len({i.kind for i in identities}) == len(identities)):
            # A profile this record just made, one identity of each kind: no limit can be hit.
            attached = 0
            for identity in identities:
                if identity not in self.owner:
                    self.owner[identity] = profile_id
                    self.new_identities.append((identity.kind, identity.value, profile_id, record.source, at))
                    attached += 1
            if profile_id in self.states:
                self.states[profile_id].kinds.update(
                    i.kind for i in identities if self.owner[i] == profile_id
                )
            return attached, ()
        refused: list[Identity] = []
        attached = 0
        kinds = self.state(profile_id).kinds
        for identity in record.identities:
            if identity in self.owner:
                continue
            limit = self.rules.limit(identity.kind)
            if limit is not None and kinds[identity.kind] >= limit:
                refused.append(identity)
                continue
            self.owner[identity] = profile_id
            kinds[identity.kind] += 1
            self.new_identities.append((identity.kind, identity.value, profile_id, record.source, at))
            attached += 1
        return attached, tuple(refused)

    def link(
        self, profile_id: str, others: list[str], record: PreparedRecord
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Other profiles this record also matched: merge anonymous ones in, keep the rest apart."""
        merged: list[str] = []
        candidates: list[str] = []
        for other in others:
            if other == profile_id:
                continue
            if set(self.kinds(other)) <= {ANONYMOUS}:
                self.absorb(profile_id, other, record)
                merged.append(other)
                continue
            # One record, two people: never guess. Keep both and let a person decide.
            pair = (min(profile_id, other), max(profile_id, other))
            self.pairs.setdefault(pair, _evidence(record, self.owner, pair))
            candidates.append(other)
        return tuple(merged), tuple(candidates)

    def absorb(self, keep: str, absorb: str, record: PreparedRecord) -> None:
        """Merge an anonymous profile into `keep`: its traits fill gaps, its identities move."""
        kept, gone = self.state(keep), self.state(absorb)
        snapshot = {
            "traits": dict(gone.traits),
            "provenance": encode_provenance(gone.provenance),
            "quality": quality_flags.encode(gone.flags),
        }
        # What the kept profile was and what it gained, so an unmerge can give exactly that back.
        before = {
            "traits": dict(kept.traits),
            "provenance": encode_provenance(kept.provenance),
            "quality": quality_flags.encode(kept.flags),
            "changed": {name: value for name, value in gone.traits.items() if name not in kept.traits},
        }
        for name, value in gone.traits.items():
            if name not in kept.traits:  # the known profile's values win
                kept.traits[name] = value
                kept.provenance[name] = gone.provenance.get(name, {"source": record.source, "at": self.stamp})
                if name in gone.flags:
                    kept.flags[name] = gone.flags[name]
        kept.kinds.update(gone.kinds)
        kept.changed = True
        moved = [identity for identity, owner in self.owner.items() if owner == absorb]
        for identity in moved:
            self.owner[identity] = keep
        del self.states[absorb]
        self.merged_into[absorb] = keep
        if not gone.is_new:
            evidence = {
                "source": record.source,
                "identities": [i.as_dict() for i in record.identities],
                "moved": [i.as_dict() for i in moved],
            }
            reason = f"one record from {record.source} links this anonymous profile to a known one"
            self.merges.append((keep, absorb, {"reason": reason, **evidence}, snapshot, before))

    def keeper(self, profile_id: str) -> str:
        """The profile a possibly merged profile lives on as."""
        while profile_id in self.merged_into:
            profile_id = self.merged_into[profile_id]
        return profile_id


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
                identities.c.kind == kind, in_values(conn, identities.c.value, chunk)
            )
            for value, profile_id in conn.execute(query).all():
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
            select(profiles.c.id, profiles.c.traits, profiles.c.provenance, profiles.c.quality)
            .where(profiles.c.id.in_(chunk))
            .order_by(profiles.c.id)
            .with_for_update()  # read-modify-write; rendered only on PostgreSQL
        )
        for profile_id, traits, provenance, quality in conn.execute(query).all():
            states[profile_id] = _ProfileState(
                traits,
                decode_provenance(provenance, traits),
                is_new=False,
                flags=quality_flags.decode(quality),
            )
        counts = (
            select(identities.c.profile_id, identities.c.kind, func.count())
            .where(identities.c.profile_id.in_(chunk))
            .group_by(identities.c.profile_id, identities.c.kind)
        )
        for profile_id, kind, count in conn.execute(counts).all():
            states[profile_id].kinds[kind] = count
    return states


def provenance_stamp(moment: datetime) -> str:
    """The provenance time of a write, as stored."""
    return moment.isoformat().replace("+00:00", "Z")


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
    if state.flags or record.flags:  # most profiles and records have none: skip the merge
        flags = quality_flags.replace_fields(state.flags, record.traits, record.flags)
        if flags != state.flags:
            state.flags = flags
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


_IDENTITY_KEY = itemgetter(0, 1)  # (kind, value) of an identity row


def _write(
    conn: Connection,
    states: dict[str, _ProfileState],
    ready: dict[str, PreparedRecord],
    claimed: list[tuple[str, str, str, str, Any]],
    at: Any,
) -> None:
    """Write new and changed profiles and the identities they claim (rows in driver form)."""
    created = [(pid, *record.new_row, at, at) for pid, record in ready.items() if record.new_row]
    created += [(pid, *_row_text(s), at, at) for pid, s in states.items() if s.is_new]
    changed = [(pid, *_row_text(s), at) for pid, s in states.items() if s.changed and not s.is_new]
    insert_many(conn, profiles, PROFILE_COLUMNS, created)
    update_many(conn, profiles, "id", PROFILE_COLUMNS[1:7], changed)
    is_postgresql = conn.dialect.name == "postgresql"
    # In key order, each insert lands beside the one before in the (kind, value) index instead of
    # anywhere in it (bench/import.py: 1.0 -> 0.76 s for 170,000 identities on SQLite).
    claimed = sorted(claimed, key=_IDENTITY_KEY)
    inserted = insert_many(
        conn,
        identities,
        IDENTITY_COLUMNS,
        claimed,
        ignore_conflicts_on=("kind", "value"),
        returning=("kind", "value") if is_postgresql else (),
    )
    if is_postgresql and len(inserted) < len(claimed):
        # SQLite writers hold the database lock (BEGIN IMMEDIATE); PostgreSQL ones can race.
        _refuse_lost_claims(conn, claimed, set(inserted))


def _row_text(state: _ProfileState) -> tuple[str, str, str, str, str | None]:
    """The stored row text of a profile's state."""
    return profile_row(state.traits, encode_provenance(state.provenance), state.flags)


def _refuse_lost_claims(
    conn: Connection, claimed: list[tuple[Any, ...]], inserted: set[tuple[str, str]]
) -> None:
    """Identities another writer took first: fine if ours already, else retry the batch."""
    lost = {(kind, value): pid for kind, value, pid, *_ in claimed if (kind, value) not in inserted}
    owners = find_owners(conn, {Identity(kind, value) for kind, value in lost})
    for identity, owner in owners.items():
        if lost[identity] != owner:
            raise ConcurrentWrite(f"identity {identity.kind}:{identity.value} was claimed by another writer")


def patch_profile(
    conn: Connection,
    profile_id: str,
    record: PreparedRecord,
    *,
    unset: Sequence[str] = (),
    rules: IdentityRules = DEFAULT_RULES,
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
    changed = _apply(state, record, provenance_stamp(utcnow()))
    for name in unset:
        if name in state.traits:
            del state.traits[name]
            state.provenance.pop(name, None)
            state.flags.pop(name, None)
            state.changed = changed = True
    at = driver_datetime(conn, utcnow())
    new_identities = []
    for identity in record.identities:
        if identity in owners:
            continue
        limit = rules.limit(identity.kind)
        if limit is not None and state.kinds[identity.kind] >= limit:
            raise Conflict(
                f"the profile already has {limit} {identity.kind} identities, the most allowed; "
                f"cannot add {identity.value!r}",
                field=identity.kind,
            )
        state.kinds[identity.kind] += 1
        new_identities.append((identity.kind, identity.value, profile_id, record.source, at))
    _write(conn, rows, {}, new_identities, at)
    _register_new_fields(conn, [record])
    return changed or bool(new_identities)


def delete_profile(conn: Connection, profile_id: str) -> None:
    """Delete a profile with its identities and merge candidates; addresses of a person who had
    withdrawn consent stay on the suppression list (patron.consent.suppression.keep_withdrawals)."""
    from patron.consent.suppression import keep_withdrawals  # consent reads profiles: imported here

    keep_withdrawals(conn, [profile_id], actor="delete")
    from patron.segments import forget  # segments read profiles: imported here, not above

    forget(conn, [profile_id])
    deleted = conn.execute(delete(profiles).where(profiles.c.id == profile_id)).rowcount
    if not deleted:
        raise NotFound(f"no profile with id {profile_id!r}", field="id")
