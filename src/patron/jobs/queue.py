"""Durable jobs: rows claimed under a lease, retried with back-off, every attempt recorded.

A worker claims one job at a time. On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`, so
many workers on many machines never take the same job; on SQLite the claim runs in a write
transaction (BEGIN IMMEDIATE), which admits one claimer at a time. A job whose lease expires
(its worker died) is claimed again and its previous run is marked lost.
"""

from __future__ import annotations

import random
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from patron.errors import NotFound
from patron.storage.schema import job_runs, jobs
from patron.storage.types import utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
BACKOFF_BASE_S = 10
BACKOFF_CAP_S = 3600
ERROR_TEXT_LIMIT = 8000


class LeaseLost(Exception):
    """This worker no longer holds the job (its lease expired and another worker took it)."""


@dataclass(frozen=True, slots=True)
class Job:
    """A job row as the admin and the worker see it."""

    id: int
    kind: str
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_by: str | None
    progress_done: int
    progress_total: int | None
    progress_note: str
    result: dict[str, Any] | None
    last_error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def percent(self) -> int | None:
        """Progress in percent when the total is known."""
        if not self.progress_total:
            return 100 if self.status == SUCCEEDED else None
        return min(100, round(100 * self.progress_done / self.progress_total))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form for the admin's progress polling."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "progress_done": self.progress_done,
            "progress_total": self.progress_total,
            "percent": self.percent,
            "progress_note": self.progress_note,
            "result": self.result,
            "last_error": self.last_error,
        }


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    priority: int = 100,
    max_attempts: int = 5,
    schedule_name: str | None = None,
) -> int:
    """Add a job; returns its id. It runs once the transaction commits."""
    now = utcnow()
    return conn.execute(
        insert(jobs)
        .values(
            kind=kind,
            payload=payload,
            status=QUEUED,
            priority=priority,
            run_at=run_at or now,
            attempts=0,
            max_attempts=max_attempts,
            progress_done=0,
            progress_note="",
            schedule_name=schedule_name,
            created_at=now,
        )
        .returning(jobs.c.id)
    ).scalar_one()


def claim(conn: Connection, worker: str, *, lease_s: int) -> Job | None:
    """Take the next due job for `worker`, or None when nothing is due."""
    now = utcnow()
    due = or_(
        and_(jobs.c.status == QUEUED, jobs.c.run_at <= now),
        and_(jobs.c.status == RUNNING, jobs.c.locked_until < now, jobs.c.attempts < jobs.c.max_attempts),
    )
    next_id = (
        select(jobs.c.id)
        .where(due)
        .order_by(jobs.c.priority, jobs.c.run_at, jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = conn.execute(
        update(jobs)
        .where(jobs.c.id == next_id)
        .values(
            status=RUNNING,
            locked_by=worker,
            locked_until=now + timedelta(seconds=lease_s),
            attempts=jobs.c.attempts + 1,
            started_at=func.coalesce(jobs.c.started_at, now),
        )
        .returning(*jobs.c)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(job_runs)
        .where(job_runs.c.job_id == row.id, job_runs.c.outcome.is_(None))
        .values(outcome="lost", finished_at=now, error="lease expired before the worker reported back")
    )
    conn.execute(insert(job_runs).values(job_id=row.id, attempt=row.attempts, worker=worker, started_at=now))
    return _job(row)


def heartbeat(
    conn: Connection,
    job_id: int,
    worker: str,
    *,
    lease_s: int,
    done: int | None = None,
    total: int | None = None,
    note: str | None = None,
) -> None:
    """Extend the lease and record progress; LeaseLost if another worker has the job now."""
    values: dict[str, Any] = {"locked_until": utcnow() + timedelta(seconds=lease_s)}
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    if note is not None:
        values["progress_note"] = note
    _update_held(conn, job_id, worker, values)


def complete(conn: Connection, job_id: int, worker: str, result: dict[str, Any] | None) -> None:
    """Mark the job succeeded with its result."""
    now = utcnow()
    _update_held(
        conn,
        job_id,
        worker,
        {
            "status": SUCCEEDED,
            "result": result,
            "finished_at": now,
            "locked_by": None,
            "locked_until": None,
            "last_error": None,
        },
    )
    _finish_run(conn, job_id, worker, "succeeded", None)


def fail(conn: Connection, job: Job, worker: str, error: BaseException, *, permanent: bool = False) -> bool:
    """Record a failed attempt; retried later with back-off unless permanent or out of attempts.

    Returns True when the job will be retried.
    """
    now = utcnow()
    text = "".join(traceback.format_exception(error))[-ERROR_TEXT_LIMIT:]
    retry = not permanent and job.attempts < job.max_attempts
    values: dict[str, Any] = {"last_error": text, "locked_by": None, "locked_until": None}
    if retry:
        values.update(status=QUEUED, run_at=now + backoff(job.attempts))
    else:
        values.update(status=FAILED, finished_at=now)
    _update_held(conn, job.id, worker, values)
    _finish_run(conn, job.id, worker, "failed", text)
    return retry


def backoff(attempts: int) -> timedelta:
    """Exponential back-off with jitter: 10 s, 20 s, 40 s ... capped at an hour."""
    seconds = min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def fail_exhausted(conn: Connection) -> int:
    """Jobs whose worker died on their last attempt: mark them failed so they stop waiting."""
    now = utcnow()
    return conn.execute(
        update(jobs)
        .where(jobs.c.status == RUNNING, jobs.c.locked_until < now, jobs.c.attempts >= jobs.c.max_attempts)
        .values(
            status=FAILED,
            finished_at=now,
            locked_by=None,
            locked_until=None,
            last_error="the worker stopped reporting on the last attempt",
        )
    ).rowcount


def get_job(conn: Connection, job_id: int) -> Job:
    """One job; NotFound otherwise."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"no job with id {job_id}", field="id")
    return _job(row)


def list_jobs(conn: Connection, *, limit: int = 100, status: str | None = None) -> list[Job]:
    """Recent jobs, newest first."""
    query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if status:
        query = query.where(jobs.c.status == status)
    return [_job(row) for row in conn.execute(query)]


def list_runs(conn: Connection, job_id: int) -> list[dict[str, Any]]:
    """Every attempt of a job, oldest first."""
    query = select(job_runs).where(job_runs.c.job_id == job_id).order_by(job_runs.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def counts_by_status(conn: Connection) -> dict[str, int]:
    """{status: number of jobs}."""
    query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
    return {status: count for status, count in conn.execute(query)}


def _update_held(conn: Connection, job_id: int, worker: str, values: dict[str, Any]) -> None:
    held = conn.execute(
        update(jobs).where(jobs.c.id == job_id, jobs.c.locked_by == worker).values(**values)
    ).rowcount
    if not held:
        raise LeaseLost(f"job {job_id} is no longer held by {worker}")


def _finish_run(conn: Connection, job_id: int, worker: str, outcome: str, error: str | None) -> None:
    conn.execute(
        update(job_runs)
        .where(job_runs.c.job_id == job_id, job_runs.c.worker == worker, job_runs.c.outcome.is_(None))
        .values(outcome=outcome, error=error, finished_at=utcnow())
    )


def _job(row: Any) -> Job:
    m = row._mapping
    return Job(**{name: m[name] for name in Job.__dataclass_fields__})
