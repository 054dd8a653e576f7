"""Admin pages for hosted forms: the list with each variant's views, submissions and drop-off,
a form's settings and variants, its results as a chart, and the snippet to embed it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from patron.consent import forms, list_topics
from patron.errors import PatronError
from patron.storage.engine import transaction
from patron.web.admin.auth import AdminSession, CsrfSession
from patron.web.admin.charts import CHART_WIDTH, LABEL_WIDTH, line_chart
from patron.web.admin.render import page
from patron.web.deps import EngineDep, ReadDB, SettingsDep
from patron.web.errors import status_of

router = APIRouter()
# Empty rows under a form's variants, to add new ones without script.
BLANK_VARIANT_ROWS = 2
BAR_HEIGHT = 26


def conversion_chart(rows: Sequence[dict[str, Any]], *, title: str) -> str:
    """Horizontal bars of conversion per variant on a 0-100% scale, each with its figures written
    out (the bar is never the only carrier of the number)."""
    shown = [row for row in rows if row["views"]]
    if not shown:
        return f'<p class="muted">No views yet: {escape(title.lower())} appears after the first visit.</p>'
    bar_space = CHART_WIDTH - LABEL_WIDTH - 150
    height = BAR_HEIGHT * len(shown) + 8
    parts = []
    for index, row in enumerate(shown):
        y = index * BAR_HEIGHT + 4
        share = row["conversion"] or 0.0
        width = max(2, round(bar_space * share))
        text = f"{share * 100:.1f}% ({row['submissions']:,} of {row['views']:,})"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" class="chart-label">'
            f"{escape(row['variant'])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{width}" height="{BAR_HEIGHT - 10}" '
            'class="chart-bar" rx="2"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 16}" class="chart-value">{escape(text)}</text>'
        )
    return (
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="100%" class="chart"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def daily_conversion(daily: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """(day, conversion % over all variants) for each day with views."""
    views: dict[str, int] = defaultdict(int)
    submissions: dict[str, int] = defaultdict(int)
    for row in daily:
        views[row["day"]] += row["views"]
        submissions[row["day"]] += row["submissions"]
    return [
        (day[5:], round(min(100.0, 100 * submissions[day] / views[day]), 1))
        for day in sorted(views)
        if views[day]
    ]


class FormEntry(BaseModel):
    """A form's settings and variant rows as the admin's form posts them."""

    model_config = ConfigDict(extra="ignore")

    key: str = ""
    name: str = ""
    kind: str = forms.SUBSCRIBE
    topics: list[str] = []
    notice_text: str = ""
    notice_version: str = ""
    # Absent from the create form; on the edit page an unticked box sends nothing ("no").
    is_active: str | None = None
    variant_key: list[str] = []
    variant_weight: list[str] = []
    variant_heading: list[str] = []
    variant_intro: list[str] = []
    variant_button: list[str] = []


def _entered(entry: FormEntry, *, is_active: str | None) -> dict[str, Any]:
    """The API form of what the admin typed; rows with no key and no words are left out, so
    clearing a row's key removes that variant."""
    variants = []
    columns = (entry.variant_key, entry.variant_weight, entry.variant_heading, entry.variant_intro)
    columns += (entry.variant_button,)
    width = max(len(c) for c in columns)
    padded = [list(c) + [""] * (width - len(c)) for c in columns]
    for key, weight, heading, intro, button in zip(*padded, strict=True):
        if not (key.strip() or heading.strip() or intro.strip() or button.strip()):
            continue
        variants.append({
            "key": key.strip(),
            "weight": _number(weight),
            "heading": heading,
            "intro": intro,
            "button": button,
        })  # fmt: skip
    data: dict[str, Any] = {
        "name": entry.name,
        "kind": entry.kind,
        "topics": [t for t in entry.topics if t],
        "notice_text": entry.notice_text.replace("\r\n", "\n"),
        "notice_version": entry.notice_version,
        "variants": variants,
    }
    if is_active is not None:
        data["is_active"] = is_active == "yes"
    return data


