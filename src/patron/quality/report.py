"""The quality report: how complete, valid, unique and fresh the profiles are, with one score.

Everything is counted in SQL: one scan of `profiles` per half of the fields, the two halves on
two connections at once (each database works on its own core), plus index-only counts for
flags, duplicates and stale contacts. See bench/quality.py for the time over 1,000,000 profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select

from patron.fields.definitions import STANDARD_FIELDS
from patron.quality import flags as quality_flags
from patron.storage.engine import transaction
from patron.storage.schema import fields, identities, merge_candidates, profiles, sources
from patron.storage.traits import json_path

# Fields the pipeline checks, and the codes that make a value wrong or risky.
CHECKED_FIELDS = ("email", "phone", "country", "timezone", "locale")
EMAIL_CODES = (quality_flags.INVALID, quality_flags.TYPO, quality_flags.ROLE, quality_flags.DISPOSABLE)
COMPUTED_FIELDS = ("active", "last_activity_at", "phone_type")
# The contact fields whose completeness counts in the score.
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "company", "country")
WEIGHTS = {"validity": 0.35, "completeness": 0.25, "uniqueness": 0.2, "freshness": 0.2}
RISKY_WEIGHT = 0.5  # a role or disposable address counts half as bad as a wrong one


def quality_report(engine: Engine) -> dict[str, Any]:
    """The report as `patron quality --json` prints it (see the README for the score's formula)."""
    with transaction(engine, write=False) as conn:
        names = report_fields(conn)
    halves = [names[0::2], names[1::2]]
    with ThreadPoolExecutor(max_workers=3) as pool:
        stats = [pool.submit(_field_stats_on, engine, half) for half in halves if half]
        counts = pool.submit(_counts_on, engine)
        per_field: dict[str, dict[str, int]] = {}
        for future in stats:
            per_field.update(future.result())
        totals = counts.result()
    return assemble(totals, per_field, names)


def report_fields(conn: Connection) -> list[str]:
    """Standard fields, then the custom ones in the data dictionary, computed ones left out."""
    custom = conn.execute(
        select(fields.c.name).where(fields.c.is_standard.is_(False)).order_by(fields.c.name)
    ).scalars()
    names = [name for name in STANDARD_FIELDS if name not in COMPUTED_FIELDS]
    return names + [name for name in custom if name not in names]


def _field_stats_on(engine: Engine, names: Sequence[str]) -> dict[str, dict[str, int]]:
    with transaction(engine, write=False) as conn:
        return field_stats(conn, names)


def _counts_on(engine: Engine) -> dict[str, Any]:
    with transaction(engine, write=False) as conn:
        return flag_counts(conn)


def field_stats(conn: Connection, names: Sequence[str]) -> dict[str, dict[str, int]]:
    """{field: {"present", "distinct"}} in one scan of the profiles."""
    if not names:
        return {}
    columns = []
    for name in names:
        value = _trait_text(conn, name)
        columns += [func.count(value), func.count(value.distinct())]
    row = conn.execute(select(*columns).select_from(profiles)).one()
    return {name: {"present": row[2 * i], "distinct": row[2 * i + 1]} for i, name in enumerate(names)}


def _trait_text(conn: Connection, name: str) -> Any:
    if conn.dialect.name == "postgresql":
        return profiles.c.traits.op("->>")(name)
    return func.json_extract(profiles.c.traits, json_path(name))


def flag_counts(conn: Connection) -> dict[str, Any]:
    """Profiles, flags per field and code, stale contacts, duplicates and sources."""
    wanted = [(name, code) for name in CHECKED_FIELDS for code in _codes_of(name)]
    has_flags = profiles.c.quality != ""
    columns = [func.count(), func.count(case((has_flags, 1)))]
    columns += [func.count(case((profiles.c.quality.like(quality_flags.token(n, c)), 1))) for n, c in wanted]
    row = conn.execute(select(*columns).select_from(profiles)).one()
    flagged = {pair: row[2 + i] for i, pair in enumerate(wanted)}
    return {
        "profiles": row[0],
        "flagged_profiles": row[1],
        "flags": flagged,
        "stale": stale_count(conn),
        "duplicates": {"exact": exact_duplicates(conn), "fuzzy": _open_candidates(conn)},
        "sources": source_counts(conn),
    }


def _codes_of(name: str) -> tuple[str, ...]:
    if name == "email":
        return (*EMAIL_CODES, quality_flags.UNDELIVERABLE)
    return (quality_flags.INVALID,)


def stale_count(conn: Connection) -> int:
    """Profiles whose computed `active` trait is false."""
    active = _trait_text(conn, "active")
    # SQLite's json_extract gives 0 for false, PostgreSQL's ->> the text 'false'.
    false = "false" if conn.dialect.name == "postgresql" else 0
    return conn.execute(select(func.count()).select_from(profiles).where(active == false)).scalar_one()


def exact_duplicates(conn: Connection) -> int:
    """Profiles that would go if those sharing a folded email were merged (group size - 1 each)."""
    groups = (
        select((func.count() - 1).label("extra"))
        .where(profiles.c.email_key.is_not(None))
        .group_by(profiles.c.email_key)
        .having(func.count() > 1)
        .subquery()
    )
    return int(conn.execute(select(func.coalesce(func.sum(groups.c.extra), 0))).scalar_one())


def _open_candidates(conn: Connection) -> int:
    query = select(func.count()).select_from(merge_candidates).where(merge_candidates.c.status == "open")
    return conn.execute(query).scalar_one()


def source_counts(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per source: profiles it identified, of which carry a quality flag, and its policy."""
    flagged = case((profiles.c.quality != "", identities.c.profile_id))
    query = (
        select(
            identities.c.source,
            func.count(identities.c.profile_id.distinct()),
            func.count(flagged.distinct()),
        )
        .join(profiles, profiles.c.id == identities.c.profile_id)
        .where(identities.c.source.is_not(None))
        .group_by(identities.c.source)
    )
    policies = dict(conn.execute(select(sources.c.name, sources.c.quality_policy)).all())
    out: dict[str, dict[str, Any]] = {}
    for source, count, with_flags in conn.execute(query).all():
        out[source] = {
            "profiles": count,
            "flagged": with_flags,
            "flagged_share": _share(with_flags, count),
            "policy": policies.get(source, "flag"),
        }
    return dict(sorted(out.items()))


def assemble(
    totals: dict[str, Any], per_field: dict[str, dict[str, int]], names: Sequence[str]
) -> dict[str, Any]:
    """The report from raw counts (pure: the unit tests check the formula with it)."""
    count = totals["profiles"]
    flags = totals["flags"]
    report_fields: dict[str, dict[str, Any]] = {}
    checked = wrong = risky = 0
    for name in names:
        stats = per_field.get(name, {"present": 0, "distinct": 0})
        present = stats["present"]
        bad = _wrong_values(name, flags)
        report_fields[name] = {
            "completeness": _share(present, count),
            "validity": round(1 - bad / present, 4) if present else 1.0,
            "distinct": stats["distinct"],
            "present": present,
        }
        if name in CHECKED_FIELDS:
            checked += present
            wrong += bad
    emails = {code: flags.get(("email", code), 0) for code in EMAIL_CODES}
    emails["undeliverable"] = flags.get(("email", quality_flags.UNDELIVERABLE), 0)
    risky = emails[quality_flags.ROLE] + emails[quality_flags.DISPOSABLE]
    duplicates = totals["duplicates"]
    parts = {
        "validity": 1 - (wrong + RISKY_WEIGHT * risky) / checked if checked else 1.0,
        "completeness": (
            sum(report_fields[n]["completeness"] for n in CONTACT_FIELDS if n in report_fields)
            / len(CONTACT_FIELDS)
        ),
        "uniqueness": 1 - (duplicates["exact"] + duplicates["fuzzy"]) / count if count else 1.0,
        "freshness": 1 - totals["stale"] / count if count else 1.0,
    }
    parts = {name: max(0.0, min(1.0, value)) for name, value in parts.items()}
    score = round(100 * sum(WEIGHTS[name] * value for name, value in parts.items()), 1) if count else 0.0
    return {
        "profiles": count,
        "score": score,
        "score_parts": {name: round(value, 4) for name, value in parts.items()},
        "fields": report_fields,
        "emails": emails,
        "phones": {"invalid": flags.get(("phone", quality_flags.INVALID), 0)},
        "countries": {"invalid": flags.get(("country", quality_flags.INVALID), 0)},
        "flagged_profiles": totals["flagged_profiles"],
        "stale": totals["stale"],
        "duplicates": duplicates,
        "sources": totals["sources"],
    }


def _wrong_values(name: str, flags: dict[tuple[str, str], int]) -> int:
    return sum(flags.get((name, code), 0) for code in quality_flags.WRONG_CODES)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
