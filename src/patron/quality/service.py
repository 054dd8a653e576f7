"""Quality use cases the CLI, the API, the admin and the worker share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from patron.config import Settings
from patron.quality.activity import refresh_activity, stale_profiles
from patron.quality.profiling import profile_fields
from patron.quality.report import quality_report, report_fields, stale_count
from patron.quality.snapshots import record_snapshot
from patron.storage.engine import transaction
from patron.storage.types import utcnow


def report(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The quality report as of now (stale contacts as of the last refresh); writes nothing."""
    return {**quality_report(engine), "stale_after_days": settings.quality_stale_after_days}


def refresh_and_report(engine: Engine, settings: Settings, *, snapshot: bool = True) -> dict[str, Any]:
    """Bring `active`/`last_activity_at` up to date, compute the report, keep it as today's snapshot.

    The worker does this every hour; `patron quality` and POST /api/v1/quality/snapshots on demand.
    """
    with transaction(engine) as conn:
        refresh_activity(conn, now=utcnow(), window_days=settings.quality_stale_after_days)
    current = report(engine, settings)
    if snapshot:
        with transaction(engine) as conn:
            record_snapshot(conn, current)
    return current


def stale_contacts(conn: Connection, settings: Settings, *, limit: int = 50) -> dict[str, Any]:
    """{"stale", "window_days", "data": [...]}: stale contacts as of the last refresh."""
    return {
        "stale": stale_count(conn),
        "window_days": settings.quality_stale_after_days,
        "data": stale_profiles(conn, limit=limit),
    }


def profiling(conn: Connection) -> dict[str, Any]:
    """Top values and value shapes of every reported field, over the newest profiles."""
    return profile_fields(conn, report_fields(conn))
