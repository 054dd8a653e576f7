"""Quality use cases the CLI, the API, the admin and the worker share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from patron.config import Settings
from patron.quality.activity import refresh_activity, stale_profiles
from patron.quality.profiling import profile_fields
from patron.quality.reapply import reapply_standards
from patron.quality.report import quality_report, report_fields, stale_count
from patron.quality.snapshots import record_snapshot
from patron.quality.standards import Standards
from patron.storage.engine import transaction
from patron.storage.types import utcnow


def refresh_and_report(engine: Engine, settings: Settings, *, snapshot: bool = True) -> dict[str, Any]:
    """Bring `active`/`last_activity_at` up to date, compute the report, keep it as today's snapshot."""
    with transaction(engine) as conn:
        refresh_activity(conn, now=utcnow(), window_days=settings.quality_stale_after_days)
    report = quality_report(engine)
    report["stale_after_days"] = settings.quality_stale_after_days
    if snapshot:
        with transaction(engine) as conn:
            record_snapshot(conn, report)
    return report


def stale_contacts(engine: Engine, settings: Settings, *, limit: int = 50) -> dict[str, Any]:
    """{"stale", "window_days", "data": [...]} after bringing activity up to date."""
    with transaction(engine) as conn:
        refresh_activity(conn, now=utcnow(), window_days=settings.quality_stale_after_days)
    with transaction(engine, write=False) as conn:
        data = stale_profiles(conn, limit=limit)
        count = stale_count(conn)
    return {"stale": count, "window_days": settings.quality_stale_after_days, "data": data}


def profiling(conn: Connection) -> dict[str, Any]:
    """Top values and value shapes of every reported field, over the newest profiles."""
    return profile_fields(conn, report_fields(conn))


def reapply(conn: Connection, standards: Standards, *, apply: bool) -> dict[str, Any]:
    """Preview (or apply) the standardisation rules on stored profiles."""
    return reapply_standards(conn, standards, apply=apply)
