"""Daily quality snapshots: one report a day, kept so the admin can chart the trend."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from patron.storage.schema import quality_snapshots
from patron.storage.statements import upsert
from patron.storage.types import utcnow


def record_snapshot(conn: Connection, report: dict[str, Any], *, day: date | None = None) -> str:
    """Keep `report` as the day's snapshot (a later one the same day replaces it); returns the day."""
    when = (day or utcnow().date()).isoformat()
    row = {"day": when, "score": round(report["score"]), "report": report, "created_at": utcnow()}
    conn.execute(upsert(conn, quality_snapshots, ["day"], ["score", "report", "created_at"]), row)
    return when


def snapshots(conn: Connection, *, days: int = 90) -> list[dict[str, Any]]:
    """The last `days` snapshots, oldest first: {"day", "score", "report"}."""
    rows = conn.execute(
        select(quality_snapshots.c.day, quality_snapshots.c.score, quality_snapshots.c.report)
        .order_by(quality_snapshots.c.day.desc())
        .limit(days)
    ).all()
    return [{"day": day, "score": score, "report": report} for day, score, report in reversed(rows)]


def trend(conn: Connection, *, days: int = 90) -> list[tuple[datetime, dict[str, float]]]:
    """(day, {"score", "validity", ...}) points for the chart."""
    points = []
    for snapshot in snapshots(conn, days=days):
        report = snapshot["report"]
        values = {"score": float(report["score"]), **{k: 100 * v for k, v in report["score_parts"].items()}}
        points.append((datetime.fromisoformat(snapshot["day"]), values))
    return points
