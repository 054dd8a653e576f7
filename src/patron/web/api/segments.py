"""/api/v1 segments: save, change, preview and read segments; their members and size over time;
the segments a person is in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from patron import profiles, segments
from patron.segments.store import definition_of
from patron.web.api.profiles import require_profile
from patron.web.deps import ReadDB, WriteDB

router = APIRouter(tags=["segments"])
SAMPLE = 10


class SegmentIn(BaseModel):
    """A segment: its definition as text ("definition") or as a JSON tree ("tree")."""

    model_config = ConfigDict(extra="forbid")

    name: str
    definition: str | None = None
    tree: dict[str, Any] | None = None
    description: str = ""


class SegmentPatch(BaseModel):
    """What to change; a new definition is evaluated at once."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    definition: str | None = None
    tree: dict[str, Any] | None = None
    description: str | None = None


class PreviewIn(BaseModel):
    """A definition to try before saving."""

    model_config = ConfigDict(extra="forbid")

    definition: str | None = None
    tree: dict[str, Any] | None = None
    sample: int = SAMPLE


class ParseIn(BaseModel):
    """Text to turn into a tree, or a tree to turn into text."""

    model_config = ConfigDict(extra="forbid")

    definition: str | None = None
    tree: dict[str, Any] | None = None


@router.get("/segments")
def list_segments(conn: ReadDB) -> dict[str, Any]:
    """Every segment with its current size."""
    return {"data": [s.as_dict() for s in segments.list_segments(conn)], "next_cursor": None}


@router.post("/segments", status_code=201)
def create_segment(body: SegmentIn, conn: WriteDB) -> dict[str, Any]:
    """Save a segment; its members are found at once."""
    saved = segments.create_segment(
        conn, name=body.name, definition=body.definition, tree=body.tree, description=body.description
    )
    return saved.as_dict()


@router.post("/segments/preview")
def preview(body: PreviewIn, conn: ReadDB) -> dict[str, Any]:
    """How many people a definition matches now, and a sample of them, without saving it."""
    found = segments.preview(
        conn, definition=body.definition, tree=body.tree, sample=max(0, min(body.sample, 100))
    )
    people = profiles.get_profiles(conn, found["sample"])
    found["sample"] = [people[pid].as_dict() for pid in found["sample"] if pid in people]
    return found


@router.post("/segments/parse")
def parse(body: ParseIn) -> dict[str, Any]:
    """Both forms of a definition: text -> tree, or tree -> text (errors say where)."""
    text, tree = definition_of(body.definition, body.tree)
    return {"definition": text if body.definition is None else segments.to_text(tree), "tree": tree}


@router.get("/segments/{segment_id}")
def get_segment(segment_id: int, conn: ReadDB) -> dict[str, Any]:
    """One segment: name, definition, tree and current count."""
    return segments.get_segment(conn, segment_id).as_dict()


@router.patch("/segments/{segment_id}")
def update_segment(segment_id: int, body: SegmentPatch, conn: WriteDB) -> dict[str, Any]:
    """Rename, describe or redefine a segment."""
    return segments.update_segment(
        conn,
        segment_id,
        name=body.name,
        definition=body.definition,
        tree=body.tree,
        description=body.description,
    ).as_dict()


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: int, conn: WriteDB) -> Response:
    """Delete a segment (refused while another definition uses it)."""
    segments.delete_segment(conn, segment_id)
    return Response(status_code=204)


@router.post("/segments/{segment_id}/evaluate")
def evaluate(segment_id: int, conn: WriteDB) -> dict[str, Any]:
    """Re-check everyone now; returns how many entered and exited."""
    return {
        **segments.evaluate(conn, segment_id).as_dict(),
        "segment": segments.get_segment(conn, segment_id).as_dict(),
    }


@router.get("/segments/{segment_id}/members")
def members(
    segment_id: int,
    conn: ReadDB,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ids_only: bool = False,
) -> dict[str, Any]:
    """Current members, a page at a time (profile objects, or only ids with ids_only=true)."""
    ids, next_cursor = segments.members(conn, segment_id, cursor=cursor, limit=limit)
    if ids_only:
        return {"data": ids, "next_cursor": next_cursor}
    people = profiles.get_profiles(conn, ids)
    return {"data": [people[pid].as_dict() for pid in ids if pid in people], "next_cursor": next_cursor}


@router.get("/segments/{segment_id}/history")
def history(segment_id: int, conn: ReadDB, days: Annotated[int, Query(ge=1, le=730)] = 90) -> dict[str, Any]:
    """Members at the end of each day, and the latest entries and exits."""
    sizes = segments.size_history(conn, segment_id, days=days)
    return {
        "sizes": [{"day": day.isoformat(), "size": size} for day, size in sizes],
        "recent": segments.recent_changes(conn, segment_id),
    }


@router.get("/profiles/{profile_id}/segments")
def segments_of(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """The segments a person is in now."""
    require_profile(conn, profile_id)
    return {"data": segments.segments_of(conn, profile_id), "next_cursor": None}
