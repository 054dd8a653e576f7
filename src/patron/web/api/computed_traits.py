"""/api/v1/computed-traits: traits Patron keeps from events (counts, sums, first/last seen...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from patron import computed
from patron.web.deps import ReadDB, WriteDB

router = APIRouter(tags=["computed_traits"])


class ComputedTraitIn(BaseModel):
    """A computed trait: kind first_seen | last_seen | count | sum | first | last."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["big_orders"])
    kind: str = Field(examples=["count"])
    event: str | None = Field(default=None, examples=["Order Completed"])
    property: str | None = Field(default=None, description="The property a sum adds up", examples=["revenue"])
    where: list[dict[str, Any]] | None = Field(
        default=None, examples=[[{"property": "revenue", "op": ">=", "value": 50}]]
    )
    description: str = ""


@router.get("/computed-traits")
def list_computed(conn: ReadDB) -> dict[str, Any]:
    """Every computed trait, built-in ones first."""
    return {"data": [t.as_dict() for t in computed.list_computed(conn)], "next_cursor": None}


@router.post("/computed-traits", status_code=201)
def define_computed(body: ComputedTraitIn, conn: WriteDB) -> dict[str, Any]:
    """Define a computed trait; every profile gets its value at once."""
    return computed.define_computed(conn, **body.model_dump()).as_dict()


@router.get("/computed-traits/{name}")
def get_computed(name: str, conn: ReadDB) -> dict[str, Any]:
    """One computed trait."""
    return computed.get_computed(conn, name).as_dict()


@router.delete("/computed-traits/{name}", status_code=204)
def delete_computed(name: str, conn: WriteDB) -> Response:
    """Delete a computed trait and its values (built-in ones cannot be deleted)."""
    computed.delete_computed(conn, name)
    return Response(status_code=204)
