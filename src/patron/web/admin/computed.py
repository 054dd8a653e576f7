"""Admin: computed traits, on the data dictionary page (list, define, delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from patron import computed, fields
from patron.computed.definitions import EVENT_KINDS
from patron.computed.filters import describe_filters
from patron.web.admin.auth import AdminSession, CsrfSession
from patron.web.admin.render import attempt, page
from patron.web.admin.scoring import parse_filters
from patron.web.deps import EngineDep, ReadDB

router = APIRouter()
DONE = {"saved": "Computed trait saved and computed for everyone.", "deleted": "Computed trait deleted."}


class ComputedEntry(BaseModel):
    """A computed trait as the form posts it; filters in the definition language."""

    model_config = ConfigDict(extra="ignore")

    name: str = ""
    kind: str = "count"
    event: str = ""
    property: str = ""
    where: str = ""
    description: str = ""


def fields_page(
    request: Request,
    conn: Connection,
    *,
    entered: ComputedEntry | None = None,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    """The data dictionary with its computed traits and the form to define one."""
    defined = [
        {**trait.as_dict(), "filters": describe_filters(trait.where)}
        for trait in computed.list_computed(conn)
    ]
    context: dict[str, Any] = {
        "active": "fields",
        "fields": fields.list_fields(conn),
        "computed": defined,
        "kinds": EVENT_KINDS,
        "entered": entered or ComputedEntry(),
        "error": error,
        "done": done,
    }
    return page(request, "fields.html", context, status_code=status_code)


@router.get("/fields", response_class=HTMLResponse)
def data_dictionary(
    request: Request, session: AdminSession, conn: ReadDB, done: str | None = None
) -> Response:
    """The data dictionary: standard, custom and computed fields with type, source and description."""
    return fields_page(request, conn, done=DONE.get(done or ""))


@router.post("/fields/computed")
def define(
    request: Request, session: CsrfSession, engine: EngineDep, entry: Annotated[ComputedEntry, Form()]
) -> Response:
    """Define a computed trait; it is computed for everyone at once."""

    def act(conn: Connection) -> str:
        computed.define_computed(
            conn,
            name=entry.name.strip(),
            kind=entry.kind,
            event=entry.event.strip() or None,
            property=entry.property.strip() or None,
            where=parse_filters(entry.where),
            description=entry.description.strip(),
        )
        return "/admin/fields?done=saved#computed"

    def again(conn: Connection, error: str, status: int) -> Response:
        return fields_page(request, conn, entered=entry, error=error, status_code=status)

    return attempt(engine, act, again)


@router.post("/fields/computed/{name}/delete")
def delete(request: Request, name: str, session: CsrfSession, engine: EngineDep) -> Response:
    """Delete a computed trait (built-in ones stay) and remove it from profiles."""

    def act(conn: Connection) -> str:
        computed.delete_computed(conn, name)
        return "/admin/fields?done=deleted#computed"

    return attempt(
        engine, act, lambda conn, error, status: fields_page(request, conn, error=error, status_code=status)
    )
