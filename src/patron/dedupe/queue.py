"""The review queue: pairs that are possibly one person, and what a reviewer decides about them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from patron.dedupe.decisions import remember_distinct
from patron.dedupe.merging import MergeOutcome, MergeRequest, merge_groups
from patron.dedupe.survivorship import Survivorship
from patron.errors import Conflict, Invalid, NotFound
from patron.profiles import get_profiles
from patron.storage.schema import merge_candidates
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

OPEN, MERGED, DISTINCT = "open", "merged", "distinct"
DECISIONS = ("merge", "distinct", "skip")
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class QueuedPair:
    """A pair to put before a reviewer, with its probability and evidence."""

    first: str
    second: str
    probability: float
    origin: str
    reason: str
    evidence: dict[str, Any] | None = None

    def explained(self, evidence: dict[str, Any]) -> QueuedPair:
        """The same pair carrying the per-field evidence."""
        return replace(self, evidence=evidence)

    def between(self, first: str, second: str) -> QueuedPair:
        """The pair as it stands between these two profiles (after one was merged into another)."""
        return replace(self, first=first, second=second)


def queue_pairs(conn: Connection, pairs: Sequence[QueuedPair]) -> int:
    """Add new pairs to the queue and refresh the score and evidence of pairs already there.

    A pair a reviewer decided about stays decided. Returns how many pairs were new.
    """
    if not pairs:
        return 0
    now = utcnow()
    rows = {}
    for pair in pairs:
        a, b = sorted((pair.first, pair.second))
        rows[(a, b)] = {
            "profile_a": a, "profile_b": b, "reason": pair.reason, "evidence": pair.evidence or {},
            "status": OPEN, "origin": pair.origin, "score": pair.probability, "created_at": now,
        }  # fmt: skip
    known = _known(conn, list(rows))
    fresh = [row for key, row in rows.items() if key not in known]
    if fresh:
        conn.execute(insert_ignoring_conflicts(conn, merge_candidates, ["profile_a", "profile_b"]), fresh)
    refresh = [
        # Ingest evidence (which record shared which identities) stays beside the new scores.
        {"id_": known[key][0], "score_": row["score"], "evidence_": {**known[key][1], **row["evidence"]}}
        for key, row in rows.items()
        if key in known
    ]
    if refresh:
        conn.execute(
            update(merge_candidates)
            .where(merge_candidates.c.id == bindparam("id_"), merge_candidates.c.status == OPEN)
            .values(score=bindparam("score_"), evidence=bindparam("evidence_")),
            refresh,
        )
    return len(fresh)


def _known(
    conn: Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """Pairs already recorded: (id, evidence) by pair."""
    found: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    firsts = sorted({a for a, _ in keys})
    wanted = set(keys)
    columns = (merge_candidates.c.id, merge_candidates.c.profile_a, merge_candidates.c.profile_b,
               merge_candidates.c.evidence)  # fmt: skip
    for start in range(0, len(firsts), 2000):
        chunk = firsts[start : start + 2000]
        for cid, a, b, evidence in conn.execute(
            select(*columns).where(merge_candidates.c.profile_a.in_(chunk))
        ):
            if (a, b) in wanted:
                found[(a, b)] = (cid, dict(evidence or {}))
    return found


def count_open(conn: Connection) -> int:
    """Pairs waiting for a reviewer."""
    query = select(func.count()).select_from(merge_candidates).where(merge_candidates.c.status == OPEN)
    return conn.execute(query).scalar_one()


def list_queue(
    conn: Connection, *, status: str = OPEN, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Candidates with `status`: the likeliest first, skipped ones last."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if offset < 0:
        raise Invalid("offset must not be negative", field="offset")
    order = (
        merge_candidates.c.skipped_at.is_not(None),
        merge_candidates.c.skipped_at,
        func.coalesce(merge_candidates.c.score, 1.0).desc(),
        merge_candidates.c.id,
    )
    query = select(merge_candidates).where(merge_candidates.c.status == status).order_by(*order)
    return [dict(row) for row in conn.execute(query.limit(limit).offset(offset)).mappings()]


def get_candidate(conn: Connection, candidate_id: int) -> dict[str, Any]:
    """One candidate pair; NotFound when there is none with this id."""
    row = (
        conn.execute(select(merge_candidates).where(merge_candidates.c.id == candidate_id)).mappings().first()
    )
    if row is None:
        raise NotFound(f"duplicate candidate {candidate_id} does not exist (merged or removed?)")
    return dict(row)


def decide(
    conn: Connection, candidate_id: int, decision: str, *, actor: str, survivorship: Survivorship
) -> dict[str, Any]:
    """A reviewer's decision: merge the pair, mark it "not the same person" (remembered), or skip it."""
    if decision not in DECISIONS:
        raise Invalid(f"decision {decision!r} is not one of {', '.join(DECISIONS)}", field="decision")
    candidate = get_candidate(conn, candidate_id)
    if candidate["status"] != OPEN:
        raise Conflict(f"duplicate candidate {candidate_id} was already decided ({candidate['status']})")
    now = utcnow()
    a, b = candidate["profile_a"], candidate["profile_b"]
    if decision == "skip":
        conn.execute(
            update(merge_candidates).where(merge_candidates.c.id == candidate_id).values(skipped_at=now)
        )
        return {"id": candidate_id, "status": OPEN, "skipped": True}
    if decision == "distinct":
        remember_distinct(conn, a, b, actor=actor)
        conn.execute(
            update(merge_candidates)
            .where(merge_candidates.c.id == candidate_id)
            .values(status=DISTINCT, resolved_at=now, resolved_by=actor)
        )
        return {"id": candidate_id, "status": DISTINCT}
    outcome = merge_pair(conn, a, b, actor=actor, survivorship=survivorship, evidence=candidate)
    return {"id": candidate_id, "status": MERGED, "kept_id": outcome.kept, "absorbed_id": outcome.absorbed[0]}


