"""Rendering public pages: one Jinja2 environment, the page language in every template, and
headers that keep a page reached through a secret link from leaking it or running injected code."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from patron.web.public.i18n import DEFAULT, LANGUAGE_NAMES, LANGUAGES, translate

TEMPLATES_DIR = Path(__file__).parent / "templates"

# No inline script or style (a script injected into a name or topic cannot run), nothing framed,
# and no Referer: the page's URL holds the person's token.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# Query parameters that describe a one-time outcome, not the page: a language switch drops them.
_TRANSIENT_PARAMS = ("lang", "saved")


@pass_context
def _t(context: Context, key: str, **values: object) -> str:
    """Translate `key` into the language of the page being rendered."""
    return translate(context.get("lang", DEFAULT), key, **values)


@pass_context
def _long_date(context: Context, moment: date | datetime | None) -> str:
    """A date as people write it in the page language (1 March 2026 / 2026년 3월 1일)."""
    if moment is None:
        return ""
    if context.get("lang") == "ko":
        return f"{moment.year}년 {moment.month}월 {moment.day}일"
    return f"{moment.day} {moment.strftime('%B')} {moment.year}"


environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["t"] = _t
environment.globals["languages"] = LANGUAGES
environment.globals["language_names"] = LANGUAGE_NAMES
environment.filters["long_date"] = _long_date


def language_links(request: Request) -> list[tuple[str, str, str]]:
    """(language, name, URL) for each language: the same path and query with ?lang= set."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _TRANSIENT_PARAMS]
    return [
        (language, LANGUAGE_NAMES[language], f"{request.url.path}?{urlencode([*kept, ('lang', language)])}")
        for language in LANGUAGES
    ]


def render(template: str, context: Mapping[str, Any], *, lang: str) -> str:
    """A public template rendered in `lang`, as text."""
    return environment.get_template(template).render({**context, "lang": lang})


def public_page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    lang: str,
    status_code: int = 200,
    extra_headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a public page in `lang` with the language switch and the security headers."""
    html = render(
        template,
        {"request": request, "language_links": language_links(request), **context},
        lang=lang,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = lang
    if extra_headers:
        response.headers.update(extra_headers)
    return response


def client_ip(request: Request) -> str | None:
    """The visitor's IP address as the connection gives it (None when it is not one: a test
    client or a Unix socket); behind a proxy, run uvicorn with --proxy-headers."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def user_agent(request: Request) -> str | None:
    """The visitor's User-Agent header, if any."""
    return request.headers.get("user-agent") or None
