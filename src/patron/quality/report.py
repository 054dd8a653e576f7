"""The quality report: how complete, valid, unique and fresh the profiles are, with one score.

Everything is counted in SQL: one scan of `profiles` per half of the fields, the two halves at
once (on SQLite the first in a helper process), the flag and stale counts riding along the
second; duplicates and sources are counted from indexes meanwhile. See bench/quality.py for
the time over 1,000,000 profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select, text

from patron.fields.definitions import STANDARD_FIELDS
from patron.process import process_context
from patron.quality import flags as quality_flags
from patron.quality.activity import is_stale
from patron.storage.engine import make_engine, transaction
from patron.storage.schema import fields, identities, merge_candidates, profiles, sources
from patron.storage.traits import trait_text

# Fields the pipeline checks, and the codes that make a value wrong or risky.
CHECKED_FIELDS = ("email", "phone", "country", "timezone", "locale")
EMAIL_CODES = (quality_flags.INVALID, quality_flags.TYPO, quality_flags.ROLE, quality_flags.DISPOSABLE)
COMPUTED_FIELDS = ("active", "last_activity_at", "phone_type")
# The contact fields whose completeness counts in the score.
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "company", "country")
WEIGHTS = {"validity": 0.35, "completeness": 0.25, "uniqueness": 0.2, "freshness": 0.2}
RISKY_WEIGHT = 0.5  # a role or disposable address counts half as bad as a wrong one
SCAN_CACHE_KIB = 256 * 1024
# Below this many profiles a helper process costs more to start than it saves.
HELPER_MIN_PROFILES = 100_000


def quality_report(engine: Engine, *, helper_min_profiles: int = HELPER_MIN_PROFILES) -> dict[str, Any]:
    """The report as `patron quality --json` prints it (see the README for the score's formula)."""
    with transaction(engine, write=False) as conn:
        names = report_fields(conn)
        large = conn.execute(select(func.count()).select_from(profiles)).scalar_one() >= helper_min_profiles
    first, second = _halves(names)
    with ExitStack() as stack:
        threads = stack.enter_context(ThreadPoolExecutor(max_workers=2))
        if engine.dialect.name == "sqlite" and large:
            # Two SQLite scans in one process contend for its allocator lock (4.7 s together,
            # 2.7 s each alone; bench/quality.py): the first one runs in a helper process.
            helper = stack.enter_context(ProcessPoolExecutor(max_workers=1, mp_context=process_context()))
            url = engine.url.render_as_string(hide_password=False)
            first_scan = helper.submit(_scan_in_helper, url, first)
        else:
            first_scan = threads.submit(lambda: _scan_on(engine, first, False)[0])
        second_scan = threads.submit(_scan_on, engine, second, True)
        counts = threads.submit(_counts_on, engine)
        per_field, totals = second_scan.result()
        per_field.update(first_scan.result())
        totals.update(counts.result())
    return assemble(totals, per_field, names)


def _halves(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Two lists of fields that cost about the same to count: email and phone in different ones."""
    rest = [name for name in names if name not in ("email", "phone")]
    first = [name for name in ("phone",) if name in names] + rest[0::2]
    second = [name for name in ("email",) if name in names] + rest[1::2]
    return first, second


def report_fields(conn: Connection) -> list[str]:
    """Standard fields, then the custom ones in the data dictionary, computed ones left out."""
    custom = conn.execute(
        select(fields.c.name).where(fields.c.is_standard.is_(False)).order_by(fields.c.name)
    ).scalars()
    names = [name for name in STANDARD_FIELDS if name not in COMPUTED_FIELDS]
    return names + [name for name in custom if name not in names]


def _scan_on(engine: Engine, names: Sequence[str], with_flags: bool) -> tuple[dict, dict[str, Any]]:
    with transaction(engine, write=False) as conn:
        if conn.dialect.name != "sqlite":
            return scan_profiles(conn, names, with_flags=with_flags)
        # Distinct counts build a b-tree per field: in memory, with room, not in temp files.
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SCAN_CACHE_KIB}")
        try:
            return scan_profiles(conn, names, with_flags=with_flags)
        finally:
            conn.exec_driver_sql("PRAGMA cache_size=-2000")  # SQLite's default, for the pool's next user


def _scan_in_helper(url: str, names: Sequence[str]) -> dict[str, dict[str, int]]:
    engine = make_engine(url)
    try:
        return _scan_on(engine, names, False)[0]
    finally:
        engine.dispose()


def _counts_on(engine: Engine) -> dict[str, Any]:
    with transaction(engine, write=False) as conn:
        return {
            "duplicates": {"exact": exact_duplicates(conn), "fuzzy": _open_candidates(conn)},
            "sources": source_counts(conn),
        }


def scan_profiles(
    conn: Connection, names: Sequence[str], *, with_flags: bool = True
) -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    """One scan of the profiles: {field: {"present", "distinct"}}, and with_flags the profile
    count, flags per field and code, flagged profiles and stale contacts."""
    dialect = conn.dialect.name
    picked = [trait_text(dialect, name).label(f"f{i}") for i, name in enumerate(names)]
    wanted = [(name, code) for name in CHECKED_FIELDS for code in _codes_of(name)] if with_flags else []
    if with_flags:
        picked += [profiles.c.quality.label("q"), case((is_stale(), 1)).label("stale")]
    if not picked:
        return {}, {}
    # Materialised once: each trait is extracted from the JSON once per profile, not once per
    # aggregate (a third less time on SQLite, measured with bench/quality.py).
    scan = select(*picked).cte("v").prefix_with("MATERIALIZED")
    counted = []
    for i in range(len(names)):
        counted += [func.count(scan.c[f"f{i}"]), func.count(scan.c[f"f{i}"].distinct())]
    if with_flags:
        counted += [func.count(), func.count(case((scan.c.q != "", 1))), func.count(scan.c.stale)]
        counted += [func.count(case((scan.c.q.like(quality_flags.token(n, c)), 1))) for n, c in wanted]
    row = conn.execute(select(*counted).select_from(scan)).one()
    stats = {name: {"present": row[2 * i], "distinct": row[2 * i + 1]} for i, name in enumerate(names)}
    if not with_flags:
        return stats, {}
    at = 2 * len(names)
    totals = {
        "profiles": row[at],
        "flagged_profiles": row[at + 1],
        "stale": row[at + 2],
        "flags": {pair: row[at + 3 + i] for i, pair in enumerate(wanted)},
    }
    return stats, totals


def _codes_of(name: str) -> tuple[str, ...]:
    if name == "email":
        return (*EMAIL_CODES, quality_flags.UNDELIVERABLE)
    return (quality_flags.INVALID,)


def stale_count(conn: Connection) -> int:
    """Profiles whose computed `active` trait is false."""
    return conn.execute(select(func.count()).select_from(profiles).where(is_stale())).scalar_one()


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
    # Both read the (source, profile_id) index in order. PostgreSQL sorts for count(DISTINCT)
    # (1.6 s on disk over 1.9M identities) but not for DISTINCT pairs (0.2 s); SQLite the reverse.
    if conn.dialect.name == "postgresql":
        pairs = (
            select(identities.c.source, identities.c.profile_id)
            .where(identities.c.source.is_not(None))
            .distinct()
            .subquery()
        )
        query = select(pairs.c.source, func.count()).group_by(pairs.c.source)
    else:
        query = (
            select(identities.c.source, func.count(identities.c.profile_id.distinct()))
            .where(identities.c.source.is_not(None))
            .group_by(identities.c.source)
        )
    totals = conn.execute(query).all()
    # From the few flagged profiles to their identities (CROSS JOIN fixes that order on SQLite).
    join = "CROSS JOIN" if conn.dialect.name == "sqlite" else "JOIN"
    flagged = dict(
        conn.execute(
            text(
                f"SELECT i.source, count(DISTINCT i.profile_id) FROM profiles p {join} identities i "
                "ON i.profile_id = p.id WHERE p.quality != '' AND i.source IS NOT NULL GROUP BY i.source"
            )
        ).all()
    )
    policies = dict(conn.execute(select(sources.c.name, sources.c.quality_policy)).all())
    out: dict[str, dict[str, Any]] = {}
    for source, count in totals:
        with_flags = flagged.get(source, 0)
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
    """The report from raw counts: shares, the score and its parts (no database)."""
    count = totals["profiles"]
    flags = totals["flags"]
    report_fields: dict[str, dict[str, Any]] = {}
    checked = wrong = 0
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
