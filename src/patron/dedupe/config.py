"""The match configuration: which traits to compare, as what kind, and the decision thresholds.

A file passed for a run replaces the defaults entirely (fields are not merged), so what a run
compares is always visible in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from patron.errors import Invalid

KINDS = ("name", "text", "address", "postcode", "date", "identifier", "email", "phone", "exact")

# Probabilities from the Fellegi-Sunter model. Auto-merge needs near certainty because a wrong
# merge is costly to undo; 0.8 for review keeps the queue to pairs a human could plausibly confirm.
# Contact lists hold namesakes whose addresses are built from their names; once a local part that
# only spells the name counts for nothing, 0.99 merges 41 of the demo's duplicate pairs with one
# mistake (0.999: 13, none) and keeps recall on generated contacts at 0.90 (0.999: 0.75).
DEFAULT_AUTO_THRESHOLD = 0.99
DEFAULT_REVIEW_THRESHOLD = 0.8

_TOP_LEVEL_KEYS = ("fields", "thresholds", "survivorship", "source_priority")


@dataclass(frozen=True)
class MatchConfig:
    """Traits to compare (trait -> kind), thresholds, and the survivorship rules merges follow."""

    fields: dict[str, str]
    auto_threshold: float = DEFAULT_AUTO_THRESHOLD
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    survivorship: dict[str, str] = field(default_factory=dict)
    default_rule: str = "most_recent"
    source_priority: tuple[str, ...] = ()


DEFAULT_CONFIG = MatchConfig(
    fields={
        "first_name": "name",
        "last_name": "name",
        "email": "email",
        "phone": "phone",
        "company": "text",
        "city": "text",
        "country": "exact",
        "birthday": "date",
        # Custom traits many imports carry; compared only when a record table has them.
        "address": "address",
        "address_1": "address",
        "street": "address",
        "postcode": "postcode",
        "postal_code": "postcode",
        "zip": "postcode",
    }
)

# Fields of DEFAULT_CONFIG a run may silently skip when the data has no such trait.
OPTIONAL_DEFAULT_FIELDS = frozenset({"address", "address_1", "street", "postcode", "postal_code", "zip"})


def _threshold(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{key} must be a number between 0 and 1, not {value!r}", field=key)
    if not 0.0 < float(value) < 1.0:
        raise Invalid(f"{key} must be strictly between 0 and 1 (a probability), not {value}", field=key)
    return float(value)


def parse_config(data: dict) -> MatchConfig:
    """Validate a decoded configuration file; Invalid names the key and the reason."""
    if not isinstance(data, dict):
        raise Invalid("a match configuration must be an object with a 'fields' key", field="fields")
    unknown = sorted(set(data) - set(_TOP_LEVEL_KEYS))
    if unknown:
        raise Invalid(
            f"unknown key {unknown[0]!r} in the match configuration (allowed: {', '.join(_TOP_LEVEL_KEYS)})",
            field=unknown[0],
        )
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise Invalid(
            '"fields" must map at least one trait to a kind, e.g. {"email": "email"}', field="fields"
        )
    for trait, kind in fields.items():
        if not isinstance(trait, str) or not trait:
            raise Invalid(f"field name {trait!r} must be a non-empty text", field="fields")
        if kind not in KINDS:
            raise Invalid(
                f"fields.{trait}: unknown kind {kind!r} (one of {', '.join(KINDS)})", field=f"fields.{trait}"
            )
    thresholds = data.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise Invalid('"thresholds" must be an object like {"auto": 0.99, "review": 0.8}', field="thresholds")
    extra = sorted(set(thresholds) - {"auto", "review"})
    if extra:
        raise Invalid(
            f"unknown threshold {extra[0]!r} (allowed: auto, review)", field=f"thresholds.{extra[0]}"
        )
    auto = _threshold(thresholds.get("auto", DEFAULT_AUTO_THRESHOLD), "thresholds.auto")
    review = _threshold(thresholds.get("review", DEFAULT_REVIEW_THRESHOLD), "thresholds.review")
    if review > auto:
        raise Invalid(
            f"thresholds.review ({review}) must not exceed thresholds.auto ({auto}): "
            "pairs between them go to review",
            field="thresholds.review",
        )
    survivorship = data.get("survivorship", {})
    if not isinstance(survivorship, dict):
        raise Invalid('"survivorship" must be an object like {"default": "most_recent", "fields": {}}',
                      field="survivorship")  # fmt: skip
    extra = sorted(set(survivorship) - {"default", "fields"})
    if extra:
        raise Invalid(f"unknown survivorship key {extra[0]!r} (allowed: default, fields)",
                      field=f"survivorship.{extra[0]}")  # fmt: skip
    default_rule = survivorship.get("default", "most_recent")
    if not isinstance(default_rule, str):
        raise Invalid("survivorship.default must be a rule name", field="survivorship.default")
    rules = survivorship.get("fields", {})
    if not isinstance(rules, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in rules.items()
    ):
        raise Invalid("survivorship.fields must map trait names to rule names", field="survivorship.fields")
    priority = data.get("source_priority", [])
    if not isinstance(priority, list) or not all(isinstance(s, str) for s in priority):
        raise Invalid('"source_priority" must be a list of source names', field="source_priority")
    return MatchConfig(
        fields=dict(fields),
        auto_threshold=auto,
        review_threshold=review,
        survivorship=dict(rules),
        default_rule=default_rule,
        source_priority=tuple(priority),
    )


def load_config(path: str | Path) -> MatchConfig:
    """Read a JSON (.json) or YAML (.yaml, .yml) match configuration file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid(f"cannot read match configuration {str(path)!r}: {exc.strerror}", field="path") from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise Invalid(f"match configuration {path.name!r} must end in .json, .yaml or .yml", field="path")
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise Invalid(f"match configuration {path.name!r} is not valid {suffix[1:].upper()}: {exc}",
                      field="path") from exc  # fmt: skip
    return parse_config(data)
