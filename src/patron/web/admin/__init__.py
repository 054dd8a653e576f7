"""The server-rendered admin at /admin."""

from fastapi import APIRouter

from patron.web.admin import (
    auth,
    computed,
    consent,
    duplicates,
    forms,
    pages,
    quality,
    scoring,
    segments,
    tracking,
)
from patron.web.admin.auth import CsrfFailed, LoginRequired
from patron.web.admin.render import HERE

router = APIRouter(prefix="/admin", include_in_schema=False)
router.include_router(auth.router)
router.include_router(pages.router)
router.include_router(tracking.router)
router.include_router(quality.router)
router.include_router(duplicates.router)
router.include_router(consent.router)
router.include_router(forms.router)
router.include_router(segments.router)
router.include_router(scoring.router)
router.include_router(computed.router)
STATIC_DIR = HERE / "static"

__all__ = ["STATIC_DIR", "CsrfFailed", "LoginRequired", "router"]
