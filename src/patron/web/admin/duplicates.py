"""Admin pages for duplicates: the review queue, one pair side by side, merge history and undo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from patron import dedupe, jobs
from patron.accounts import Session
from patron.errors import PatronError
from patron.fields.definitions import STANDARD_FIELDS
from patron.storage.engine import transaction
from patron.web.admin.auth import AdminSession, CsrfSession
from patron.web.admin.charts import weight_bar
from patron.web.admin.render import page
from patron.web.deps import EngineDep, ReadDB, SettingsDep, WriteDB
from patron.web.errors import status_of
from patron.worker.handlers import DEDUPE

router = APIRouter()
PAIRS_PER_PAGE = 50
MERGES_PER_PAGE = 50
STANDARD_ORDER = list(STANDARD_FIELDS)
# What the page after a decision says; the query string only picks one of these.
DECIDED = {
    "merge": "Merged.",
    "distinct": "Marked as not the same person; dedupe will not suggest this pair again.",
    "skip": "Skipped: the pair moved to the back of the queue.",
}


def _actor(session: Session) -> str:
    return f"admin:{session.email}"


@router.get("/duplicates", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: AdminSession,
    conn: ReadDB,
    offset: int = 0,
    done: str | None = None,
    merge: int | None = None,
) -> Response:
    """Pairs that may be one person, the likeliest first, with a button to look for more."""
    pairs = dedupe.candidate_views(conn, dedupe.list_queue(conn, limit=PAIRS_PER_PAGE, offset=offset))
    context = {
        "active": "duplicates",
        "pairs": pairs,
        "total": dedupe.count_open(conn),
        "offset": offset,
        "next_offset": offset + PAIRS_PER_PAGE if len(pairs) == PAIRS_PER_PAGE else None,
        "done": DECIDED.get(done or ""),
        "merge_id": merge,
    }
    return page(request, "duplicates.html", context)


@router.post("/duplicates/run")
def find_duplicates(session: CsrfSession, conn: WriteDB) -> Response:
    """Queue a dedupe run (merge the sure pairs, queue the likely ones) and show its progress."""
    job_id = jobs.enqueue(conn, DEDUPE, {"actor": _actor(session)}, max_attempts=1)
    return RedirectResponse(f"/admin/jobs/{job_id}", status_code=303)


@router.get("/duplicates/{candidate_id}", response_class=HTMLResponse)
def pair_page(
    request: Request,
    candidate_id: int,
    session: AdminSession,
    conn: ReadDB,
    done: str | None = None,
    merge: int | None = None,
) -> Response:
    """Two profiles side by side, the evidence for and against, and the reviewer's three buttons."""
    return _pair_page(request, conn, candidate_id, done=DECIDED.get(done or ""), merge_id=merge)


@router.post("/duplicates/{candidate_id}")
def decide_pair(
    request: Request,
    candidate_id: int,
    session: CsrfSession,
    engine: EngineDep,
    settings: SettingsDep,
    decision: Annotated[str, Form()] = "",
) -> Response:
    """Merge, "not the same person" or skip; then the next pair, or the queue when none is left."""
    survivorship = dedupe.survivorship_of(dedupe.match_config(settings), settings)
    try:
        # Its own transaction, so a refused decision rolls back before the page says why.
        with transaction(engine) as conn:
            result = dedupe.decide(
                conn, candidate_id, decision, actor=_actor(session), survivorship=survivorship
            )
            merge_id = None
            if decision == "merge":
                merge_id = dedupe.list_merges(conn, profile_id=result["absorbed_id"], limit=1)[0]["id"]
            upcoming = [c["id"] for c in dedupe.list_queue(conn, limit=2) if c["id"] != candidate_id]
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return _pair_page(request, conn, candidate_id, error=exc.message, status_code=status_of(exc))
    target = f"/admin/duplicates/{upcoming[0]}" if upcoming else "/admin/duplicates"
    target += f"?done={decision}" + (f"&merge={merge_id}" if merge_id else "")
    return RedirectResponse(target, status_code=303)


