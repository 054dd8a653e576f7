"""The only place that knows HTTP status codes: domain errors -> {"error": {...}} responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from patron.errors import (
    ConcurrentWrite,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PatronError,
    TooLarge,
    Unauthorized,
)

log = logging.getLogger("patron.web")

STATUS: dict[type[PatronError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthorized: 401,
    TooLarge: 413,
    ConcurrentWrite: 409,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape every API answers with."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None, **kwargs: Any) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_body(code, message, details), status_code=status, **kwargs)


def status_of(error: PatronError) -> int:
    """The HTTP status for a domain error (its nearest known ancestor's)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _details(error: PatronError) -> Any:
    if error.field is None:
        return error.details
    if isinstance(error.details, dict):
        return {"field": error.field, **error.details}
    if error.details is None:
        return {"field": error.field}
    return {"field": error.field, "items": error.details}


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(PatronError)
    async def _domain(request: Request, exc: PatronError) -> JSONResponse:
        status = status_of(exc)
        tracking = request.url.path.startswith("/v1/")
        if tracking and status in (413, 422):
            status = 400  # the Segment tracking API answers 400 to a bad or oversized request
        headers = None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": 'Basic realm="write key"' if tracking else "Bearer"}
        return error_response(status, exc.code, exc.message, _details(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        for error in errors:
            if error.get("type") == "json_invalid":
                return _invalid_json(error, exc.body)
        items = [{"field": _location(e["loc"]), "message": e["msg"]} for e in errors]
        first = items[0] if items else {"field": "", "message": "invalid request"}
        return error_response(422, "invalid", f"{first['field']}: {first['message']}", items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        from patron.web.limits import BodyTooLarge

        if isinstance(exc.__cause__, BodyTooLarge):  # FastAPI wraps body read errors in a 400
            limit = exc.__cause__.limit
            return error_response(
                413,
                "too_large",
                f"the request body is larger than the limit of {limit:,} bytes",
                {"limit_bytes": limit},
            )
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        code = _HTTP_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; the server log has the details")


def _invalid_json(error: dict[str, Any], document: Any) -> JSONResponse:
    """400 naming what the decoder expected and where: line, column and character position."""
    what = error.get("ctx", {}).get("error", "")
    message = f"the body is not valid JSON: {what}".rstrip(": ")
    # FastAPI puts the decoder's character offset in loc ("body", pos) and the text in exc.body.
    position = next((p for p in error.get("loc", ())[1:] if isinstance(p, int)), None)
    if position is None:
        return error_response(400, "invalid_json", message)
    where: dict[str, int] = {"position": position}
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    if isinstance(document, str):
        where["line"] = document.count("\n", 0, position) + 1
        where["column"] = position - document.rfind("\n", 0, position)
        message += f" at line {where['line']}, column {where['column']} (character {position})"
    else:
        message += f" at character {position}"
    return error_response(400, "invalid_json", message, where)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")] or [str(p) for p in loc]
    return ".".join(parts)
