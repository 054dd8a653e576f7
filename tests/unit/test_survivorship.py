"""Survivorship rules: which value a merged profile keeps for a trait."""

from __future__ import annotations

import pytest

from patron.dedupe.survivorship import Survivorship, Version, consent_direction
from patron.errors import Invalid

OLD = Version("kept", "Acme Korea Ltd", "crm", "2026-01-01T00:00:00Z")
NEW = Version("absorbed", "acme", "shop", "2026-06-01T00:00:00Z")


def test_most_recent_is_the_default() -> None:
    choice = Survivorship().choose("company", [OLD, NEW])
    assert (choice.rule, choice.winner.value, [v.value for v in choice.losers]) == (
        "most_recent",
        "acme",
        [OLD.value],
    )


def test_trusted_source_follows_the_priority_then_recency() -> None:
    rules = Survivorship.of(rules={"company": "trusted_source"}, source_priority=["crm", "shop"])
    assert rules.choose("company", [NEW, OLD]).winner.value == "Acme Korea Ltd"
    unknown = Survivorship.of(rules={"company": "trusted_source"}, source_priority=["erp"])
    assert unknown.choose("company", [OLD, NEW]).winner.value == "acme"  # neither is ranked: most recent


def test_most_complete_keeps_the_longest_value() -> None:
    rules = Survivorship.of(default_rule="most_complete")
    assert rules.choose("company", [NEW, OLD]).winner.value == "Acme Korea Ltd"


@pytest.mark.parametrize(
    ("name", "older", "newer", "kept"),
    [
        ("accepts_marketing", False, True, False),
        ("accepts_marketing", True, False, False),
        ("email_opt_in", True, False, False),
        ("unsubscribed", True, False, True),
        ("do_not_email", False, True, True),
        ("sms_opted_out", True, False, True),
    ],
)
def test_consent_takes_the_stricter_value_whatever_the_configuration(
    name: str, older: bool, newer: bool, kept: bool
) -> None:
    rules = Survivorship.of(default_rule="most_recent", rules={name: "most_recent"})
    versions = [Version("a", older, "crm", "2026-01-01"), Version("b", newer, "shop", "2026-02-01")]
    choice = rules.choose(name, versions)
    assert choice.rule == "strictest" and choice.winner.value is kept


def test_consent_lists_keep_only_what_every_profile_signed_up_to() -> None:
    versions = [
        Version("a", ["weekly", "offers"], "shop", "2026-02-01"),
        Version("b", ["weekly"], "crm", "2026-01-01"),
    ]
    assert Survivorship().choose("newsletter_lists", versions).winner.value == ["weekly"]


def test_consent_direction_reads_the_name() -> None:
    assert consent_direction("accepts_marketing") == "grants"
    assert consent_direction("unsubscribed_at") == "withdraws"
    assert consent_direction("company") is None


def test_an_unknown_rule_names_the_trait() -> None:
    with pytest.raises(Invalid) as error:
        Survivorship.of(rules={"city": "loudest"})
    assert error.value.field == "survivorship.city" and "loudest" in error.value.message
