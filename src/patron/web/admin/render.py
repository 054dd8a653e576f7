"""Rendering admin pages: one Jinja2 environment, the session and CSRF token in every page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, Engine

from patron import __version__
from patron.errors import PatronError
from patron.fields import format_datetime
from patron.profiles import display_name
from patron.storage.engine import transaction
from patron.web.errors import status_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["when"] = lambda moment: (
    format_datetime(moment)[:16].replace("T", " ") if moment else ""
)
templates.env.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int) else n
templates.env.globals["version"] = __version__
templates.env.filters["person_name"] = display_name


def shown_value(value: Any) -> Any:
    """A trait value as people read it: lists comma-separated, objects as JSON, yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return value


templates.env.filters["trait_value"] = shown_value

NAV = [
    ("dashboard", "Dashboard", "/admin/"),
    ("contacts", "Contacts", "/admin/contacts"),
    ("duplicates", "Duplicates", "/admin/duplicates"),
    ("segments", "Segments", "/admin/segments"),
    ("scoring", "Lead scoring", "/admin/scoring"),
    ("consent", "Consent", "/admin/consent"),
    ("imports", "Imports", "/admin/imports"),
    ("tracking", "Tracking plan", "/admin/tracking"),
    ("quality", "Data quality", "/admin/quality"),
    ("fields", "Data dictionary", "/admin/fields"),
    ("jobs", "Jobs", "/admin/jobs"),
]
# No inline script or style: a script injected into a profile field cannot run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def page(request: Request, template: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render an admin page with the navigation, the user and the CSRF token."""
    session = getattr(request.state, "admin_session", None)
    base = {"nav": NAV, "session": session, "csrf_token": session.csrf_token if session else ""}
    response = templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def attempt(
    engine: Engine, act: Callable[[Connection], str], again: Callable[[Connection, str, int], Response]
) -> Response:
    """Run a change in its own transaction and go where it says; when the domain refuses it,
    roll back and render the page again with the reason."""
    try:
        with transaction(engine) as conn:
            target = act(conn)
    except PatronError as exc:
        with transaction(engine, write=False) as conn:
            return again(conn, exc.message, status_of(exc))
    return RedirectResponse(target, status_code=303)
