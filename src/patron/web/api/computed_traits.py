"""/api/v1 computed_traits (filled in by the segments issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["computed_traits"])
