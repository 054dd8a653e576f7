"""Erasure (GDPR art. 17): remove a person's personal data, events and messages from every table,
keeping only the hashes that stop their addresses being contacted again and a record that the
erasure happened, which holds nothing that identifies them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Column, Connection, Table, delete, insert, or_, select, update

from patron import segments
from patron.consent.suppression import address_hash, suppress_hashes, suppressed_hashes
from patron.errors import Invalid
from patron.fields.types import format_datetime
from patron.gdpr.stored_files import rewrite_files
from patron.gdpr.subject import merged_ids, traces_of
from patron.gdpr.traces import Traces
from patron.profiles import get_profile
from patron.storage.schema import (
    erasures,
    event_intake,
    events,
    job_runs,
    jobs,
    match_decisions,
    metadata,
    plan_violations,
    profile_merges,
    profiles,
    quality_snapshots,
    rejected_events,
)
from patron.storage.types import utcnow

CHUNK = 1000
_METHOD = re.compile(r"^[a-z_]{1,32}$")


def erase_profile(conn: Connection, profile_id: str, *, actor: str, method: str) -> dict[str, Any]:
    """Erase the person; NotFound for an unknown id. Returns the erasure record {"erasure_id",
    "erased", "actor", "method", "removed", "suppressed", "other_profiles", "created_at"}:
    removed counts rows deleted per table, and under "files.records", "jobs.values"... records
    cut from stored files and rows whose values were blanked; suppressed counts addresses newly
    suppressed; other_profiles lists profiles that still hold one of the person's addresses as
    a trait (a duplicate, or a shared family address) for an operator to judge."""
    if not _METHOD.match(method):
        raise Invalid("method must be a short lower-case word such as api, cli or admin", field="method")
    if not actor.strip() or len(actor) > 128:
        raise Invalid("actor must name who erased (1 to 128 characters)", field="actor")
    get_profile(conn, profile_id)
    absorbed = merged_ids(conn, profile_id)
    traces = traces_of(conn, profile_id, absorbed)
    suppressed = suppress_addresses(conn, traces, actor=actor)
    removed: Counter[str] = Counter()
    removed["events"] += _delete_events_of(conn, traces)
    removed["event_intake"] += _delete_messages(conn, event_intake, event_intake.c.message, traces)
    removed["rejected_events"] += _delete_messages(conn, rejected_events, rejected_events.c.payload, traces)
    removed["plan_violations"] += _delete_violations(conn, traces)
    # Snapshots and "before" values of merges hold the person's traits and identities.
    removed["profile_merges"] += _delete_where(
        conn,
        profile_merges,
        or_(profile_merges.c.kept_id.in_(absorbed), profile_merges.c.absorbed_id.in_(absorbed)),
    )
    removed["match_decisions"] += _delete_where(
        conn,
        match_decisions,
        or_(match_decisions.c.profile_a.in_(absorbed), match_decisions.c.profile_b.in_(absorbed)),
    )
    removed.update(_delete_owned_rows(conn, profile_id))
    removed["files.records"] += rewrite_files(conn, traces)
    # Job payloads, results and errors are not about the person but may quote them; quality
    # snapshots are counts per field and source, redacted all the same should one carry a value.
    job_text = ("last_error", "progress_note")
    removed["jobs.values"] += _redact(conn, jobs, traces, ("payload", "result"), job_text)
    removed["job_runs.values"] += _redact(conn, job_runs, traces, (), ("error",))
    removed["quality_snapshots.values"] += _redact(conn, quality_snapshots, traces, ("report",), ())
    record = {name: count for name, count in sorted(removed.items()) if count}
    now = utcnow()
    erasure_id = conn.execute(
        insert(erasures)
        .values(profile_id=profile_id, actor=actor, method=method, removed=record, created_at=now)
        .returning(erasures.c.id)
    ).scalar_one()
    return {
        "erasure_id": erasure_id,
        "erased": profile_id,
        "actor": actor,
        "method": method,
        "removed": record,
        "suppressed": suppressed,
        "other_profiles": _profiles_holding(conn, traces),
        "created_at": format_datetime(now),
    }


def suppress_addresses(conn: Connection, traces: Traces, *, actor: str) -> int:
    """Put the person's emails (email channel) and phones (sms) on the suppression list as hashes;
    returns how many were new there (an address already on it keeps its first reason)."""
    added = 0
    for channel, addresses in (("email", traces.emails), ("sms", traces.phones)):
        hashes = {address_hash(channel, address) for address in addresses}
        # Counted by a read: an executemany's rowcount is -1 on PostgreSQL.
        added += len(hashes - set(suppressed_hashes(conn, channel, hashes)))
        suppress_hashes(conn, channel, sorted(hashes), "erasure", actor=actor)
    return added


def _profiles_holding(conn: Connection, traces: Traces) -> list[str]:
    """Other profiles whose traits hold one of the person's email addresses or phone numbers."""
    query = select(profiles.c.id, profiles.c.search).where(traces.sql_prefilter(profiles.c.search))
    return sorted(profile_id for profile_id, search in conn.execute(query) if traces.in_text(search))


