"""/api/v1/dedupe, /duplicates and /merges: find duplicates, review them, see and undo merges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from patron import dedupe, jobs
from patron.errors import Invalid
from patron.identity import rules_from
from patron.storage.engine import transaction
from patron.web.deps import EngineDep, ReadDB, SettingsDep, WriteDB
from patron.worker.handlers import DEDUPE

router = APIRouter(tags=["dedupe"])
ACTOR = "api"


class DedupeIn(BaseModel):
    """A dedupe run's options."""

    threshold: float | None = Field(default=None, description="Auto-merge threshold for this run (0-1)")
    config: dict[str, Any] | None = Field(
        default=None, description='Match configuration replacing the defaults: {"fields": {TRAIT: KIND}, ...}'
    )
    wait: bool = Field(
        default=False, description="Run now and answer with the summary instead of queueing a job"
    )


class DecisionIn(BaseModel):
    """A reviewer's decision about a pair."""

    decision: str = Field(description="merge | distinct (not the same person) | skip")


class MergeIn(BaseModel):
    """Merge another profile into this one's group."""

    other: str = Field(description="The id of the other profile")


@router.post("/dedupe")
async def run(body: DedupeIn, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """Find duplicates: merge the sure ones, queue the likely ones. A job (202) unless `wait`."""
    config = dedupe.parse_config(body.config) if body.config else dedupe.match_config(settings)
    survivorship = dedupe.survivorship_of(config, settings)  # a bad rule is a 422 now, not a failed job
    if body.threshold is not None and not 0 < body.threshold < 1:
        raise Invalid(f"threshold {body.threshold} must be a probability between 0 and 1", field="threshold")
    if not body.wait:
        payload = {"threshold": body.threshold, "config": body.config, "actor": ACTOR}
        # No request-wide transaction here: a run that waits opens its own (SQLite has one writer).
        with transaction(engine) as conn:
            job_id = jobs.enqueue(conn, DEDUPE, payload, max_attempts=1)
            job = jobs.get_job(conn, job_id).as_dict()
        return JSONResponse({"job": job}, status_code=202)
    summary = await run_in_threadpool(
        dedupe.run_dedupe,
        engine,
        config=config,
        survivorship=survivorship,
        rules=rules_from(settings),
        threshold=body.threshold,
        actor=ACTOR,
    )
    return JSONResponse(summary.as_dict())


@router.get("/duplicates")
def duplicates(
    conn: ReadDB,
    status: Annotated[str, Query(description="open | distinct")] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[int, Query(ge=0, description="Position in the queue (next_cursor)")] = 0,
) -> dict[str, Any]:
    """Pairs that may be one person, the likeliest first, each with both profiles and the evidence."""
    items = dedupe.list_queue(conn, status=status, limit=limit, offset=cursor)
    return {
        "data": dedupe.candidate_views(conn, items),
        "next_cursor": cursor + limit if len(items) == limit else None,
        "total": dedupe.count_open(conn) if status == "open" else None,
    }


@router.get("/duplicates/{candidate_id}")
def duplicate(candidate_id: int, conn: ReadDB) -> dict[str, Any]:
    """One pair with both profiles side by side and the per-field evidence."""
    return dedupe.candidate_view(conn, dedupe.get_candidate(conn, candidate_id))


@router.post("/duplicates/{candidate_id}/decision")
def decide(candidate_id: int, body: DecisionIn, conn: WriteDB, settings: SettingsDep) -> dict[str, Any]:
    """Merge the pair, mark it "not the same person" (remembered across runs), or skip it."""
    config = dedupe.match_config(settings)
    return dedupe.decide(
        conn, candidate_id, body.decision, actor=ACTOR, survivorship=dedupe.survivorship_of(config, settings)
    )


@router.post("/profiles/{profile_id}/merge")
def merge_profiles(profile_id: str, body: MergeIn, conn: WriteDB, settings: SettingsDep) -> dict[str, Any]:
    """Merge two profiles by hand; the older one survives. Answers with the merge's id."""
    config = dedupe.match_config(settings)
    outcome = dedupe.merge_pair(
        conn, profile_id, body.other, actor=ACTOR, survivorship=dedupe.survivorship_of(config, settings)
    )
    merge = dedupe.list_merges(conn, profile_id=outcome.absorbed[0], limit=1)[0]
    return {"kept_id": outcome.kept, "absorbed_id": outcome.absorbed[0], "merge_id": merge["id"]}


@router.get("/profiles/{profile_id}/merges")
def profile_merges(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """Merges this profile took part in, newest first."""
    return {"data": dedupe.list_merges(conn, profile_id=profile_id, limit=200), "next_cursor": None}


@router.get("/merges")
def merges(
    conn: ReadDB,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[int | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    """Every merge, newest first, with its evidence."""
    items = dedupe.list_merges(conn, limit=limit, before=cursor)
    return {"data": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.get("/merges/{merge_id}")
def merge(merge_id: int, conn: ReadDB) -> dict[str, Any]:
    """One merge: why, the per-field evidence, survivorship choices and what the absorbed profile held."""
    return dedupe.get_merge(conn, merge_id)


@router.post("/merges/{merge_id}/undo")
def undo(merge_id: int, conn: WriteDB) -> dict[str, Any]:
    """Unmerge: both profiles as they were; the pair is remembered as different people."""
    return dedupe.unmerge(conn, merge_id, actor=ACTOR)
