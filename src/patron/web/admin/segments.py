"""Admin pages for segments: the list, the editor (rule builder and text side by side, with a live
count), a segment's members, size over time and recent entries and exits."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection

from patron import consent, fields, profiles, segments
from patron.accounts import Session
from patron.consent.model import CHANNELS
from patron.errors import Invalid, PatronError
from patron.segments.definition import AGGREGATES, TRAIT_OPS, UNITS
from patron.storage.engine import transaction
from patron.tracking import events as tracked
from patron.web.admin.auth import AdminSession, CsrfFailed, CsrfSession
from patron.web.admin.charts import lines_chart
from patron.web.admin.render import page
from patron.web.deps import EngineDep, ReadDB
from patron.web.errors import status_of

router = APIRouter()
MEMBERS_PER_PAGE = 50
PREVIEW_SAMPLE = 10
HISTORY_DAYS = 90
CHANGES_SHOWN = 20
# Event names offered in the builder: the most frequent ones (any other can be typed).
EVENTS_OFFERED = 50
IDENTITY_KINDS = ("email", "phone", "user_id", "anonymous_id")
# Traits every profile has besides its data dictionary: the profile's own columns and the score.
BUILT_IN_TRAITS = (("created_at", "datetime"), ("updated_at", "datetime"), ("lead_score", "number"),
                   ("lead_stage", "string"))  # fmt: skip
DONE = {"created": "Segment saved; its members are being counted.", "saved": "Segment saved."}


def json_csrf(request: Request, session: AdminSession) -> Session:
    """Dependency for the editor's JSON calls: the session's CSRF token in the X-CSRF-Token header."""
    token = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(session.csrf_token.encode(), token.encode()):
        raise CsrfFailed()
    return session


JsonSession = Annotated[Session, Depends(json_csrf)]


# --- List -------------------------------------------------------------------------------------


@router.get("/segments", response_class=HTMLResponse)
def segments_page(request: Request, session: AdminSession, conn: ReadDB) -> Response:
    """Every segment with its definition, member count and when it last changed."""
    return page(request, "segments.html", {"active": "segments", "segments": segments.list_segments(conn)})


# --- Editor -----------------------------------------------------------------------------------


def vocabulary(conn: Connection, *, editing: str | None = None) -> dict[str, Any]:
    """What the rule builder offers in its pickers: traits with their types, events, identity
    kinds, channels, topics, the other segments and time units."""
    dictionary = [(f.name, f.type) for f in fields.list_fields(conn)]
    return {
        "traits": [{"name": n, "type": t} for n, t in [*BUILT_IN_TRAITS, *sorted(dictionary)]],
        "events": [name for name, _ in tracked.top_events(conn, limit=EVENTS_OFFERED) if name],
        "identities": list(IDENTITY_KINDS),
        "channels": list(CHANNELS),
        "topics": [{"key": t.key, "name": t.name} for t in consent.list_topics(conn)],
        "segments": [s.name for s in segments.list_segments(conn) if s.name != editing],
        "units": list(UNITS),
        "trait_ops": list(TRAIT_OPS),
        "aggregates": list(AGGREGATES),
    }


def _editor(
    request: Request,
    conn: Connection,
    *,
    entered: dict[str, str],
    segment: Any = None,
    error: PatronError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "active": "segments",
        "segment": segment,
        "entered": entered,
        "vocabulary": vocabulary(conn, editing=segment.name if segment else None),
        "error": error.message if error else None,
        "error_field": error.field if error else None,
    }
    return page(request, "segment_edit.html", context, status_code=status_code)


@router.get("/segments/new", response_class=HTMLResponse)
def new_segment(request: Request, session: AdminSession, conn: ReadDB) -> Response:
    """The editor for a new segment."""
    return _editor(request, conn, entered={"name": "", "description": "", "definition": ""})


@router.post("/segments/new")
def create_segment(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    definition: Annotated[str, Form()] = "",
) -> Response:
    """Save a new segment from its text form (the builder keeps the text in step)."""
    entered = {"name": name.strip(), "description": description.strip(), "definition": _lines(definition)}
    try:
        with transaction(engine) as conn:
            created = segments.create_segment(
                conn,
                name=entered["name"],
                definition=entered["definition"],
                description=entered["description"],
            )
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return _editor(request, conn, entered=entered, error=exc, status_code=status_of(exc))
    return RedirectResponse(f"/admin/segments/{created.id}?done=created", status_code=303)


@router.get("/segments/{segment_id}/edit", response_class=HTMLResponse)
def edit_segment(request: Request, segment_id: int, session: AdminSession, conn: ReadDB) -> Response:
    """The editor with the segment's current name, description and definition."""
    found = segments.get_segment(conn, segment_id)
    entered = {"name": found.name, "description": found.description, "definition": found.definition}
    return _editor(request, conn, entered=entered, segment=found)


@router.post("/segments/{segment_id}/edit")
def update_segment(
    request: Request,
    segment_id: int,
    session: CsrfSession,
    engine: EngineDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    definition: Annotated[str, Form()] = "",
) -> Response:
    """Save a segment's changes; its membership is re-evaluated at once."""
    entered = {"name": name.strip(), "description": description.strip(), "definition": _lines(definition)}
    try:
        with transaction(engine) as conn:
            segments.update_segment(
                conn,
                segment_id,
                name=entered["name"],
                definition=entered["definition"],
                description=entered["description"],
            )
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            found = segments.get_segment(conn, segment_id)
            return _editor(
                request, conn, entered=entered, segment=found, error=exc, status_code=status_of(exc)
            )
    return RedirectResponse(f"/admin/segments/{segment_id}?done=saved", status_code=303)


