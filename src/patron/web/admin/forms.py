"""Admin forms pages (being built)."""

from fastapi import APIRouter

router = APIRouter()
