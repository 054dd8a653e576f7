"""The worker: claim a job, run it, record the outcome; enqueue scheduled jobs when due."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from patron.config import Settings
from patron.errors import Invalid, NotFound
from patron.identity import rules_from
from patron.jobs import Job, LeaseLost, claim, complete, enqueue_due, fail, fail_exhausted, leases
from patron.storage.engine import transaction
from patron.tracking.processing import LEASE, process_chunk
from patron.worker.handlers import HANDLERS, Handler, JobContext

log = logging.getLogger("patron.worker")
SCHEDULE_TICK_S = 15.0


class UnknownJobKind(Exception):
    """No handler is registered for a job's kind."""


# Retrying these cannot help: the input itself is wrong.
PERMANENT_ERRORS = (Invalid, NotFound, UnknownJobKind)


class Worker:
    """Runs jobs from the database until told to stop."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        name: str | None = None,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.handlers = HANDLERS if handlers is None else handlers
        self.rules = rules_from(settings)

    def run_once(self) -> Job | None:
        """Claim and run one due job; None when nothing was due."""
        with transaction(self.engine) as conn:
            job = claim(conn, self.name, lease_s=self.settings.job_lease_s)
        if job is None:
            return None
        log.info("job %s (%s) attempt %s started", job.id, job.kind, job.attempts)
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise UnknownJobKind(f"no handler for job kind {job.kind!r}")
            result = handler(JobContext(self.engine, self.settings, job, self.name), job.payload)
            with transaction(self.engine) as conn:
                complete(conn, job.id, self.name, result)
        except LeaseLost:
            log.warning("job %s: lease lost, another worker has it now", job.id)
        except Exception as exc:  # every failure is recorded on the job, never lost
            log.warning("job %s failed: %s", job.id, exc)
            try:
                with transaction(self.engine) as conn:
                    fail(conn, job, self.name, exc, permanent=isinstance(exc, PERMANENT_ERRORS))
            except LeaseLost:
                log.warning("job %s: lease lost while recording failure", job.id)
        return job

    def process_events(self) -> int:
        """Turn one chunk of tracked messages into events on profiles, if this worker holds the
        processor's lease (one at a time keeps arrival order); returns how many."""
        with transaction(self.engine) as conn:
            if not leases.acquire(conn, LEASE, self.name, ttl_s=self.settings.job_lease_s):
                return 0
            done = process_chunk(
                conn, rules=self.rules, default_region=self.settings.default_region,
                limit=self.settings.tracking_process_batch,
            )  # fmt: skip
            if not done.events:  # caught up: let any worker take over as soon as work arrives
                leases.release(conn, LEASE, self.name)
        return done.events

    def tick(self) -> None:
        """Periodic duties: enqueue due schedules, fail jobs whose worker died on the last try."""
        with transaction(self.engine) as conn:
            fail_exhausted(conn)
            enqueue_due(conn)

    def run(self, stop: threading.Event, *, burst: bool = False) -> int:
        """Work until `stop` is set (or, with `burst`, until nothing is due); returns jobs run."""
        ran = 0
        next_tick = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_tick:
                    self.tick()
                    next_tick = time.monotonic() + SCHEDULE_TICK_S
                job = self.run_once()
                if job is None and self.process_events():
                    continue  # more may be waiting: no pause while the intake has work
            except OperationalError as exc:  # database restarting or locked for too long
                log.error("worker: database unavailable (%s); retrying", exc.orig)
                stop.wait(self.settings.worker_poll_interval_s * 5)
                continue
            except Exception:  # a bug here must not silently stop the worker inside `serve`
                log.exception("worker: unexpected error between jobs; retrying")
                stop.wait(self.settings.worker_poll_interval_s * 5)
                continue
            if job is not None:
                ran += 1
            elif burst:
                break
            else:
                stop.wait(self.settings.worker_poll_interval_s)
        return ran


def start_in_thread(engine: Engine, settings: Settings) -> tuple[threading.Thread, threading.Event]:
    """Run a worker beside the web server (`patron serve`); set the event to stop it."""
    stop = threading.Event()
    worker = Worker(engine, settings)
    thread = threading.Thread(target=worker.run, args=(stop,), name="patron-worker", daemon=True)
    thread.start()
    return thread, stop