def _delete_events_of(conn: Connection, traces: Traces) -> int:
    """Events (of anyone, or of no profile yet) sent under the person's ids or naming their email
    or phone; their own profile's events go with the profile."""
    count = 0
    if traces.ids:
        wanted = sorted(traces.ids)
        count += _delete_where(
            conn,
            events,
            or_(
                events.c.user_id.in_(wanted),
                events.c.anonymous_id.in_(wanted),
                events.c.previous_id.in_(wanted),
            ),
        )
    query = select(events.c.id, events.c.properties, events.c.context).where(
        traces.sql_prefilter(events.c.properties, events.c.context)
    )
    mention = [
        row.id for row in conn.execute(query) if traces.in_json(row.properties) or traces.in_json(row.context)
    ]
    return count + _delete_ids(conn, events, events.c.id, mention)


def _delete_messages(conn: Connection, table: Table, column: Column[Any], traces: Traces) -> int:
    """Raw messages (accepted, waiting, or rejected) that carry one of the person's identifiers."""
    query = select(table.c.id, column).where(traces.sql_prefilter(column, with_ids=True))
    found = [row_id for row_id, message in conn.execute(query) if traces.in_message(_text(message))]
    return _delete_ids(conn, table, table.c.id, found)


def _delete_violations(conn: Connection, traces: Traces) -> int:
    """Tracking-plan violations whose latest example or message came from the person."""
    columns = (plan_violations.c.message, plan_violations.c.example)
    query = select(plan_violations.c.id, *columns).where(traces.sql_prefilter(*columns, with_ids=True))
    found = [
        row.id
        for row in conn.execute(query)
        if traces.in_message(row.message) or traces.in_message(_text(row.example))
    ]
    return _delete_ids(conn, plan_violations, plan_violations.c.id, found)


def _delete_owned_rows(conn: Connection, profile_id: str) -> dict[str, int]:
    """The profile and every row that points at it by foreign key, counted per table. Found from
    the schema, so a table added later (messages, segment memberships, scores) is erased too."""
    removed: dict[str, int] = {}
    segments.forget(conn, [profile_id])
    for table in reversed(metadata.sorted_tables):
        columns = [
            column
            for column in table.columns
            if any(fk.column is profiles.c.id for fk in column.foreign_keys)
        ]
        if columns:
            removed[str(table.name)] = _delete_where(conn, table, or_(*(c == profile_id for c in columns)))
    removed["profiles"] = _delete_where(conn, profiles, profiles.c.id == profile_id)
    return removed


def _redact(
    conn: Connection, table: Table, traces: Traces, json_names: Sequence[str], text_names: Sequence[str]
) -> int:
    """Blank out the person's emails and phones inside rows of a table that is not about them;
    returns how many rows changed."""
    (key,) = table.primary_key.columns
    names = [*json_names, *text_names]
    query = select(key, *(table.c[name] for name in names)).where(
        traces.sql_prefilter(*(table.c[name] for name in names))
    )
    changes: list[tuple[Any, dict[str, Any]]] = []
    for row in conn.execute(query).mappings():
        values = {
            name: traces.redact_json(row[name])
            for name in json_names
            if row[name] is not None and traces.in_json(row[name])
        }
        values |= {
            name: traces.redact_text(row[name])
            for name in text_names
            if row[name] is not None and traces.in_text(row[name])
        }
        if values:
            changes.append((row[key.name], values))
    for row_id, values in changes:
        conn.execute(update(table).where(key == row_id).values(values))
    return len(changes)


def _delete_where(conn: Connection, table: Table, condition: Any) -> int:
    return conn.execute(delete(table).where(condition)).rowcount


def _delete_ids(conn: Connection, table: Table, column: Column[Any], ids: Sequence[Any]) -> int:
    count = 0
    for start in range(0, len(ids), CHUNK):
        count += _delete_where(conn, table, column.in_(list(ids[start : start + CHUNK])))
    return count


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
