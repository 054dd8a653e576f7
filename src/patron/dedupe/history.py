"""Reading merge history: every merge with its evidence, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from patron.errors import Invalid, NotFound
from patron.storage.schema import profile_merges

MAX_PAGE = 200


def list_merges(
    conn: Connection, *, profile_id: str | None = None, limit: int = 50, before: int | None = None
) -> list[dict[str, Any]]:
    """Merges, newest first; with `profile_id`, those it took part in; `before` pages by id."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    query = select(profile_merges).order_by(profile_merges.c.id.desc()).limit(limit)
    if profile_id is not None:
        query = query.where(
            or_(profile_merges.c.kept_id == profile_id, profile_merges.c.absorbed_id == profile_id)
        )
    if before is not None:
        query = query.where(profile_merges.c.id < before)
    return [_public(dict(row)) for row in conn.execute(query).mappings()]


def get_merge(conn: Connection, merge_id: int) -> dict[str, Any]:
    """One merge with its evidence and what the absorbed profile held."""
    row = conn.execute(select(profile_merges).where(profile_merges.c.id == merge_id)).mappings().first()
    if row is None:
        raise NotFound(f"merge {merge_id} does not exist")
    return _public(dict(row), full=True)


def _public(row: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    snapshot = row.get("snapshot") or {}
    item = {
        "id": row["id"],
        "kept_id": row["kept_id"],
        "absorbed_id": row["absorbed_id"],
        "reason": row["reason"],
        "score": row["score"],
        "actor": row["actor"],
        "group_id": row["group_id"],
        "created_at": row["created_at"].isoformat(),
        "undone_at": row["undone_at"].isoformat() if row["undone_at"] else None,
        "undone_by": row["undone_by"],
        "evidence": row["evidence"],
        "absorbed": {
            "traits": snapshot.get("traits") or {},
            "identities": [
                {"kind": i["kind"], "value": i["value"]} for i in snapshot.get("identities") or []
            ],
        },
    }
    if full:
        item["absorbed"]["events"] = len(snapshot.get("event_ids") or [])
    return item


def survivor_of(conn: Connection, profile_id: str) -> str | None:
    """The profile a merged-away profile lives on as (merges followed, undone ones not); None
    when it was never merged away."""
    survivor = None
    seen: set[str] = set()
    current = profile_id
    while current not in seen:
        seen.add(current)
        kept = conn.execute(
            select(profile_merges.c.kept_id)
            .where(profile_merges.c.absorbed_id == current, profile_merges.c.undone_at.is_(None))
            .order_by(profile_merges.c.id.desc())
            .limit(1)
        ).scalar()
        if kept is None:
            break
        survivor = current = kept
    return survivor
