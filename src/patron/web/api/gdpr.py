"""REST gdpr (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["gdpr"])
