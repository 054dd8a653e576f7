"""Periodic jobs: a schedule row per job kind; exactly one worker enqueues each due run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from patron.jobs.queue import enqueue
from patron.storage.schema import job_schedules
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow


def ensure_schedule(
    conn: Connection,
    name: str,
    kind: str,
    *,
    interval_s: int,
    payload: dict[str, Any] | None = None,
    first_run_in_s: int = 0,
) -> None:
    """Create the schedule if it does not exist (a changed interval is kept as configured)."""
    conn.execute(
        insert_ignoring_conflicts(conn, job_schedules, ["name"]).values(
            name=name,
            kind=kind,
            payload=payload or {},
            interval_s=interval_s,
            next_run_at=utcnow() + timedelta(seconds=first_run_in_s),
            is_enabled=True,
        )
    )


def enqueue_due(conn: Connection) -> list[int]:
    """Enqueue a job for every due schedule; returns the new job ids."""
    now = utcnow()
    due = conn.execute(
        select(job_schedules).where(job_schedules.c.is_enabled, job_schedules.c.next_run_at <= now)
    ).all()
    enqueued = []
    for schedule in due:
        # Compare-and-set on next_run_at: if another worker got here first, nothing changes.
        advanced = conn.execute(
            update(job_schedules)
            .where(job_schedules.c.name == schedule.name, job_schedules.c.next_run_at == schedule.next_run_at)
            .values(next_run_at=now + timedelta(seconds=schedule.interval_s), last_enqueued_at=now)
        ).rowcount
        if advanced:
            enqueued.append(
                enqueue(
                    conn, schedule.kind, dict(schedule.payload), schedule_name=schedule.name, max_attempts=1
                )
            )
    return enqueued


def list_schedules(conn: Connection) -> list[dict[str, Any]]:
    """Every schedule, by name."""
    return [dict(row._mapping) for row in conn.execute(select(job_schedules).order_by(job_schedules.c.name))]
