"""/api/v1: timelines, accounts, sources, rejected events, and the tracking plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from patron.accounts import WRITE, list_api_keys
from patron.errors import Invalid
from patron.tracking import dictionary
from patron.tracking import events as tracked
from patron.tracking.accounts import accounts_of, get_account
from patron.tracking.plan import Conventions, EventDefinition, properties_schema
from patron.tracking.plan_files import dump_yaml, export_csv, export_markdown, load_yaml
from patron.web.deps import ReadDB, WriteDB

router = APIRouter(tags=["tracking"])
EXPORTS = {"csv": "text/csv", "markdown": "text/markdown", "yaml": "application/yaml"}


class EventIn(BaseModel):
    """An event in the tracking plan; `properties` is shorthand for `schema`."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    owner: str = ""
    properties: dict[str, dict[str, Any]] | None = Field(
        default=None,
        examples=[{"order_id": {"type": "string", "required": True}, "revenue": {"type": "number"}}],
    )
    schema_: dict[str, Any] | None = Field(
        default=None, alias="schema", description="A JSON Schema for properties"
    )


class ConventionsIn(BaseModel):
    """Naming styles: object_action, snake_case, camel_case or none."""

    model_config = ConfigDict(extra="forbid")
    events: str = "object_action"
    properties: str = "snake_case"
    traits: str = "snake_case"


class SourcePatch(BaseModel):
    """What a write key does with events off the plan."""

    model_config = ConfigDict(extra="forbid")
    tracking_mode: str = Field(description="allow, flag or block")


@router.get("/profiles/{profile_id}/events")
def profile_events(
    profile_id: str,
    conn: ReadDB,
    cursor: int | None = None,
    limit: Annotated[int, Query(ge=1, le=tracked.MAX_PAGE)] = 50,
    event: str | None = None,
) -> dict[str, Any]:
    """The profile's timeline, newest first."""
    items, next_cursor = tracked.timeline(conn, profile_id, before=cursor, limit=limit, event=event)
    return {"data": items, "next_cursor": next_cursor}


