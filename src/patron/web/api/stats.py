"""/api/v1/stats: exact counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from patron import profiles
from patron.web.api.schemas import Stats
from patron.web.deps import ReadDB

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=Stats)
def stats(conn: ReadDB) -> dict[str, Any]:
    """Exact counts of profiles, identities, events and open merge candidates."""
    return profiles.stats(conn)
