"""REST API under /api/v1 (admin keys only)."""

from fastapi import APIRouter, Depends

from patron.web.api import (
    computed_traits,
    consent,
    dedupe,
    fields,
    forms,
    gdpr,
    jobs,
    profiles,
    quality,
    scoring,
    segments,
    stats,
    tracking,
)
from patron.web.deps import require_admin_key

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin_key)])
for module in (
    profiles, tracking, fields, stats, jobs, quality, dedupe, consent, gdpr, forms, segments, scoring,
    computed_traits,
):  # fmt: skip
    router.include_router(module.router)

__all__ = ["router"]
