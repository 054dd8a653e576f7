"""Admin pages for tracking: the plan with its violations, sources, and the rejected log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from patron.accounts import WRITE, list_api_keys
from patron.errors import Invalid
from patron.tracking import dictionary
from patron.tracking import events as tracked
from patron.tracking.plan_files import export_csv, export_markdown
from patron.web.admin.auth import AdminSession
from patron.web.admin.charts import bar_chart
from patron.web.admin.render import page
from patron.web.deps import ReadDB

router = APIRouter()


@router.get("/tracking", response_class=HTMLResponse)
def tracking_plan(request: Request, session: AdminSession, conn: ReadDB, kind: str | None = None) -> Response:
    """The tracking plan: events (planned and discovered), violations with examples, sources."""
    totals = dictionary.violation_totals(conn)
    context = {
        "active": "tracking",
        "conventions": dictionary.conventions(conn),
        "events": dictionary.list_events(conn),
        "violations": dictionary.list_violations(conn, kind=kind, limit=200),
        "totals": totals,
        "kind": kind,
        "totals_chart": bar_chart(
            sorted(totals.items(), key=lambda item: -item[1]), title="Violations by kind"
        ),
        "sources": [k for k in list_api_keys(conn) if k.scope == WRITE],
        "backlog": tracked.intake_backlog(conn),
        "rejected": tracked.count_rejected(conn),
    }
    return page(request, "tracking.html", context)


@router.get("/tracking/rejected", response_class=HTMLResponse)
def rejected_log(
    request: Request, session: AdminSession, conn: ReadDB, cursor: int | None = None
) -> Response:
    """Messages the tracking API refused, with the field and the reason."""
    items, next_cursor = tracked.rejected(conn, before=cursor, limit=100)
    return page(request, "rejected.html", {"active": "tracking", "items": items, "next_cursor": next_cursor})


@router.get("/tracking/plan.{fmt}")
def export_plan(fmt: str, session: AdminSession, conn: ReadDB) -> Response:
    """Download the data dictionary as CSV or Markdown."""
    document = dictionary.plan_document(conn)
    writers = {"csv": (export_csv, "text/csv"), "md": (export_markdown, "text/markdown")}
    if fmt not in writers:
        raise Invalid("export as plan.csv or plan.md", field="format")
    write, media_type = writers[fmt]
    return Response(
        write(document.events, document.traits),
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=tracking-plan.{fmt}"},
    )
