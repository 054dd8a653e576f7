"""Survivorship: which value a merged profile keeps for each trait, and why.

Rules, per trait: most_recent (the value written last), trusted_source (the value from the source
highest in the configured priority, then the most recent), most_complete (the longest value, then
the most recent), strictest (consent: "no" beats "yes"). Consent-like traits always use strictest,
whatever the configuration says: a merge never broadens what a person agreed to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patron.errors import Invalid

MOST_RECENT, TRUSTED_SOURCE = "most_recent", "trusted_source"
MOST_COMPLETE, STRICTEST = "most_complete", "strictest"
RULES = (MOST_RECENT, TRUSTED_SOURCE, MOST_COMPLETE, STRICTEST)

# Traits that withdraw permission when true (unsubscribed, do_not_email) and traits that grant it
# when true (accepts_marketing, email_opt_in). Withdrawal is checked first: "opt_out" contains "opt".
_WITHDRAWS = re.compile(r"unsub|opt_?out|opted_?out|do_?not|dnc|suppress|block|no_?contact|no_?email")
_GRANTS = re.compile(r"consent|opt_?in|opted_?in|accepts?_|marketing|subscri|permission|newsletter")


@dataclass(frozen=True, slots=True)
class Version:
    """One profile's value of a trait, with where and when it was written."""

    profile_id: str
    value: Any
    source: str
    at: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """The surviving version of one trait, the rule that chose it and the versions that lost."""

    field: str
    rule: str
    winner: Version
    losers: tuple[Version, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form kept in the merge's evidence (losing values are kept in history here)."""
        return {
            "field": self.field,
            "rule": self.rule,
            "value": self.winner.value,
            "from": self.winner.profile_id,
            "source": self.winner.source,
            "lost": [{"value": v.value, "from": v.profile_id, "source": v.source} for v in self.losers],
        }


@dataclass(frozen=True, slots=True)
class Survivorship:
    """Per-trait rules, the default rule and the source priority (most trusted first)."""

    default_rule: str = MOST_RECENT
    rules: Mapping[str, str] = field(default_factory=dict)
    source_priority: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, *, default_rule: str = MOST_RECENT, rules: Mapping[str, str] | None = None,
        source_priority: Sequence[str] = (),
    ) -> Survivorship:  # fmt: skip
        """Validated rules; Invalid names the trait whose rule is unknown."""
        for name, rule in {"default": default_rule, **(rules or {})}.items():
            if rule not in RULES:
                raise Invalid(
                    f"survivorship rule {rule!r} for {name} is not one of {', '.join(RULES)}",
                    field=f"survivorship.{name}",
                )
        return cls(default_rule, dict(rules or {}), tuple(source_priority))

    def rule_for(self, name: str) -> str:
        """The rule a trait merges by; consent-like traits are always strictest."""
        if consent_direction(name) is not None:
            return STRICTEST
        return self.rules.get(name, self.default_rule)

    def choose(self, name: str, versions: Sequence[Version]) -> Choice:
        """The surviving version of trait `name` among `versions` (at least one)."""
        rule = self.rule_for(name)
        ranked = sorted(versions, key=lambda v: self._rank(name, rule, v), reverse=True)
        winner = ranked[0]
        if rule == STRICTEST and len(versions) > 1 and all(isinstance(v.value, list) for v in versions):
            # Lists of topics or newsletters someone signed up to: only what every profile agreed to.
            common = [item for item in winner.value if all(item in v.value for v in versions)]
            winner = Version(winner.profile_id, common, winner.source, winner.at, winner.flags)
        losers = tuple(v for v in ranked[1:] if v.value != winner.value)
        return Choice(name, rule, winner, losers)

    def _rank(self, name: str, rule: str, version: Version) -> tuple[Any, ...]:
        recency = (version.at, version.profile_id)
        if rule == TRUSTED_SOURCE:
            trust = (
                len(self.source_priority) - self.source_priority.index(version.source)
                if version.source in self.source_priority
                else 0
            )
            return (trust, *recency)
        if rule == MOST_COMPLETE:
            return (_completeness(version.value), *recency)
        if rule == STRICTEST:
            return (_strictness(name, version.value), *recency)
        return recency


def consent_direction(name: str) -> str | None:
    """'withdraws' for traits where true means no (unsubscribed), 'grants' where true means yes."""
    lowered = name.lower()
    if _WITHDRAWS.search(lowered):
        return "withdraws"
    if _GRANTS.search(lowered):
        return "grants"
    return None


def _strictness(name: str, value: Any) -> int:
    """Higher is stricter: for a granting trait false beats true, for a withdrawing one true wins."""
    if not isinstance(value, bool):
        return 0  # not a yes/no value: strictness cannot tell; recency decides
    if consent_direction(name) == "withdraws":
        return 2 if value else 1
    return 1 if value else 2


def _completeness(value: Any) -> int:
    if isinstance(value, list | dict):
        return len(value)
    return len(str(value).strip())
