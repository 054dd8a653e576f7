"""Identity rules: which values never identify anyone, how many of a kind a profile may hold,
and which kind decides when identities disagree. Configurable (see config.Settings)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Values that apps send when they have no real identifier. Matching on them would merge
# everyone who ever sent "undefined" into one person.
DEFAULT_BLOCKED_VALUES = (
    "", "null", "nil", "none", "undefined", "anonymous", "unknown", "guest", "n/a", "na", "nan",
    "0", "-1", "[object object]", "00000000-0000-0000-0000-000000000000",
)  # fmt: skip
DEFAULT_LIMITS = {"user_id": 1, "email": 5, "phone": 5}
DEFAULT_PRIORITY = ("user_id", "email", "phone")
ANONYMOUS = "anonymous_id"


@dataclass(frozen=True, slots=True)
class IdentityRules:
    """Blocked values, per-kind limits and the priority of kinds."""

    blocked_values: frozenset[str] = frozenset(DEFAULT_BLOCKED_VALUES)
    # Most identities of a kind one profile may hold; kinds not named are unlimited.
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # Kinds in the order they decide; ids in other apps (ext:*) come next, anonymous ids last.
    priority: tuple[str, ...] = DEFAULT_PRIORITY

    @classmethod
    def of(
        cls,
        *,
        blocked_values: Iterable[str] | None = None,
        limits: Mapping[str, int] | None = None,
        priority: Iterable[str] | None = None,
    ) -> IdentityRules:
        """Rules from configuration; None keeps the default of that part."""
        return cls(
            frozenset(v.strip().lower() for v in blocked_values) if blocked_values is not None
            else frozenset(DEFAULT_BLOCKED_VALUES),
            dict(limits) if limits is not None else dict(DEFAULT_LIMITS),
            tuple(priority) if priority is not None else DEFAULT_PRIORITY,
        )  # fmt: skip

    def is_blocked(self, value: str) -> bool:
        """True for a value that must never identify or merge anyone."""
        return value.strip().lower() in self.blocked_values

    def rank(self, kind: str) -> int:
        """Sort key of a kind: lower decides first."""
        if kind in self.priority:
            return self.priority.index(kind)
        if kind == ANONYMOUS:
            return len(self.priority) + 1
        return len(self.priority)

    def limit(self, kind: str) -> int | None:
        """How many identities of `kind` one profile may hold (None: no limit)."""
        return self.limits.get(kind)


DEFAULT_RULES = IdentityRules()


def rules_from(settings: Any) -> IdentityRules:
    """The rules a Settings object configures."""
    return IdentityRules.of(
        blocked_values=settings.identity_blocked_values,
        limits=settings.identity_limits,
        priority=settings.identity_priority,
    )
