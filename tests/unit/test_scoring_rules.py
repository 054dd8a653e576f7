"""Scoring rules checked without a database: what each kind takes, and the reasons they give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from patron.errors import Invalid
from patron.scoring.rules import ScoringRule, checked_rule

AT = datetime(2026, 1, 1, tzinfo=UTC)


def rule(**fields: Any) -> ScoringRule:
    return ScoringRule(id=1, created_at=AT, updated_at=AT, **checked_rule(fields))


def test_an_event_rule_keeps_its_filters_and_describes_them() -> None:
    pricing = rule(name=" Viewed pricing ", kind="event", event="Page Viewed", points=5,
                   where=[{"property": "path", "op": "=", "value": "/pricing"}])  # fmt: skip
    assert pricing.name == "Viewed pricing" and pricing.repeat == "each" and pricing.cap is None
    assert pricing.describe() == 'event "Page Viewed" where path = "/pricing"'
    assert pricing.as_dict()["points"] == 5 and pricing.as_dict()["definition"] is None


def test_once_is_a_cap_of_one_and_max_awards_caps_each() -> None:
    assert rule(name="n", kind="event", event="E", points=1, repeat="once").cap == 1
    assert rule(name="n", kind="event", event="E", points=1, max_awards=3).cap == 3


def test_a_trait_rule_takes_text_or_a_tree_and_stores_the_tree() -> None:
    from_text = rule(name="KR", kind="trait", points=-2.5, condition='country = "KR" and lead_score >= 10')
    assert from_text.condition == {"and": [{"trait": "country", "op": "=", "value": "KR"},
                                           {"trait": "lead_score", "op": ">=", "value": 10}]}  # fmt: skip
    assert from_text.describe() == 'country = "KR" and lead_score >= 10'
    assert (
        rule(name="KR", kind="trait", points=1, condition=from_text.condition).condition
        == from_text.condition
    )


def test_a_condition_that_does_not_parse_says_where() -> None:
    with pytest.raises(Invalid) as refused:
        checked_rule({"name": "n", "kind": "trait", "points": 1, "condition": 'country = "KR" and'})
    assert refused.value.field == "condition" and "line 1, column" in refused.value.message


def test_an_event_rule_refuses_a_condition_and_a_trait_rule_refuses_filters() -> None:
    with pytest.raises(Invalid) as event_rule:
        checked_rule({"name": "n", "kind": "event", "event": "E", "points": 1, "condition": "a = 1"})
    assert event_rule.value.field == "condition"
    with pytest.raises(Invalid) as trait_rule:
        checked_rule({"name": "n", "kind": "trait", "points": 1, "condition": "a = 1", "event": "E"})
    assert trait_rule.value.field == "event"
