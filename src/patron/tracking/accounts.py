"""Accounts: the companies (Segment groups) people belong to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from patron.errors import NotFound
from patron.storage.ids import new_id
from patron.storage.schema import account_members, accounts
from patron.storage.statements import insert_ignoring_conflicts


def link_accounts(conn: Connection, calls: Sequence[tuple[dict[str, Any], str]], at: datetime) -> None:
    """Apply group calls in order: create or update each account, add the profile as a member."""
    for message, profile_id in calls:
        group_id, traits = message["groupId"], message.get("traits") or {}
        row = conn.execute(
            select(accounts.c.id, accounts.c.traits).where(accounts.c.group_id == group_id)
        ).first()
        if row is None:
            account_id = new_id()
            conn.execute(
                insert(accounts).values(
                    id=account_id, group_id=group_id, traits=traits, created_at=at, updated_at=at
                )
            )
        else:
            account_id = row.id
            if traits and {**row.traits, **traits} != row.traits:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.id == account_id)
                    .values(traits={**row.traits, **traits}, updated_at=at)
                )
        conn.execute(
            insert_ignoring_conflicts(conn, account_members, ["account_id", "profile_id"]).values(
                account_id=account_id, profile_id=profile_id, created_at=at
            )
        )


def accounts_of(conn: Connection, profile_id: str) -> list[dict[str, Any]]:
    """The accounts a profile belongs to."""
    query = (
        select(accounts)
        .join(account_members, account_members.c.account_id == accounts.c.id)
        .where(account_members.c.profile_id == profile_id)
        .order_by(accounts.c.group_id)
    )
    return [_public(row) for row in conn.execute(query)]


def get_account(conn: Connection, group_id: str) -> dict[str, Any]:
    """One account with its members' profile ids."""
    row = conn.execute(select(accounts).where(accounts.c.group_id == group_id)).first()
    if row is None:
        raise NotFound(f"no account with group id {group_id!r}", field="group_id")
    members = (
        conn.execute(
            select(account_members.c.profile_id)
            .where(account_members.c.account_id == row.id)
            .order_by(account_members.c.created_at)
        )
        .scalars()
        .all()
    )
    return {**_public(row), "members": list(members)}


def count_accounts(conn: Connection) -> int:
    """How many accounts exist."""
    return conn.execute(select(func.count()).select_from(accounts)).scalar_one()


def _public(row: Any) -> dict[str, Any]:
    return {"id": row.id, "group_id": row.group_id, "traits": row.traits,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}  # fmt: skip
