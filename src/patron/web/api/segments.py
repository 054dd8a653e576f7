"""/api/v1 segments (filled in by the segments issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["segments"])
