"""Lead scoring: rules award points for events or while a condition holds, event points fade
with a half-life, and the score places each person in a lifecycle stage, with every change
kept with its reason."""

from patron.scoring.rules import ScoringRule, get_rule, list_rules
from patron.scoring.scores import (
    create_rule,
    decay,
    delete_rule,
    explain,
    react,
    recompute,
    register_score_fields,
    rescore,
    seed_stages,
    set_half_life,
    set_stages,
    update_rule,
)
from patron.scoring.settings import DEFAULT_HALF_LIFE_DAYS, get_half_life_days
from patron.scoring.stages import DEFAULT_STAGES, list_stages

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "DEFAULT_STAGES",
    "ScoringRule",
    "create_rule",
    "decay",
    "delete_rule",
    "explain",
    "get_half_life_days",
    "get_rule",
    "list_rules",
    "list_stages",
    "react",
    "recompute",
    "register_score_fields",
    "rescore",
    "seed_stages",
    "set_half_life",
    "set_stages",
    "update_rule",
]