@router.get("/profiles/{profile_id}/accounts")
def profile_accounts(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """Accounts (companies) the profile belongs to."""
    return {"data": accounts_of(conn, profile_id), "next_cursor": None}


@router.get("/accounts/{group_id}")
def account(group_id: str, conn: ReadDB) -> dict[str, Any]:
    """One account and its members."""
    return get_account(conn, group_id)


@router.get("/sources")
def sources(conn: ReadDB) -> dict[str, Any]:
    """Write keys as tracking sources, with their tracking mode."""
    keys = [k for k in list_api_keys(conn) if k.scope == WRITE]
    return {"data": [{"id": k.id, "source": k.source, "prefix": k.prefix, "tracking_mode": k.tracking_mode}
                     for k in keys], "next_cursor": None}  # fmt: skip


@router.patch("/sources/{key_id}")
def patch_source(key_id: int, body: SourcePatch, conn: WriteDB, request: Request) -> dict[str, Any]:
    """Allow, flag or block events that break the tracking plan for one write key."""
    dictionary.set_source_mode(conn, key_id, body.tracking_mode)
    request.app.state.write_keys.forget()
    return {"id": key_id, "tracking_mode": body.tracking_mode}


@router.get("/rejected-events")
def rejected_events(
    conn: ReadDB, cursor: int | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Messages the tracking API refused, newest first, with the field and reason."""
    items, next_cursor = tracked.rejected(conn, before=cursor, limit=limit)
    return {"data": items, "next_cursor": next_cursor}


@router.get("/tracking-plan")
def tracking_plan(conn: ReadDB) -> dict[str, Any]:
    """Conventions, sources and their modes, events and traits."""
    document = dictionary.plan_document(conn)
    return {
        "conventions": _conventions(document.conventions),
        "sources": document.sources,
        "events": [_event(e) for e in document.events],
        "traits": [{"name": t.name, "type": t.type, "description": t.description, "owner": t.owner}
                   for t in document.traits],
    }  # fmt: skip


@router.put("/tracking-plan")
async def load_tracking_plan(request: Request, conn: WriteDB) -> dict[str, Any]:
    """Load a plan file (YAML, as kept in Git): conventions, events, traits, source modes."""
    text = (await request.body()).decode("utf-8", errors="replace")
    applied = dictionary.apply_plan(conn, load_yaml(text))
    request.app.state.plan_cache.invalidate()
    request.app.state.write_keys.forget()
    return applied.as_dict()


@router.get("/tracking-plan/export")
def export_plan(
    conn: ReadDB, format: Annotated[str, Query(description="csv, markdown or yaml")] = "csv"
) -> Response:
    """The data dictionary as CSV, Markdown or YAML."""
    if format not in EXPORTS:
        raise Invalid(f"format must be one of {', '.join(EXPORTS)}", field="format")
    document = dictionary.plan_document(conn)
    if format == "yaml":
        content = dump_yaml(document)
    elif format == "csv":
        content = export_csv(document.events, document.traits)
    else:
        content = export_markdown(document.events, document.traits)
    return Response(content, media_type=f"{EXPORTS[format]}; charset=utf-8")


@router.put("/tracking-plan/conventions")
def put_conventions(body: ConventionsIn, conn: WriteDB, request: Request) -> dict[str, Any]:
    """Change the naming conventions."""
    result = dictionary.set_conventions(conn, Conventions(body.events, body.properties, body.traits))
    request.app.state.plan_cache.invalidate()
    return _conventions(result)


@router.get("/tracking-plan/events")
def plan_events(conn: ReadDB, status: str | None = None) -> dict[str, Any]:
    """Events in the plan (status planned) and discovered in data (unplanned)."""
    return {"data": [_event(e) for e in dictionary.list_events(conn, status=status)], "next_cursor": None}


@router.get("/tracking-plan/events/{name}")
def plan_event(name: str, conn: ReadDB) -> dict[str, Any]:
    """One event definition."""
    return _event(dictionary.get_event(conn, name))


@router.put("/tracking-plan/events/{name}")
def put_plan_event(name: str, body: EventIn, conn: WriteDB, request: Request) -> dict[str, Any]:
    """Plan an event: description, owner, and its properties (shorthand) or JSON Schema."""
    if body.properties is not None and body.schema_ is not None:
        raise Invalid("give properties or schema, not both", field="schema")
    schema = properties_schema(body.properties) if body.properties is not None else body.schema_
    definition = dictionary.define_event(conn, EventDefinition(name, body.description, body.owner, schema))
    request.app.state.plan_cache.invalidate()
    return _event(definition)


@router.delete("/tracking-plan/events/{name}", status_code=204)
def delete_plan_event(name: str, conn: WriteDB, request: Request) -> Response:
    """Take an event out of the plan."""
    dictionary.delete_event(conn, name)
    request.app.state.plan_cache.invalidate()
    return Response(status_code=204)


@router.get("/tracking-plan/violations")
def violations(conn: ReadDB, kind: str | None = None, source: str | None = None) -> dict[str, Any]:
    """What broke the plan, most frequent first, each with a count and the latest example."""
    rows = dictionary.list_violations(conn, kind=kind, source=source)
    data = [
        {
            **row,
            "first_seen_at": row["first_seen_at"].isoformat(),
            "last_seen_at": row["last_seen_at"].isoformat(),
        }
        for row in rows
    ]
    return {"data": data, "totals": dictionary.violation_totals(conn), "next_cursor": None}


def _conventions(value: Conventions) -> dict[str, str]:
    return {"events": value.events, "properties": value.properties, "traits": value.traits}


def _event(definition: EventDefinition) -> dict[str, Any]:
    return {"name": definition.name, "description": definition.description, "owner": definition.owner,
            "schema": definition.schema, "status": definition.status}  # fmt: skip
