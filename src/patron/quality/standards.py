"""Field standardisation: alias fields mapped to canonical ones, value variants to one value.

Three apps call one field "sector", "business type" and "industry", and write its values as
"IT", "Information Technology" and "정보기술". Rules kept in `standard_rules` map both to one
form at entry, and can be re-applied to stored profiles after a preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, delete, func, select

from patron.errors import Invalid, NotFound
from patron.fields.definitions import check_field_name
from patron.storage.schema import standard_rules
from patron.storage.statements import insert_ignoring_conflicts
from patron.storage.types import utcnow

FIELD_ALIAS, VALUE = "field_alias", "value"
RULE_KINDS = (FIELD_ALIAS, VALUE)
_SEPARATORS = re.compile(r"[\s\-./]+")

# Installed by `patron init` on a new instance, editable afterwards.
DEFAULT_ALIASES: dict[str, str] = {
    "sector": "industry",
    "business_type": "industry",
    "industry_type": "industry",
    "업종": "industry",
    "산업": "industry",
    "업태": "industry",
    "position": "job_title",
    "직책": "job_title",
    "직함": "job_title",
    "직위": "job_title",
    "organisation": "company",
    "organization": "company",
    "company_name": "company",
    "회사명": "company",
    "language": "locale",
    "lang": "locale",
    "time_zone": "timezone",
    "tz": "timezone",
    "date_of_birth": "birthday",
    "dob": "birthday",
    "생년월일": "birthday",
}
DEFAULT_VALUES: dict[str, dict[str, str]] = {
    "industry": {
        "it": "Information Technology",
        "i.t.": "Information Technology",
        "tech": "Information Technology",
        "technology": "Information Technology",
        "information technology": "Information Technology",
        "software": "Information Technology",
        "정보기술": "Information Technology",
        "it서비스": "Information Technology",
        "소프트웨어": "Information Technology",
        "retail": "Retail",
        "e-commerce": "Retail",
        "ecommerce": "Retail",
        "소매": "Retail",
        "유통": "Retail",
        "finance": "Financial Services",
        "financial services": "Financial Services",
        "banking": "Financial Services",
        "금융": "Financial Services",
        "manufacturing": "Manufacturing",
        "제조": "Manufacturing",
        "제조업": "Manufacturing",
        "healthcare": "Healthcare",
        "health care": "Healthcare",
        "의료": "Healthcare",
        "education": "Education",
        "교육": "Education",
    },
}


def fold_value(value: str) -> str:
    """How values compare for mapping: case-folded, separators and spaces collapsed."""
    return " ".join(value.casefold().split())


@lru_cache(maxsize=4096)  # an import asks for the same few column names on every row
def fold_field(name: str) -> str:
    """How incoming field names compare with aliases: lower case, separators as '_'."""
    return _SEPARATORS.sub("_", name.strip().casefold()).strip("_")


@dataclass(frozen=True, slots=True)
class Standards:
    """The rules in force: {folded alias: field} and {field: {folded variant: value}}."""

    aliases: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.aliases or self.values)

    def rename(self, traits: dict[str, Any]) -> list[tuple[str, str]]:
        """Move alias fields to their canonical names in place; returns every (alias, field) taken out.

        A value already given under the canonical name wins over its aliases.
        """
        taken: list[tuple[str, str]] = []
        for name in list(traits):
            target = self.aliases.get(fold_field(name))
            if target is None or target == name:
                continue
            value = traits.pop(name)
            traits.setdefault(target, value)
            taken.append((name, target))
        return taken

    def map_value(self, name: str, value: Any) -> Any:
        """The standard form of a text value of field `name` (the value itself when none)."""
        variants = self.values.get(name)
        if not variants or not isinstance(value, str):
            return value
        return variants.get(fold_value(value), value)


NO_STANDARDS = Standards()


def load_standards(conn: Connection) -> Standards:
    """The rules stored in the database."""
    aliases: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    for kind, name, match, target in conn.execute(
        select(standard_rules.c.kind, standard_rules.c.field, standard_rules.c.match, standard_rules.c.target)
    ):
        if kind == FIELD_ALIAS:
            aliases[match] = target
        else:
            values.setdefault(name, {})[match] = target
    return Standards(aliases, values)


def list_rules(conn: Connection) -> list[dict[str, Any]]:
    """Every rule, aliases first, as public dicts."""
    rows = conn.execute(
        select(standard_rules).order_by(standard_rules.c.kind, standard_rules.c.field, standard_rules.c.match)
    ).mappings()
    return [
        {"id": r["id"], "kind": r["kind"], "field": r["field"], "match": r["match"], "target": r["target"]}
        for r in rows
    ]


def add_rules(conn: Connection, rules: list[Mapping[str, str]]) -> int:
    """Add rules ({"kind", "field"?, "match", "target"}); a rule already present is left alone."""
    now = utcnow()
    rows = []
    for index, rule in enumerate(rules):
        rows.append({**_checked(rule, f"rules[{index}]"), "created_at": now})
    if not rows:
        return 0
    before = conn.execute(select(func.count()).select_from(standard_rules)).scalar_one()
    conn.execute(insert_ignoring_conflicts(conn, standard_rules, ["kind", "field", "match"]), rows)
    return conn.execute(select(func.count()).select_from(standard_rules)).scalar_one() - before


def delete_rule(conn: Connection, rule_id: int) -> None:
    """Remove one rule."""
    if not conn.execute(delete(standard_rules).where(standard_rules.c.id == rule_id)).rowcount:
        raise NotFound(f"no standardisation rule with id {rule_id}", field="id")


def install_defaults(conn: Connection) -> int:
    """Put the default rules in place (on a new instance); returns how many were added."""
    rules = [{"kind": FIELD_ALIAS, "match": alias, "target": name} for alias, name in DEFAULT_ALIASES.items()]
    rules += [
        {"kind": VALUE, "field": name, "match": variant, "target": value}
        for name, variants in DEFAULT_VALUES.items()
        for variant, value in variants.items()
    ]
    return add_rules(conn, rules)


def _checked(rule: Mapping[str, str], where: str) -> dict[str, str]:
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        raise Invalid(f"{where}.kind must be one of {', '.join(RULE_KINDS)}, got {kind!r}", field="kind")
    match, target = str(rule.get("match") or "").strip(), str(rule.get("target") or "").strip()
    if not match or not target:
        raise Invalid(
            f"{where}: match and target are both required", field="match" if not match else "target"
        )
    if kind == FIELD_ALIAS:
        alias = fold_field(match)
        check_field_name(target)
        if alias == target:
            raise Invalid(f"{where}: a field cannot be an alias of itself", field="match")
        return {"kind": kind, "field": "", "match": alias, "target": target}
    name = str(rule.get("field") or "").strip()
    if not name:
        raise Invalid(
            f"{where}.field is required for a value rule: which field's values it maps", field="field"
        )
    check_field_name(name)
    return {"kind": kind, "field": name, "match": fold_value(match), "target": target}
