"""Admin pages: dashboard, contacts, profile, data dictionary, imports and jobs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from patron import dedupe, fields, imports, jobs, profiles
from patron.consent.imports import ConsentOptions
from patron.errors import Invalid, NotFound, PatronError
from patron.fields.definitions import STANDARD_FIELDS
from patron.files import load_file
from patron.tracking import events as tracked
from patron.tracking.accounts import accounts_of
from patron.web.admin.auth import AdminSession, CsrfSession
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
    request: Request, session: AdminSession, conn: ReadDB, q: str | None = None, cursor: str | None = None
) -> Response:
    """Every contact, newest first, searchable."""
    try:
        result = profiles.list_profiles(conn, q=q, cursor=cursor, limit=CONTACTS_PER_PAGE)
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
    recent = [job for job in jobs.list_jobs(conn, limit=50) if job.kind == imports.IMPORT_JOB]
    return page(request, "imports.html", {"active": "imports", "recent": recent, "error": error})


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
        recent = [job for job in jobs.list_jobs(conn, limit=50) if job.kind == imports.IMPORT_JOB]
        context = {
            "active": "imports",
            "recent": recent,
            "error": exc.message,
            "form": {
                "source": source,
                "id_column": id_column,
                "mapping": mapping,
                "consent_column": consent_column,
                "consent_topics": consent_topics,
                "consent_at": consent_at,
                "purchase_at": purchase_at,
                "notice_version": notice_version,
            },  # fmt: skip
        }
        return page(request, "imports.html", context, status_code=422)
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
