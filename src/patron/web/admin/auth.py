"""Admin login: argon2-checked passwords, a session cookie, CSRF tokens on every form."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from patron.accounts import Session, authenticate, end_session, find_session, start_session
from patron.errors import Unauthorized
from patron.storage.engine import transaction
from patron.web.admin.render import page

SESSION_COOKIE = "patron_session"
LOGIN_CSRF_COOKIE = "patron_login_csrf"
router = APIRouter()


class LoginRequired(Exception):
    """The page needs a logged-in admin; the handler redirects to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfFailed(Exception):
    """A form arrived without the token of the session that rendered it."""


def current_session(request: Request) -> Session:
    """The logged-in admin's session, or LoginRequired."""
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token:
        with transaction(request.app.state.engine, write=False) as conn:
            session = find_session(conn, token)
    if session is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    request.state.admin_session = session
    return session


AdminSession = Annotated[Session, Depends(current_session)]


def check_csrf(session: Session, token: str) -> None:
    """Refuse a form whose CSRF token is not this session's."""
    if not hmac.compare_digest(session.csrf_token.encode(), token.encode()):
        raise CsrfFailed()


def csrf_protected(session: AdminSession, csrf_token: Annotated[str, Form()] = "") -> Session:
    """Dependency for every admin POST: a logged-in session and its CSRF token in the form."""
    check_csrf(session, csrf_token)
    return session


CsrfSession = Annotated[Session, Depends(csrf_protected)]


def _safe_next(next_path: str | None) -> str:
    # Only local admin paths: never redirect to another site after login.
    if next_path and next_path.startswith("/admin") and not next_path.startswith("//"):
        return next_path
    return "/admin/"


def _cookie_flags(request: Request) -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": request.app.state.settings.secure_cookies,
        "path": "/admin",
    }


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, error: str | None = None) -> Response:
    """The login page, with a pre-session CSRF token (double-submit cookie)."""
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_csrf": token, "next": _safe_next(next), "error": error})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **_cookie_flags(request))
    return response


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/admin/",
) -> Response:
    """Check the password, start a session, go where the user was heading."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return RedirectResponse(f"/admin/login?error=expired&next={quote(_safe_next(next))}", status_code=303)
    settings = request.app.state.settings
    try:
        with transaction(request.app.state.engine) as conn:
            user = authenticate(conn, email, password)
            token, _ = start_session(conn, user.id, ttl=timedelta(hours=settings.session_ttl_hours))
    except Unauthorized:
        return RedirectResponse(
            f"/admin/login?error=credentials&next={quote(_safe_next(next))}", status_code=303
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.session_ttl_hours * 3600, **_cookie_flags(request)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return response


@router.post("/logout")
def logout(request: Request, session: CsrfSession) -> Response:
    """End the session everywhere it is used."""
    token = request.cookies.get(SESSION_COOKIE, "")
    with transaction(request.app.state.engine) as conn:
        end_session(conn, token)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response
