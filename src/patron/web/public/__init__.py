"""Public pages people reach from mail and sites, without logging in: preference centre,
unsubscribe (with RFC 8058 one-click), double opt-in confirmation, hosted subscribe forms."""

from pathlib import Path

from fastapi import APIRouter

from patron.web.public import forms, pages

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(forms.router)

__all__ = ["STATIC_DIR", "router"]