def _pair_page(
    request: Request,
    conn: Connection,
    candidate_id: int,
    *,
    done: str | None = None,
    merge_id: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    pair = dedupe.candidate_view(conn, dedupe.get_candidate(conn, candidate_id))
    first, second = pair["profiles"]
    evidence = pair["evidence"] or {}
    context = {
        "active": "duplicates",
        "pair": pair,
        "first": first,
        "second": second,
        "traits": _traits_side_by_side(first.get("traits") or {}, second.get("traits") or {}),
        "identities": _identities_side_by_side(first.get("identities") or [], second.get("identities") or []),
        "match": _match_view(evidence, first["id"]),
        "shared": evidence.get("identities") or [],
        "total": dedupe.count_open(conn),
        "done": done,
        "merge_id": merge_id,
        "error": error,
    }
    return page(request, "duplicate.html", context, status_code=status_code)


@router.get("/merges", response_class=HTMLResponse)
def merges_page(request: Request, session: AdminSession, conn: ReadDB, before: int | None = None) -> Response:
    """Every merge, newest first: who was kept, who was absorbed, why, by whom, undone or not."""
    merges = dedupe.list_merges(conn, limit=MERGES_PER_PAGE, before=before)
    context = {
        "active": "duplicates",
        "merges": merges,
        "next_before": merges[-1]["id"] if len(merges) == MERGES_PER_PAGE else None,
    }
    return page(request, "merges.html", context)


@router.get("/merges/{merge_id}", response_class=HTMLResponse)
def merge_page(request: Request, merge_id: int, session: AdminSession, conn: ReadDB) -> Response:
    """One merge: the evidence, each trait's surviving and losing values, what the absorbed profile held."""
    return _merge_page(request, conn, merge_id)


@router.post("/merges/{merge_id}/undo")
def undo(request: Request, merge_id: int, session: CsrfSession, engine: EngineDep) -> Response:
    """Unmerge: both profiles back as they were, and the pair remembered as different people."""
    try:
        with transaction(engine) as conn:
            dedupe.unmerge(conn, merge_id, actor=_actor(session))
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return _merge_page(request, conn, merge_id, error=exc.message, status_code=status_of(exc))
    return RedirectResponse(f"/admin/merges/{merge_id}", status_code=303)


def _merge_page(
    request: Request, conn: Connection, merge_id: int, *, error: str | None = None, status_code: int = 200
) -> Response:
    merge = dedupe.get_merge(conn, merge_id)
    evidence = merge["evidence"] or {}
    match = evidence.get("match") or {}
    context = {
        "active": "duplicates",
        "merge": merge,
        "match": _match_view(match, merge["kept_id"]),
        "shared": match.get("identities") or evidence.get("identities") or [],
        "choices": evidence.get("survivorship") or [],
        "absorbed_traits": _ordered(merge["absorbed"]["traits"]),
        "error": error,
    }
    return page(request, "merge.html", context, status_code=status_code)


def _ordered(traits: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Standard fields in their usual order, then custom ones alphabetically (as the profile page)."""
    return sorted(traits.items(), key=lambda item: _field_order(item[0]))


def _field_order(name: str) -> tuple[int, str]:
    return (STANDARD_ORDER.index(name) if name in STANDARD_ORDER else 99, name)


def _traits_side_by_side(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per trait either profile holds, saying whether both hold it and whether they differ."""
    rows = []
    for name in sorted(set(first) | set(second), key=_field_order):
        rows.append({
            "field": name, "first": first.get(name), "second": second.get(name),
            "in_first": name in first, "in_second": name in second,
            "differs": name in first and name in second and first[name] != second[name],
        })  # fmt: skip
    return rows


def _identities_side_by_side(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per identity kind: each profile's values, and the values both hold."""
    kinds = sorted({i["kind"] for i in first} | {i["kind"] for i in second})
    rows = []
    for kind in kinds:
        mine = [i["value"] for i in first if i["kind"] == kind]
        theirs = [i["value"] for i in second if i["kind"] == kind]
        rows.append({"kind": kind, "first": mine, "second": theirs, "shared": set(mine) & set(theirs)})
    return rows


def _match_view(match: Mapping[str, Any], first_id: str) -> dict[str, Any] | None:
    """The model's per-field evidence with `first_id`'s values in the first column; None without it.

    Pairs recorded at ingest carry the identities one record shared instead of field weights.
    """
    fields = match.get("fields")
    if not fields:
        return None
    swapped = match.get("b") == first_id
    rows = []
    for f in fields:
        weight = float(f.get("weight") or 0.0)
        first, second = (f.get("b"), f.get("a")) if swapped else (f.get("a"), f.get("b"))
        rows.append({
            "field": f.get("field"), "kind": f.get("kind"), "level": f.get("level"),
            "first": first, "second": second, "weight": weight, "bar": weight_bar(weight),
        })  # fmt: skip
    return {
        "fields": rows,
        "probability": match.get("probability"),
        "weight": match.get("weight"),
        "prior_weight": match.get("prior_weight"),
    }
