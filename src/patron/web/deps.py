"""Request-scoped dependencies: one transaction per request, API key checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from patron.accounts import ADMIN, ApiKey, find_api_key, touch_api_key, usage_is_stale
from patron.config import Settings
from patron.errors import Forbidden, Unauthorized
from patron.identity import IdentityRules
from patron.storage.engine import transaction


def get_engine(request: Request) -> Engine:
    """The application's engine."""
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    """The application's settings."""
    return request.app.state.settings


def get_rules(request: Request) -> IdentityRules:
    """The identity rules this instance is configured with."""
    return request.app.state.rules


def read_transaction(request: Request) -> Iterator[Connection]:
    """A read-only transaction for the request."""
    with transaction(request.app.state.engine, write=False) as conn:
        yield conn


def write_transaction(request: Request) -> Iterator[Connection]:
    """A write transaction for the request, committed before the response is sent."""
    with transaction(request.app.state.engine) as conn:
        yield conn


# scope="function": the transaction ends (commits) before the response goes out, so a client
# never sees success for a write that then failed to commit.
ReadDB = Annotated[Connection, Depends(read_transaction, scope="function")]
WriteDB = Annotated[Connection, Depends(write_transaction, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RulesDep = Annotated[IdentityRules, Depends(get_rules)]


def bearer_token(request: Request) -> str:
    """The token from `Authorization: Bearer ...`; Unauthorized when absent."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an admin API key as 'Authorization: Bearer <key>'")
    return token.strip()


def admin_key(request: Request) -> ApiKey:
    """The caller's key, which must have the admin scope."""
    token = bearer_token(request)
    engine = request.app.state.engine
    with transaction(engine, write=False) as conn:
        key = find_api_key(conn, token)
    if key.scope != ADMIN:
        raise Forbidden(
            f"this is a {key.scope} key: it can only send data to the tracking API (/v1); "
            "use an admin key for /api/v1"
        )
    if usage_is_stale(key):
        with transaction(engine) as conn:
            touch_api_key(conn, key.id)
    return key


AdminKey = Annotated[ApiKey, Depends(admin_key)]


def require_admin_key(key: AdminKey) -> None:
    """Router-level guard for /api/v1."""