def _number(text: str) -> object:
    """A weight as typed: a number when it reads as one (else the text, which the domain refuses
    naming the variant); blank means 1."""
    text = text.strip()
    if not text:
        return 1
    try:
        return float(text)
    except ValueError:
        return text


def _list_page(
    request: Request,
    conn: Connection,
    *,
    entered: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = forms.list_forms(conn)
    sums = forms.variant_sums(conn, [f.key for f in found])
    context = {
        "active": "consent",
        "forms": [(f, forms.variant_rows(f, sums[f.key])) for f in found],
        "topics": list_topics(conn),
        "entered": entered or {"kind": forms.SUBSCRIBE, "topics": [], "variants": []},
        "blank_rows": BLANK_VARIANT_ROWS + (0 if entered else 1),
        "error": error,
    }
    return page(request, "forms.html", context, status_code=status_code)


@router.get("/forms", response_class=HTMLResponse)
def forms_page(request: Request, session: AdminSession, conn: ReadDB) -> Response:
    """Every form with each variant's views, submissions and drop-off, and a form to add one."""
    return _list_page(request, conn)


@router.post("/forms")
def create_form(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    entry: Annotated[FormEntry, Form()],
) -> Response:
    """Add a form; back to the list with the reason when something is wrong."""
    data = {"key": entry.key.strip(), **_entered(entry, is_active=None)}
    if not data["variants"]:
        data.pop("variants")  # the domain gives a new form one plain variant
    try:
        with transaction(engine) as conn:
            forms.create_form(conn, data)
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return _list_page(request, conn, entered=data, error=_said(exc), status_code=status_of(exc))
    return RedirectResponse(f"/admin/forms/{data['key']}", status_code=303)


def _said(exc: PatronError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field and exc.field not in exc.message else exc.message


def _form_page(
    request: Request,
    conn: Connection,
    settings: Any,
    key: str,
    *,
    entered: dict[str, Any] | None = None,
    error: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    form = forms.get_form(conn, key)
    found = forms.results(conn, key)
    topics = list_topics(conn, include_archived=True)
    names = {t.key: t.name for t in topics}
    context = {
        "active": "consent",
        "form": form,
        "entered": entered or form.as_dict(),
        "topics": [t for t in topics if t.archived_at is None or t.key in form.topics],
        "results": found,
        "chart": conversion_chart(found["variants"], title=f"Conversion per variant of {form.name}"),
        "daily_chart": line_chart(
            daily_conversion(found["daily"]), title="Conversion per day, all variants", unit="%"
        ),
        "snippet": forms.embed_snippet(form, settings.base_url, topic_names=names),
        "hosted_url": f"{settings.base_url.rstrip('/')}/s/{form.key}",
        "blank_rows": BLANK_VARIANT_ROWS,
        "error": error,
        "saved": saved,
    }
    return page(request, "form_detail.html", context, status_code=status_code)


@router.get("/forms/{key}", response_class=HTMLResponse)
def form_page(
    request: Request, key: str, session: AdminSession, conn: ReadDB, settings: SettingsDep, saved: int = 0
) -> Response:
    """One form: its settings and variants, results per variant as a table and a chart, the snippet."""
    return _form_page(request, conn, settings, key, saved=bool(saved))


@router.post("/forms/{key}")
def change_form(
    request: Request,
    key: str,
    session: CsrfSession,
    engine: EngineDep,
    settings: SettingsDep,
    entry: Annotated[FormEntry, Form()],
) -> Response:
    """Save a form's settings and variants; the page again with the reason when refused."""
    data = _entered(entry, is_active=entry.is_active or "no")
    try:
        with transaction(engine) as conn:
            forms.update_form(conn, key, data)
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return _form_page(
                request, conn, settings, key, entered={"key": key, **data}, error=_said(exc),
                status_code=status_of(exc),
            )  # fmt: skip
    return RedirectResponse(f"/admin/forms/{key}?saved=1", status_code=303)
