"""What each job kind does. A handler gets its context and payload and returns a result dict."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import Connection, Engine, delete

from patron import consent, scoring, segments
from patron.accounts import purge_expired_sessions
from patron.channels import smtp
from patron.config import Settings
from patron.dedupe import match_config, parse_config, run_dedupe, survivorship_of
from patron.files import delete_files_before, load_file, store_file
from patron.identity import rules_from
from patron.imports.runner import ImportSummary, run_import
from patron.imports.uploads import IMPORT_JOB as IMPORT_CSV
from patron.jobs import Job, heartbeat
from patron.quality.service import refresh_and_report
from patron.storage.engine import transaction
from patron.storage.schema import jobs
from patron.storage.types import utcnow

MAINTENANCE = "maintenance"
QUALITY_SNAPSHOT = "quality_snapshot"
DEDUPE = "dedupe"
CONSENT_EXPIRY = "consent_expiry"
SEGMENT_BOUNDARIES = "segment_boundaries"
SCORE_DECAY = "score_decay"
# Finished jobs and stored files older than this are removed by the maintenance job.
RETENTION = timedelta(days=30)
# Traits the hourly quality snapshot recomputes for everyone.
ACTIVITY_TRAITS = frozenset({"active", "last_activity_at"})


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler may use: the database, settings, and a way to report progress."""

    engine: Engine
    settings: Settings
    job: Job
    worker: str

    def progress(
        self, conn: Connection, done: int, total: int | None = None, note: str | None = None
    ) -> None:
        """Record progress in `conn`'s transaction and extend the lease."""
        heartbeat(
            conn,
            self.job.id,
            self.worker,
            lease_s=self.settings.job_lease_s,
            done=done,
            total=total,
            note=note,
        )


Handler = Callable[[JobContext, dict[str, Any]], dict[str, Any] | None]


def import_csv(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Import an uploaded CSV; its rejects file is stored for download."""
    with transaction(ctx.engine, write=False) as conn:
        upload = load_file(conn, payload["file_id"])
    issues = io.StringIO()

    def on_batch(conn: Connection, summary: ImportSummary, total: int) -> None:
        ctx.progress(conn, summary.rows, total, f"{summary.rows:,} of about {total:,} rows")

    summary = run_import(
        ctx.engine,
        upload.content,
        source=payload["source"],
        default_region=ctx.settings.default_region,
        batch_size=ctx.settings.import_batch_size,
        parallel_min_rows=ctx.settings.import_parallel_min_rows,
        rules=rules_from(ctx.settings),
        mapping=payload.get("mapping") or {},
        id_column=payload.get("id_column") or None,
        encoding=payload.get("encoding") or None,
        issues_stream=issues,
        on_batch=on_batch,
        policy=payload.get("policy") or None,
        dns_timeout_s=ctx.settings.dns_timeout,
        consent=payload.get("consent"),
    )
    result = summary.as_dict()
    result["file"] = upload.name
    if summary.rejected or summary.flagged:
        name = f"{PurePath(upload.name).stem}.rejects.csv"
        with transaction(ctx.engine) as conn:
            # utf-8-sig: Excel then opens Korean text correctly.
            result["rejects_file_id"] = store_file(conn, name, issues.getvalue().encode("utf-8-sig"))
        result["rejects_file"] = name
    return result


def maintenance(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Purge expired sessions, and finished jobs and stored files past retention."""
    cutoff = utcnow() - RETENTION
    with transaction(ctx.engine) as conn:
        sessions = purge_expired_sessions(conn)
        old_jobs = conn.execute(
            delete(jobs).where(jobs.c.finished_at < cutoff, jobs.c.status.in_(("succeeded", "failed")))
        ).rowcount
        old_files = delete_files_before(conn, cutoff)
    return {"sessions_purged": sessions, "jobs_pruned": old_jobs, "files_pruned": old_files}


def quality_snapshot(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Refresh active/stale contacts, compute the quality report, keep it as today's snapshot;
    segments over the activity traits are re-checked, as those traits just changed for many."""
    report = refresh_and_report(ctx.engine, ctx.settings)
    with transaction(ctx.engine) as conn:
        moved = segments.Changes()
        for segment in segments.segments_using_traits(conn, ACTIVITY_TRAITS):
            moved.merge(segments.evaluate(conn, segment.id))
    return {
        "score": report["score"], "profiles": report["profiles"], "stale": report["stale"],
        "segments": moved.as_dict(),
    }  # fmt: skip


def dedupe(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Find duplicates: merge the sure ones, queue the likely ones for review."""
    settings = ctx.settings
    config = parse_config(payload["config"]) if payload.get("config") else match_config(settings)
    reported = [0.0]

    def progress(label: str, done: int, total: int) -> None:
        if time.monotonic() - reported[0] >= 1.0:  # a heartbeat a second is plenty
            reported[0] = time.monotonic()
            with transaction(ctx.engine) as conn:
                ctx.progress(conn, done, total or None, label)

    summary = run_dedupe(
        ctx.engine,
        config=config,
        survivorship=survivorship_of(config, settings),
        rules=rules_from(settings),
        threshold=payload.get("threshold"),
        actor=payload.get("actor") or "worker",
        progress=progress,
    )
    return summary.as_dict()


def send_confirmation(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Mail a double opt-in link; nothing when the request was confirmed, withdrawn or lapsed."""
    with transaction(ctx.engine, write=False) as conn:
        requests = payload.get("ledger_ids") or [payload["ledger_id"]]
        message = consent.confirmation_message(conn, ctx.settings, [int(r) for r in requests])
    if message is None:
        return {"sent": False, "reason": "no longer waiting for confirmation"}
    smtp.send(ctx.settings.smtp_url, message)
    return {"sent": True, "message_id": message["Message-ID"]}


def expire_consents(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Let unconfirmed requests and implied consents past their time lapse, in the ledger."""
    with transaction(ctx.engine) as conn:
        return {"expired": consent.expire_lapsed(conn)}


def segment_boundaries(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Move the people whose time-relative segment conditions crossed a boundary since the last run."""
    with transaction(ctx.engine) as conn:
        return segments.cross_boundaries(conn).as_dict()


def score_decay(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Let event points fade by the half-life; re-check segments for people whose score moved."""
    with transaction(ctx.engine) as conn:
        now = utcnow()
        changed = scoring.decay(conn, now=now)
        moved = segments.react(conn, changed, now=now)
    return {"rescored": len(changed), "segments": moved.as_dict()}


HANDLERS: dict[str, Handler] = {
    IMPORT_CSV: import_csv,
    MAINTENANCE: maintenance,
    QUALITY_SNAPSHOT: quality_snapshot,
    DEDUPE: dedupe,
    consent.CONFIRMATION_JOB: send_confirmation,
    CONSENT_EXPIRY: expire_consents,
    SEGMENT_BOUNDARIES: segment_boundaries,
    SCORE_DECAY: score_decay,
}
# name -> (kind, interval in seconds): created by `patron init`.
SCHEDULES: dict[str, tuple[str, int]] = {
    "hourly-maintenance": (MAINTENANCE, 3600),
    "hourly-quality-snapshot": (QUALITY_SNAPSHOT, 3600),
    "daily-dedupe": (DEDUPE, 86400),
    "consent-expiry": (CONSENT_EXPIRY, 900),
    "segment-boundaries": (SEGMENT_BOUNDARIES, 60),
    "hourly-score-decay": (SCORE_DECAY, 3600),
}
# Kinds whose schedule first runs one interval after `init`.
DEFERRED_KINDS = frozenset({DEDUPE})
