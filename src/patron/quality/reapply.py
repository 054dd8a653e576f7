"""Re-applying standardisation rules to stored profiles: a preview of what would change, then the change.

Rules apply at entry from the moment they exist; profiles stored before keep their old names
and values until this runs. The preview counts every change by rule and shows examples, so a
person sees exactly what "apply" will do before it does it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, or_, select

from patron.profiles.provenance import decode as decode_provenance
from patron.profiles.provenance import encode as encode_provenance
from patron.profiles.record import search_text
from patron.quality.standards import Standards, load_standards
from patron.storage.bulk import driver_datetime, driver_json, update_many
from patron.storage.schema import profiles
from patron.storage.traits import has_trait
from patron.storage.types import utcnow

CHUNK = 2000
EXAMPLES = 20
SOURCE = "standardisation"


def reapply_standards(conn: Connection, *, apply: bool) -> dict[str, Any]:
    """Preview (or apply) the stored rules on stored profiles.

    {"profiles": changed, "changes": {rule: n}, "examples": [...], "applied": bool}
    """
    standards = load_standards(conn)
    names = set(standards.aliases) | set(standards.values)
    result: dict[str, Any] = {"profiles": 0, "changes": Counter(), "examples": [], "applied": apply}
    if not names:
        return {**result, "changes": {}}
    holding = or_(*(has_trait(conn.dialect.name, name) for name in sorted(names)))
    stamp = utcnow().isoformat().replace("+00:00", "Z")
    at = driver_datetime(conn, utcnow())
    after = ""
    while True:
        rows = conn.execute(
            select(profiles.c.id, profiles.c.traits, profiles.c.provenance)
            .where(holding, profiles.c.id > after)
            .order_by(profiles.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        after = rows[-1].id
        updates = []
        for profile_id, traits, stored in rows:
            changed = _standardised(profile_id, dict(traits), standards, result)
            if changed is None:
                continue
            result["profiles"] += 1
            if apply:
                provenance = decode_provenance(stored, traits)
                for name, value in changed.items():
                    if traits.get(name) != value:
                        provenance[name] = {"source": SOURCE, "at": stamp}
                provenance = {name: origin for name, origin in provenance.items() if name in changed}
                updates.append(
                    (profile_id, driver_json(changed), driver_json(encode_provenance(provenance)),
                     search_text(changed), at)
                )  # fmt: skip
        if updates:
            update_many(conn, profiles, "id", ("traits", "provenance", "search", "updated_at"), updates)
    result["changes"] = dict(result["changes"].most_common())
    return result


def _standardised(
    profile_id: str, traits: dict[str, Any], standards: Standards, result: dict[str, Any]
) -> dict[str, Any] | None:
    """The profile's traits after the rules, or None when they change nothing."""
    before = dict(traits)
    for alias, name in standards.rename(traits):
        _note(result, profile_id, f"field {alias} -> {name}", alias, name, before.get(alias))
    for name in standards.values:
        value = traits.get(name)
        mapped = standards.map_value(name, value)
        if mapped != value:
            traits[name] = mapped
            _note(result, profile_id, f"{name}: {value!r} -> {mapped!r}", name, name, value, mapped)
    return traits if traits != before else None


def _note(
    result: dict[str, Any], profile_id: str, rule: str, field: str, target: str, value: Any, to: Any = None
) -> None:
    result["changes"][rule] += 1
    if len(result["examples"]) < EXAMPLES:
        example = {"profile_id": profile_id, "rule": rule, "field": field, "from": value}
        example["to"] = to if to is not None else f"(moved to {target})"
        result["examples"].append(example)
