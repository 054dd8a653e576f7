"""Durable jobs: claimed under a lease, retried with back-off, never run twice."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from patron import jobs
from patron.errors import Invalid
from patron.imports import enqueue_import
from patron.storage import transaction, utcnow
from patron.storage.schema import job_runs, job_schedules, profiles
from patron.worker import JobContext, Worker
from tests.conftest import Database


def enqueue(db: Database, kind: str, payload: dict[str, Any] | None = None, **kwargs: Any) -> int:
    with transaction(db.engine) as conn:
        return jobs.enqueue(conn, kind, payload or {}, **kwargs)


def job(db: Database, job_id: int) -> jobs.Job:
    with transaction(db.engine, write=False) as conn:
        return jobs.get_job(conn, job_id)


def runs(db: Database, job_id: int) -> list[dict[str, Any]]:
    with transaction(db.engine, write=False) as conn:
        return jobs.list_runs(conn, job_id)


def test_a_job_runs_once_and_records_its_result(db: Database) -> None:
    def double(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"value": payload["n"] * 2}

    job_id = enqueue(db, "double", {"n": 21})
    worker = Worker(db.engine, db.settings, handlers={"double": double})
    assert worker.run_once() is not None
    assert worker.run_once() is None
    done = job(db, job_id)
    assert (done.status, done.result, done.attempts) == ("succeeded", {"value": 42}, 1)
    assert [r["outcome"] for r in runs(db, job_id)] == ["succeeded"]


def test_a_failing_job_is_retried_later_with_its_error_kept(db: Database) -> None:
    def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise RuntimeError("the partner API timed out")

    job_id = enqueue(db, "flaky", max_attempts=2)
    worker = Worker(db.engine, db.settings, handlers={"flaky": flaky})
    before = utcnow()
    worker.run_once()
    retried = job(db, job_id)
    assert retried.status == "queued" and "the partner API timed out" in (retried.last_error or "")
    assert retried.run_at >= before + timedelta(seconds=7)  # back-off: ~10 s for the first retry
    assert worker.run_once() is None  # not due yet
    with transaction(db.engine) as conn:  # time passes
        conn.execute(update(jobs.queue.jobs).values(run_at=utcnow()))
    worker.run_once()
    failed = job(db, job_id)
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert [r["outcome"] for r in runs(db, job_id)] == ["failed", "failed"]


def test_invalid_input_fails_at_once_without_retries(db: Database) -> None:
    def picky(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise Invalid("column 'Email' is missing", field="header")

    job_id = enqueue(db, "picky")
    Worker(db.engine, db.settings, handlers={"picky": picky}).run_once()
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("failed", 1)


def test_an_unknown_kind_fails_with_a_clear_error(db: Database) -> None:
    job_id = enqueue(db, "nobody.handles.this")
    Worker(db.engine, db.settings, handlers={}).run_once()
    assert job(db, job_id).status == "failed"
    assert "no handler for job kind 'nobody.handles.this'" in (job(db, job_id).last_error or "")


def test_a_job_whose_worker_died_is_taken_over_and_the_lost_run_recorded(db: Database) -> None:
    job_id = enqueue(db, "slow")
    with transaction(db.engine) as conn:
        crashed = jobs.claim(conn, "crashed-worker", lease_s=0)
    assert crashed is not None and crashed.id == job_id
    seen: list[str] = []
    survivor = Worker(
        db.engine,
        db.settings,
        name="survivor",
        handlers={"slow": lambda ctx, payload: seen.append(ctx.worker) or {"ok": True}},
    )
    survivor.run_once()
    assert seen == ["survivor"]
    assert [(r["worker"], r["outcome"]) for r in runs(db, job_id)] == [
        ("crashed-worker", "lost"),
        ("survivor", "succeeded"),
    ]
    with transaction(db.engine) as conn, pytest.raises(jobs.LeaseLost):
        jobs.complete(conn, job_id, "crashed-worker", {"late": True})


def test_a_due_schedule_is_enqueued_once_however_many_workers_tick(db: Database) -> None:
    with transaction(db.engine) as conn:
        conn.execute(update(job_schedules).values(next_run_at=utcnow() - timedelta(seconds=1)))
    workers = [Worker(db.engine, db.settings, name=f"w{n}") for n in range(4)]
    threads = [threading.Thread(target=w.tick) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    maintenance = [j for j in jobs_list(db) if j.kind == "maintenance"]
    assert len(maintenance) == 1
    Worker(db.engine, db.settings).run_once()
    assert job(db, maintenance[0].id).status == "succeeded"
    assert set(job(db, maintenance[0].id).result or {}) == {"sessions_purged", "jobs_pruned", "files_pruned"}


def jobs_list(db: Database) -> list[jobs.Job]:
    with transaction(db.engine, write=False) as conn:
        return jobs.list_jobs(conn)


def test_an_uploaded_csv_is_imported_by_the_worker_with_progress_and_rejects(db: Database) -> None:
    rows = "\n".join(f"user{n}@example.com,Person {n}" for n in range(25))
    content = f"Email,Name\n{rows}\nbroken@@example.com,Nobody\n".encode()
    with transaction(db.engine) as conn:
        job_id = enqueue_import(conn, filename="list.csv", content=content, source="upload")
    Worker(db.engine, db.settings.model_copy(update={"import_batch_size": 10})).run_once()
    done = job(db, job_id)
    assert done.status == "succeeded", done.last_error
    assert (done.progress_done, done.percent) == (26, 100)
    assert {k: done.result[k] for k in ("rows", "created", "rejected")} == {
        "rows": 26,
        "created": 25,
        "rejected": 1,
    }
    assert done.result["rejects_file"] == "list.rejects.csv"
    from patron.files import load_file

    with transaction(db.engine, write=False) as conn:
        rejects = load_file(conn, done.result["rejects_file_id"]).content.decode("utf-8-sig")
    assert "broken@@example.com" in rejects and "no usable identity" in rejects


@pytest.mark.parametrize("workers", [3])
def test_several_worker_processes_on_postgresql_never_run_a_job_twice(
    postgresql_db: Database, workers: int
) -> None:
    db = postgresql_db
    count = 40
    with transaction(db.engine) as conn:
        for n in range(count):
            rows = "\n".join(f"p{n}-{i}@example.com" for i in range(10))
            enqueue_import(conn, filename=f"part{n}.csv", content=f"Email\n{rows}\n".encode(), source="load")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "patron", "worker", "--burst", "--json"],
            env=db.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    outputs = [p.communicate(timeout=240) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    imports = job_runs.join(jobs.queue.jobs, jobs.queue.jobs.c.id == job_runs.c.job_id)
    is_import = jobs.queue.jobs.c.kind == "import.csv"
    with transaction(db.engine, write=False) as conn:
        statuses = [j.status for j in jobs.list_jobs(conn) if j.kind == "import.csv"]
        per_job = conn.execute(
            select(job_runs.c.job_id, func.count())
            .select_from(imports)
            .where(is_import)
            .group_by(job_runs.c.job_id)
        ).all()
        runners = conn.execute(
            select(func.count(func.distinct(job_runs.c.worker))).select_from(imports).where(is_import)
        ).scalar_one()
        people = conn.execute(select(func.count()).select_from(profiles)).scalar_one()
    assert statuses == ["succeeded"] * count
    assert len(per_job) == count and all(n == 1 for _, n in per_job)
    assert people == count * 10
    assert runners > 1, "the jobs should have been shared between the processes"
