"""Admin pages: dashboard, contacts, profile, data dictionary, imports and jobs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection

from patron import computed, dedupe, fields, imports, jobs, profiles
from patron.consent.imports import ConsentOptions
from patron.errors import Invalid, NotFound, PatronError
from patron.fields.definitions import STANDARD_FIELDS
from patron.files import load_file
from patron.storage.engine import transaction
from patron.tracking import events as tracked
from patron.tracking.accounts import accounts_of
from patron.web.admin.auth import AdminSession, CsrfSession, LoginRequired, current_session
from patron.web.admin.charts import bar_chart
from patron.web.admin.consent import consent_panel
from patron.web.admin.render import page
from patron.web.admin.scoring import score_panel
from patron.web.deps import ReadDB, WriteDB

router = APIRouter()
CONTACTS_PER_PAGE = 50
TIMELINE_SHOWN = 100
STANDARD_ORDER = list(STANDARD_FIELDS)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: AdminSession, conn: ReadDB) -> Response:
    """Counts at a glance, identities by kind, recent jobs."""
    kinds = profiles.identities_by_kind(conn)
    top = tracked.top_events(conn, limit=10)
    return page(
        request,
        "dashboard.html",
        {
            "active": "dashboard",
            "stats": profiles.stats(conn),
            "fields_count": len(fields.list_fields(conn)),
            "jobs_by_status": jobs.counts_by_status(conn),
            "recent_jobs": jobs.list_jobs(conn, limit=8),
            "kinds_chart": bar_chart(kinds, title="Identities by kind"),
            "events_chart": bar_chart(top, title="Most frequent events"),
        },
    )


@router.get("/contacts", response_class=HTMLResponse)
def contacts(
    request: Request,
    session: AdminSession,
    conn: ReadDB,
    q: str | None = None,
    cursor: str | None = None,
    who: str = "known",
) -> Response:
    """Contacts newest first, searchable: people known by an email, phone or id (the default),
    anonymous web visitors, or everyone."""
    try:
        result = profiles.list_profiles(conn, q=q, cursor=cursor, limit=CONTACTS_PER_PAGE, who=who)
        error = None
    except Invalid as exc:
        result, error = profiles.Page([], None), exc.message
    return page(
        request,
        "contacts.html",
        {
            "active": "contacts",
            "page": result,
            "q": q or "",
            "who": who,
            "error": error,
            "total": profiles.count_profiles(conn),
        },
    )


@router.get("/contacts/{profile_id}", response_class=HTMLResponse)
def contact(request: Request, profile_id: str, session: AdminSession, conn: ReadDB) -> Response:
    """One person: identities, traits with where each came from and when, possible duplicates,
    consent and data rights."""
    try:
        profile = profiles.get_profile(conn, profile_id)
    except NotFound:
        survivor = dedupe.survivor_of(conn, profile_id)
        if survivor is None:
            raise
        return RedirectResponse(f"/admin/contacts/{survivor}", status_code=303)  # merged into it
    types = fields.field_types(conn)
    ordered = sorted(
        profile.traits.items(),
        key=lambda item: (STANDARD_ORDER.index(item[0]) if item[0] in STANDARD_ORDER else 99, item[0]),
    )
    events, _ = tracked.timeline(conn, profile_id, limit=TIMELINE_SHOWN)
    return page(
        request,
        "contact.html",
        {
            "active": "contacts",
            "profile": profile,
            "traits": ordered,
            "types": types,
            "computed": computed.computed_names(conn),
            "candidates": profiles.merge_candidates_of(conn, profile_id),
            "events": events,
            "accounts": accounts_of(conn, profile_id),
            "merges": dedupe.list_merges(conn, profile_id=profile_id, limit=50),
            "consent": consent_panel(request, conn, profile_id),
            "scoring": score_panel(conn, profile_id),
        },
    )


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, session: AdminSession, conn: ReadDB, error: str | None = None) -> Response:
    """Upload a CSV; recent imports."""
    return _imports(request, conn, error=error)


def _imports(
    request: Request,
    conn: Connection,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The upload form (refilled with `form` when it is shown again with an error) and recent imports."""
    recent = [job for job in jobs.list_jobs(conn, limit=50) if job.kind == imports.IMPORT_JOB]
    context = {
        "active": "imports",
        "recent": recent,
        "error": error,
        "form": form,
        "max_upload": megabytes(request.app.state.settings.max_upload_bytes),
    }
    return page(request, "imports.html", context, status_code=status_code)


