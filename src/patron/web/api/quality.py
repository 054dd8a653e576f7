"""/api/v1/quality: the report, snapshots, stale contacts, profiling, source policies, standardisation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from patron.quality import service
from patron.quality.reapply import reapply_standards
from patron.quality.snapshots import snapshots
from patron.quality.sources import get_source, list_sources, set_policy
from patron.quality.standards import add_rules, delete_rule, list_rules
from patron.web.deps import EngineDep, ReadDB, SettingsDep, WriteDB

router = APIRouter(tags=["quality"])


class SourceIn(BaseModel):
    """A source's quality policy."""

    policy: str = Field(description="reject | flag | fix")
    description: str | None = None


class RuleIn(BaseModel):
    """A standardisation rule."""

    kind: str = Field(description="field_alias | value")
    field: str = Field(default="", description="For value rules: the field whose values are mapped")
    match: str = Field(description="The alias field name, or the value variant")
    target: str = Field(description="The canonical field, or the standard value")


@router.get("/quality")
async def quality(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """The quality report (the object `patron quality --json` prints); stale contacts as of the
    last refresh (hourly, by the worker)."""
    return await run_in_threadpool(service.report, engine, settings)


@router.post("/quality/snapshots")
async def take_snapshot(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Refresh active/stale contacts, compute the report now and keep it as today's snapshot."""
    return await run_in_threadpool(service.refresh_and_report, engine, settings)


@router.get("/quality/snapshots")
def quality_snapshots(conn: ReadDB, days: Annotated[int, Query(ge=1, le=3650)] = 90) -> dict[str, Any]:
    """Daily snapshots, oldest first: {"data": [{"day", "score", "report"}]}."""
    return {"data": snapshots(conn, days=days)}


@router.get("/quality/stale")
def stale(
    conn: ReadDB, settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    """Stale contacts (no event, open or click within the window), longest silent first."""
    return service.stale_contacts(conn, settings, limit=limit)


@router.get("/quality/profiling")
def profiling(conn: ReadDB) -> dict[str, Any]:
    """Per field the top values and value shapes, over the newest profiles."""
    return service.profiling(conn)


@router.get("/quality/sources")
def sources(conn: ReadDB) -> dict[str, Any]:
    """Configured sources and their quality policies."""
    return {"data": list_sources(conn)}


@router.get("/quality/sources/{name}")
def source(name: str, conn: ReadDB) -> dict[str, Any]:
    """One source's policy (the default, flag, when never configured)."""
    return get_source(conn, name)


@router.put("/quality/sources/{name}")
def put_source(name: str, body: SourceIn, conn: WriteDB) -> dict[str, Any]:
    """Set a source's quality policy."""
    return set_policy(conn, name, body.policy, body.description)


@router.get("/standards")
def standards(conn: ReadDB) -> dict[str, Any]:
    """The standardisation rules."""
    return {"data": list_rules(conn)}


@router.post("/standards", status_code=201)
def add_standard(body: RuleIn, conn: WriteDB) -> dict[str, Any]:
    """Add a rule (an existing identical rule is left as it is)."""
    added = add_rules(conn, [body.model_dump()])
    return {"added": added, "data": list_rules(conn)}


@router.delete("/standards/{rule_id}", status_code=204)
def remove_standard(rule_id: int, conn: WriteDB) -> Response:
    """Remove a rule."""
    delete_rule(conn, rule_id)
    return Response(status_code=204)


@router.post("/standards/preview")
def preview_standards(conn: ReadDB) -> dict[str, Any]:
    """What re-applying the rules to stored profiles would change (nothing is changed)."""
    return reapply_standards(conn, apply=False)


@router.post("/standards/apply")
def apply_standards(conn: WriteDB) -> dict[str, Any]:
    """Re-apply the rules to stored profiles."""
    return reapply_standards(conn, apply=True)