def _lines(text: str) -> str:
    # Browsers post textareas with CRLF; the stored text keeps the marketer's own line breaks.
    return text.replace("\r\n", "\n").strip()


# --- The editor's JSON calls (builder <-> text, live count) -----------------------------------


def _refusal(exc: PatronError) -> JSONResponse:
    """An Invalid as the editor shows it: the message, and where in the text when it is a parse error."""
    details = exc.details if isinstance(exc.details, dict) else {}
    body = {"message": exc.message, "field": exc.field, **details}
    return JSONResponse({"error": body}, status_code=status_of(exc))


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("send a JSON object") from None
    if not isinstance(body, dict):
        raise Invalid("send a JSON object")
    return body


@router.post("/segments/builder/text")
async def tree_to_text(request: Request, session: JsonSession) -> Response:
    """The text form of the builder's tree; the first thing missing when the tree is incomplete."""
    try:
        tree = (await _body(request)).get("tree")
        segments.check_tree(tree)
        return JSONResponse({"definition": segments.to_text(tree)})
    except Invalid as exc:
        return _refusal(exc)


@router.post("/segments/builder/tree")
async def text_to_tree(request: Request, session: JsonSession) -> Response:
    """The tree of the text editor's definition, or where it stops making sense and what was expected."""
    try:
        definition = (await _body(request)).get("definition")
        if not isinstance(definition, str):
            raise Invalid("definition must be text", field="definition")
        return JSONResponse({"tree": segments.parse(definition)})
    except Invalid as exc:
        return _refusal(exc)


@router.post("/segments/builder/preview")
async def preview(request: Request, session: JsonSession, engine: EngineDep) -> Response:
    """How many people match a definition right now, and a few of them."""
    try:
        definition = (await _body(request)).get("definition")
        if not isinstance(definition, str):
            raise Invalid("definition must be text", field="definition")
        with transaction(engine, write=False) as conn:
            found = segments.preview(conn, definition=definition, sample=PREVIEW_SAMPLE)
            people = _people(conn, found["sample"])
    except PatronError as exc:
        return _refusal(exc)
    return JSONResponse({"count": found["count"], "sample": people})


def _people(conn: Connection, profile_ids: Sequence[str]) -> list[dict[str, str]]:
    """Ids with what the admin shows for them: a name, else an email, else the id."""
    found = profiles.get_profiles(conn, profile_ids)
    shown = []
    for profile_id in profile_ids:
        traits = found[profile_id].traits if profile_id in found else {}
        label = profiles.display_name(traits) or str(traits.get("email") or "") or profile_id
        shown.append({"id": profile_id, "name": label, "email": str(traits.get("email") or "")})
    return shown


# --- One segment ------------------------------------------------------------------------------


@router.get("/segments/{segment_id}", response_class=HTMLResponse)
def segment_page(
    request: Request,
    segment_id: int,
    session: AdminSession,
    conn: ReadDB,
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    """A segment: its count and definition, size over time, recent entries and exits, members."""
    return _segment_page(request, conn, segment_id, cursor=cursor, done=DONE.get(done or ""))


def _segment_page(
    request: Request,
    conn: Connection,
    segment_id: int,
    *,
    cursor: str | None = None,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = segments.get_segment(conn, segment_id)
    member_ids, next_cursor = segments.members(conn, segment_id, cursor=cursor, limit=MEMBERS_PER_PAGE)
    history = segments.size_history(conn, segment_id, days=HISTORY_DAYS)
    context = {
        "active": "segments",
        "segment": found,
        "members": _people(conn, member_ids),
        "cursor": cursor,
        "next_cursor": next_cursor,
        "chart": size_chart(history, title=f"Members of {found.name}, last {HISTORY_DAYS} days"),
        "changes": _named(conn, segments.recent_changes(conn, segment_id, limit=CHANGES_SHOWN)),
        "done": done,
        "error": error,
    }
    return page(request, "segment.html", context, status_code=status_code)


def _named(conn: Connection, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries and exits with each person's name."""
    people = {p["id"]: p["name"] for p in _people(conn, [c["profile_id"] for c in changes])}
    return [{**change, "name": people[change["profile_id"]]} for change in changes]


def size_chart(history: Sequence[tuple[Any, int]], *, title: str) -> str:
    """Members at the end of each day as one line."""
    labels = [day.strftime("%d %b") for day, _ in history]
    return lines_chart(labels, [("Members", [float(size) for _, size in history])], title=title)


@router.post("/segments/{segment_id}/delete")
def delete_segment(request: Request, segment_id: int, session: CsrfSession, engine: EngineDep) -> Response:
    """Delete a segment and its membership history; refused while another definition uses it."""
    try:
        with transaction(engine) as conn:
            segments.delete_segment(conn, segment_id)
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return _segment_page(request, conn, segment_id, error=exc.message, status_code=status_of(exc))
    return RedirectResponse("/admin/segments", status_code=303)
