"""Admin: scoring (filled in by the segments issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
