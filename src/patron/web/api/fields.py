"""/api/v1/fields: the data dictionary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from patron import fields
from patron.web.api.schemas import FieldIn, FieldList, FieldOut, FieldPatch
from patron.web.deps import ReadDB, WriteDB

router = APIRouter(tags=["fields"])


@router.get("/fields", response_model=FieldList)
def list_fields(conn: ReadDB) -> dict[str, Any]:
    """Every field, standard ones first."""
    return {"data": [f.as_dict() for f in fields.list_fields(conn)], "next_cursor": None}


@router.post("/fields", response_model=FieldOut, status_code=201)
def define_field(body: FieldIn, conn: WriteDB) -> dict[str, Any]:
    """Define a custom field; stored values of that trait are converted to its type."""
    return fields.define_field(
        conn, body.name, body.type, description=body.description, source=body.source, owner=body.owner
    ).as_dict()


@router.get("/fields/{name}", response_model=FieldOut)
def get_field(name: str, conn: ReadDB) -> dict[str, Any]:
    """One field."""
    return fields.get_field(conn, name).as_dict()


@router.patch("/fields/{name}", response_model=FieldOut)
def update_field(name: str, body: FieldPatch, conn: WriteDB) -> dict[str, Any]:
    """Change a field's type, description or source."""
    return fields.update_field(conn, name, body.model_dump(exclude_unset=True)).as_dict()


@router.delete("/fields/{name}", status_code=204)
def delete_field(name: str, conn: WriteDB) -> Response:
    """Delete a custom field and its values."""
    fields.delete_field(conn, name)
    return Response(status_code=204)
