"""This installation: schema set-up, first-run accounts and keys, and its secret key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from patron import computed, scoring
from patron.accounts import ADMIN, WRITE, count_users, create_api_key, create_user, first_user
from patron.fields import seed_standard_fields
from patron.jobs import ensure_schedule
from patron.quality.standards import install_defaults
from patron.storage.engine import transaction
from patron.storage.migrate import upgrade
from patron.storage.schema import instance_settings
from patron.storage.secret import ensure_secret_key
from patron.storage.statements import insert_ignoring_conflicts
from patron.worker.handlers import DEFERRED_KINDS, SCHEDULES

DEFAULT_ADMIN_EMAIL = "admin@example.com"
_STANDARDS_INSTALLED = "standard_rules_installed"


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `patron init` did. Secrets are present only on the first run."""

    schema_before: str | None
    schema: str | None
    first_run: bool
    admin_email: str | None
    admin_password: str | None = None
    admin_api_key: str | None = None
    write_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The --json form."""
        return {
            "admin_api_key": self.admin_api_key,
            "write_key": self.write_key,
            "admin_email": self.admin_email,
            "admin_password": self.admin_password,
            "first_run": self.first_run,
            "schema_before": self.schema_before,
            "schema": self.schema,
        }


def initialise(engine: Engine, *, admin_email: str = DEFAULT_ADMIN_EMAIL) -> InitResult:
    """Create or upgrade the schema; on the first run create the admin user and two keys."""
    before, after = upgrade(engine)
    with transaction(engine) as conn:
        seed_standard_fields(conn)
        computed.seed_builtins(conn)
        scoring.seed_stages(conn)
        for name, (kind, interval_s) in SCHEDULES.items():
            # Work that changes data (dedupe merges) first runs one interval after set-up, not
            # the moment a fresh instance starts; reports run at once.
            delay = interval_s if kind in DEFERRED_KINDS else 0
            ensure_schedule(conn, name, kind, interval_s=interval_s, first_run_in_s=delay)
        ensure_secret_key(conn)
        _install_default_standards_once(conn)
        if count_users(conn):
            user = first_user(conn)
            return InitResult(before, after, False, user.email if user else None)
        password = secrets.token_urlsafe(12)
        user = create_user(conn, admin_email, password)
        admin_key, _ = create_api_key(conn, ADMIN, name="created by init")
        write_key, _ = create_api_key(conn, WRITE, name="default")
    return InitResult(before, after, True, user.email, password, admin_key, write_key)


def _install_default_standards_once(conn: Connection) -> None:
    """The default standardisation rules, once per instance: rules people delete stay deleted."""
    claimed = conn.execute(
        insert_ignoring_conflicts(conn, instance_settings, ["key"]).values(
            key=_STANDARDS_INSTALLED, value="1"
        )
    ).rowcount
    if claimed:
        install_defaults(conn)
