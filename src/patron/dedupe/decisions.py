"""Decisions people made about pairs: "not the same person", remembered across dedupe runs."""

from __future__ import annotations

from sqlalchemy import Connection, select

from patron.profiles.merges import survivor_in
from patron.storage.schema import match_decisions, profile_merges
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

DISTINCT = "distinct"


def remember_distinct(conn: Connection, first: str, second: str, *, actor: str) -> None:
    """Record that these two profiles are different people."""
    a, b = sorted((first, second))
    conn.execute(
        insert_ignoring_conflicts(conn, match_decisions, ["profile_a", "profile_b"]),
        [{"profile_a": a, "profile_b": b, "decision": DISTINCT, "actor": actor, "created_at": utcnow()}],
    )


def distinct_pairs(conn: Connection) -> set[tuple[str, str]]:
    """Every "not the same person" pair, as the profiles the two now live on (merges followed)."""
    survivor = dict(
        conn.execute(
            select(profile_merges.c.absorbed_id, profile_merges.c.kept_id).where(
                profile_merges.c.undone_at.is_(None)
            )
        ).all()
    )
    pairs: set[tuple[str, str]] = set()
    for a, b in conn.execute(
        select(match_decisions.c.profile_a, match_decisions.c.profile_b).where(
            match_decisions.c.decision == DISTINCT
        )
    ):
        a, b = survivor_in(survivor, a), survivor_in(survivor, b)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    return pairs
