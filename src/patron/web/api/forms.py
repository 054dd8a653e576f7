"""REST forms (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["forms"])
