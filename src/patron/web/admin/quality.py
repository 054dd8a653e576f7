"""Admin pages for data quality: the report with its trend, stale contacts, profiling, standardisation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from patron.config import Settings
from patron.quality import service
from patron.quality.reapply import reapply_standards
from patron.quality.snapshots import trend
from patron.quality.standards import list_rules
from patron.storage.engine import transaction
from patron.web.admin.auth import AdminSession, CsrfSession
from patron.web.admin.charts import bar_chart, line_chart
from patron.web.admin.render import page
from patron.web.deps import EngineDep, ReadDB, SettingsDep, WriteDB

router = APIRouter()


@router.get("/quality", response_class=HTMLResponse)
async def quality_page(
    request: Request, session: AdminSession, engine: EngineDep, settings: SettingsDep
) -> Response:
    """The quality report: score and its trend, fields, flagged values, duplicates, stale, sources."""
    context = await run_in_threadpool(_report_context, engine, settings)
    return page(request, "quality.html", context)


@router.post("/quality")
async def recompute(session: CsrfSession, engine: EngineDep, settings: SettingsDep) -> Response:
    """Refresh stale contacts and take today's snapshot now, instead of at the worker's next hour."""
    await run_in_threadpool(service.refresh_and_report, engine, settings)
    return RedirectResponse("/admin/quality", status_code=303)


def _report_context(engine: Engine, settings: Settings) -> dict[str, Any]:
    report = service.report(engine, settings)
    with transaction(engine, write=False) as conn:
        points = trend(conn, days=90)
    emails = report["emails"]
    return {
        "active": "quality",
        "report": report,
        "last_snapshot": points[-1][0] if points else None,
        "trend_chart": line_chart(
            [(day.strftime("%m-%d"), round(values["score"], 1)) for day, values in points],
            title="Quality score by day",
        ),
        "flags_chart": bar_chart(
            [
                ("invalid emails", emails["invalid"]),
                ("email typos", emails["typo"]),
                ("role addresses", emails["role"]),
                ("disposable", emails["disposable"]),
                ("invalid phones", report["phones"]["invalid"]),
                ("unknown countries", report["countries"]["invalid"]),
            ],
            title="Flagged values",
        ),
    }


@router.get("/quality/stale", response_class=HTMLResponse)
def stale_page(request: Request, session: AdminSession, conn: ReadDB, settings: SettingsDep) -> Response:
    """Stale contacts, longest silent first."""
    listed = service.stale_contacts(conn, settings, limit=200)
    return page(request, "quality_stale.html", {"active": "quality", "listed": listed})


@router.get("/quality/profiling", response_class=HTMLResponse)
def profiling_page(request: Request, session: AdminSession, conn: ReadDB) -> Response:
    """Per field the top values and the shapes values are written in."""
    return page(request, "quality_profiling.html", {"active": "quality", "result": service.profiling(conn)})


@router.get("/quality/standards", response_class=HTMLResponse)
def standards_page(request: Request, session: AdminSession, conn: ReadDB, preview: bool = False) -> Response:
    """The standardisation rules; with ?preview=1, what re-applying them to stored profiles would do.

    The preview reads every profile holding a field the rules touch, so it runs on request only.
    """
    preview = reapply_standards(conn, apply=False) if preview else None
    context = {"active": "quality", "rules": list_rules(conn), "preview": preview, "applied": None}
    return page(request, "quality_standards.html", context)


@router.post("/quality/standards", response_class=HTMLResponse)
def apply_standards(request: Request, session: CsrfSession, conn: WriteDB) -> Response:
    """Re-apply the rules to stored profiles, then show what changed."""
    applied = reapply_standards(conn, apply=True)
    context = {"active": "quality", "rules": list_rules(conn), "preview": None, "applied": applied}
    return page(request, "quality_standards.html", context)
