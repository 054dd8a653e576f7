"""Jobs: durable background work claimed by workers, and periodic schedules."""

from patron.jobs import leases
from patron.jobs.queue import (
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    Job,
    LeaseLost,
    claim,
    complete,
    counts_by_status,
    enqueue,
    fail,
    fail_exhausted,
    get_job,
    heartbeat,
    list_jobs,
    list_runs,
)
from patron.jobs.schedules import enqueue_due, ensure_schedule, list_schedules

__all__ = [
    "FAILED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "Job",
    "LeaseLost",
    "claim",
    "complete",
    "counts_by_status",
    "enqueue",
    "enqueue_due",
    "ensure_schedule",
    "fail",
    "fail_exhausted",
    "get_job",
    "heartbeat",
    "leases",
    "list_jobs",
    "list_runs",
    "list_schedules",
]
