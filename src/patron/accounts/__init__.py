"""Accounts: admin users, their sessions, and API keys."""

from patron.accounts.keys import (
    ADMIN,
    SCOPES,
    WRITE,
    ApiKey,
    create_api_key,
    find_api_key,
    list_api_keys,
    revoke_api_key,
    touch_api_key,
    usage_is_stale,
)
from patron.accounts.sessions import (
    Session,
    end_session,
    find_session,
    purge_expired_sessions,
    start_session,
)
from patron.accounts.users import User, authenticate, count_users, create_user, first_user, set_password

__all__ = [
    "ADMIN",
    "SCOPES",
    "WRITE",
    "ApiKey",
    "Session",
    "User",
    "authenticate",
    "count_users",
    "create_api_key",
    "create_user",
    "end_session",
    "find_api_key",
    "find_session",
    "first_user",
    "list_api_keys",
    "purge_expired_sessions",
    "revoke_api_key",
    "set_password",
    "start_session",
    "touch_api_key",
    "usage_is_stale",
]
