"""What the scoring page shows: how many people sit in each score band, and the top leads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from patron.segments.compile import trait_number
from patron.storage.schema import profiles


def _score(conn: Connection) -> Any:
    """lead_score as a number where it is one (NULL otherwise)."""
    return trait_number(conn, "lead_score")


def band_counts(conn: Connection, lower_edges: Sequence[float | None]) -> list[int]:
    """People per band in one grouped scan; band n holds scores from lower_edges[n] (None: no lower
    bound) up to the next edge, and people without a score are not counted."""
    score = _score(conn)
    whens = [
        (score >= edge, literal(n)) for n, edge in reversed(list(enumerate(lower_edges))) if edge is not None
    ]
    first_open = 0 if lower_edges and lower_edges[0] is None else None
    band = case(*whens, else_=literal(first_open)) if whens else literal(first_open)
    rows = conn.execute(
        select(band.label("band"), func.count()).where(score.is_not(None)).group_by(band)
    ).all()
    counts = [0] * len(lower_edges)
    for index, count in rows:
        if index is not None:
            counts[int(index)] += count
    return counts


def top_leads(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The highest scores first: {"id", "traits", "score", "stage"}."""
    score = _score(conn)
    rows = conn.execute(
        select(profiles.c.id, profiles.c.traits, score.label("score"))
        .where(score.is_not(None))
        .order_by(score.desc(), profiles.c.id)
        .limit(limit)
    ).all()
    return [
        {
            "id": row.id,
            "traits": row.traits,
            "score": row.traits.get("lead_score"),
            "stage": row.traits.get("lead_stage"),
        }
        for row in rows
    ]
