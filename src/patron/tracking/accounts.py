"""Accounts: the companies (Segment groups) people belong to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from patron.errors import NotFound
from patron.storage.ids import new_id
from patron.storage.schema import account_members, accounts
from patron.storage.statements import insert_ignoring_conflicts


def link_accounts(conn: Connection, calls: Sequence[tuple[dict[str, Any], str]], at: datetime) -> None:
    """Apply a chunk's group calls in order: accounts created or updated, profiles made members.

    A handful of statements per chunk, however many calls: existing accounts are read at once,
    then new ones inserted, changed ones updated and memberships added in bulk.
    """
    if not calls:
        return
    group_ids = sorted({message["groupId"] for message, _ in calls})
    found = conn.execute(
        select(accounts.c.group_id, accounts.c.id, accounts.c.traits).where(
            accounts.c.group_id.in_(group_ids)
        )
    ).all()
    known = {group_id: (account_id, dict(traits)) for group_id, account_id, traits in found}
    before = {group_id: dict(traits) for group_id, (_, traits) in known.items()}
    created: dict[str, tuple[str, dict[str, Any]]] = {}
    members: set[tuple[str, str]] = set()
    for message, profile_id in calls:  # later calls' traits win, as they arrived later
        group_id = message["groupId"]
        entry = known.get(group_id) or created.get(group_id)
        if entry is None:
            entry = created[group_id] = (new_id(), {})
        entry[1].update(message.get("traits") or {})
        members.add((entry[0], profile_id))
    if created:
        conn.execute(
            insert(accounts),
            [
                {"id": account_id, "group_id": group_id, "traits": traits, "created_at": at, "updated_at": at}
                for group_id, (account_id, traits) in created.items()
            ],
        )
    changed = [
        (account_id, traits) for group_id, (account_id, traits) in known.items() if traits != before[group_id]
    ]
    if changed:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == bindparam("account_id"))
            .values(traits=bindparam("traits"), updated_at=bindparam("updated_at")),
            [
                {"account_id": account_id, "traits": traits, "updated_at": at}
                for account_id, traits in changed
            ],
        )
    conn.execute(
        insert_ignoring_conflicts(conn, account_members, ["account_id", "profile_id"]),
        [
            {"account_id": account_id, "profile_id": profile_id, "created_at": at}
            for account_id, profile_id in members
        ],
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
    return {
        "id": row.id,
        "group_id": row.group_id,
        "traits": row.traits,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
