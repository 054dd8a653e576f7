"""REST API under /api/v1 (admin keys only)."""

from fastapi import APIRouter, Depends

from patron.web.api import consent, dedupe, fields, forms, gdpr, jobs, profiles, quality, stats, tracking
from patron.web.deps import require_admin_key

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin_key)])
for module in (profiles, tracking, fields, stats, jobs, quality, dedupe, consent, gdpr, forms):
    router.include_router(module.router)

__all__ = ["router"]
