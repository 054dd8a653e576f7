"""/api/v1/imports and /api/v1/jobs: CSV imports as background jobs, and their progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from patron import imports, jobs
from patron.consent.imports import ConsentOptions
from patron.web.deps import ReadDB, WriteDB

router = APIRouter(tags=["jobs"])


@router.post("/imports", status_code=202)
async def create_import(
    conn: WriteDB,
    file: Annotated[UploadFile, File(description="CSV, UTF-8 (BOM or not) or CP949")],
    source: Annotated[str, Form(description="The app the file comes from, e.g. shop")],
    id_column: Annotated[str | None, Form()] = None,
    map: Annotated[list[str] | None, Form(description="COLUMN=FIELD, repeatable")] = None,
    encoding: Annotated[str | None, Form()] = None,
    consent_column: Annotated[str | None, Form(description="A yes/no column: marketing consent")] = None,
    consent_topics: Annotated[str | None, Form(description="A column listing subscribed topics")] = None,
    consent_at: Annotated[str | None, Form(description="A column: when the person consented")] = None,
    purchase_at: Annotated[
        str | None, Form(description="A column: last purchase (CASL implied consent)")
    ] = None,
    notice_version: Annotated[str | None, Form(description="The notice the source app showed")] = None,
) -> JSONResponse:
    """Queue an import of an uploaded CSV; poll /api/v1/jobs/{id} for progress."""
    content = await file.read()
    job_id = imports.enqueue_import(
        conn,
        filename=file.filename or "upload.csv",
        content=content,
        source=source,
        mapping=imports.parse_mapping(map or []),
        id_column=id_column or None,
        encoding=encoding or None,
        consent=ConsentOptions.from_form(
            consent_column=consent_column,
            topics_column=consent_topics,
            at_column=consent_at,
            purchase_column=purchase_at,
            notice_version=notice_version,
        ),  # fmt: skip
    )
    return JSONResponse({"job": jobs.get_job(conn, job_id).as_dict()}, status_code=202)


@router.get("/jobs")
def list_jobs(conn: ReadDB, status: str | None = None) -> dict[str, Any]:
    """Recent jobs, newest first."""
    return {"data": [job.as_dict() for job in jobs.list_jobs(conn, status=status)], "next_cursor": None}


@router.get("/jobs/{job_id}")
def get_job(job_id: int, conn: ReadDB) -> dict[str, Any]:
    """One job with its progress, result and every attempt."""
    return {**jobs.get_job(conn, job_id).as_dict(), "runs": jobs.list_runs(conn, job_id)}