def merge_pair(
    conn: Connection,
    first: str,
    second: str,
    *,
    actor: str,
    survivorship: Survivorship,
    evidence: dict[str, Any] | None = None,
) -> MergeOutcome:
    """Merge two profiles a person decided are one (identity limits do not stop a person)."""
    if first == second:
        raise Invalid("a profile cannot be merged with itself", field="other")
    pair = dict((evidence or {}).get("evidence") or {})
    score = (evidence or {}).get("score")
    request = MergeRequest(
        (first, second),
        f"merged by {actor}",
        score,
        ({"a": first, "b": second, "probability": score, **pair},),
    )
    outcomes = merge_groups(conn, [request], survivorship=survivorship, actor=actor)
    if not outcomes:
        raise NotFound(f"profile {first} or {second} does not exist (already merged?)")
    return outcomes[0]


def candidate_view(conn: Connection, candidate: dict[str, Any]) -> dict[str, Any]:
    """The public form of a candidate: its score, evidence and both profiles side by side."""
    return candidate_views(conn, [candidate])[0]


def candidate_views(conn: Connection, candidates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """candidate_view for a page of candidates, with one read of all their profiles."""
    found = get_profiles(conn, [pid for c in candidates for pid in (c["profile_a"], c["profile_b"])])

    def person(profile_id: str) -> dict[str, Any]:
        profile = found.get(profile_id)
        return profile.as_dict() if profile else {"id": profile_id, "missing": True}

    return [
        {
            "id": candidate["id"],
            "status": candidate["status"],
            "origin": candidate["origin"],
            "score": candidate["score"],
            "reason": candidate["reason"],
            "evidence": candidate["evidence"],
            "skipped_at": candidate["skipped_at"].isoformat() if candidate["skipped_at"] else None,
            "created_at": candidate["created_at"].isoformat(),
            "profiles": [person(candidate["profile_a"]), person(candidate["profile_b"])],
        }
        for candidate in candidates
    ]