def megabytes(size_bytes: int) -> str:
    """A size as people read it in MB (10^6 bytes): "1.5", "200", "0.0004"."""
    size = size_bytes / 1_000_000
    return f"{size:,.1f}".removesuffix(".0") if size >= 1 else f"{size:.2g}"


async def upload_too_large(request: Request, limit_bytes: int, size_bytes: int) -> Response:
    """The upload page again, 413, saying how big the file is and the most this server accepts.

    The body limit answers with this before reading the body (so the form is not refilled and
    its CSRF token is not checked: nothing changes).
    """
    return await run_in_threadpool(_too_large, request, limit_bytes, size_bytes)


def _too_large(request: Request, limit_bytes: int, size_bytes: int) -> Response:
    try:
        current_session(request)
    except LoginRequired as exc:
        return RedirectResponse(f"/admin/login?next={quote(exc.next_path)}", status_code=303)
    # The declared body size: the file plus the form's few hundred bytes, the same in MB.
    message = (
        f"the file is {megabytes(size_bytes)} MB; the most this server accepts is "
        f"{megabytes(limit_bytes)} MB (PATRON_MAX_UPLOAD_BYTES). Split it into smaller files, "
        "or raise the limit."
    )
    with transaction(request.app.state.engine, write=False) as conn:
        return _imports(request, conn, error=message, status_code=413)


@router.post("/imports")
async def upload_import(
    request: Request,
    session: CsrfSession,
    conn: WriteDB,
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form()],
    id_column: Annotated[str, Form()] = "",
    mapping: Annotated[str, Form()] = "",
    policy: Annotated[str, Form()] = "",
    consent_column: Annotated[str, Form()] = "",
    consent_topics: Annotated[str, Form()] = "",
    consent_at: Annotated[str, Form()] = "",
    purchase_at: Annotated[str, Form()] = "",
    notice_version: Annotated[str, Form()] = "",
) -> Response:
    """Keep the file and queue its import; show the job's progress."""
    content = await file.read()
    try:
        job_id = imports.enqueue_import(
            conn,
            filename=file.filename or "upload.csv",
            content=content,
            source=source.strip(),
            mapping=imports.parse_mapping(mapping),
            id_column=id_column.strip() or None,
            policy=policy.strip() or None,
            consent=ConsentOptions.from_form(
                consent_column=consent_column,
                topics_column=consent_topics,
                at_column=consent_at,
                purchase_column=purchase_at,
                notice_version=notice_version,
            ),  # fmt: skip
        )
    except PatronError as exc:
        form = {
            "source": source,
            "id_column": id_column,
            "mapping": mapping,
            "consent_column": consent_column,
            "consent_topics": consent_topics,
            "consent_at": consent_at,
            "purchase_at": purchase_at,
            "notice_version": notice_version,
        }  # fmt: skip
        return _imports(request, conn, error=exc.message, form=form, status_code=422)
    return RedirectResponse(f"/admin/jobs/{job_id}", status_code=303)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, session: AdminSession, conn: ReadDB, status: str | None = None) -> Response:
    """Background jobs with status, progress and errors."""
    context = {
        "active": "jobs",
        "jobs": jobs.list_jobs(conn, limit=200, status=status),
        "status": status,
        "counts": jobs.counts_by_status(conn),
        "schedules": jobs.list_schedules(conn),
    }
    return page(request, "jobs.html", context)


# Registered before /jobs/{job_id}, which would otherwise take "7.json" as the id.
@router.get("/jobs/{job_id}.json")
def job_progress(job_id: int, session: AdminSession, conn: ReadDB) -> JSONResponse:
    """Progress for the job page's polling script."""
    return JSONResponse(jobs.get_job(conn, job_id).as_dict())


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, session: AdminSession, conn: ReadDB) -> Response:
    """One job: live progress bar, then its summary, rejects file and attempts."""
    job = jobs.get_job(conn, job_id)
    return page(request, "job.html", {"active": "jobs", "job": job, "runs": jobs.list_runs(conn, job_id)})


@router.get("/files/{file_id}")
def download(file_id: str, session: AdminSession, conn: ReadDB) -> Response:
    """Download a stored file (e.g. an import's rejects)."""
    stored = load_file(conn, file_id)
    disposition = f"attachment; filename*=UTF-8''{quote(stored.name, safe='')}"
    return Response(
        stored.content, media_type=stored.content_type, headers={"Content-Disposition": disposition}
    )
