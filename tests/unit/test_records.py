"""Preparing a record: one pipeline decides identities, canonical traits and problems."""

from __future__ import annotations

import pickle

from patron.profiles import display_name, prepare_record, split_name
from patron.profiles.record import DROPPED, NOT_IDENTITY, REFUSED_IDENTITY
from patron.quality.emails import DeliverabilityChecker, shared_checker
from patron.quality.entry import EntryRules

TYPES = {"email": "string", "phone": "string", "birthday": "date", "lifetime_value": "number"}


def prepare(traits: dict, identities: list | None = None, region: str = "US"):
    return prepare_record(traits, identities or [], source="test", field_types=TYPES, default_region=region)


def test_email_and_phone_traits_become_identities_in_the_records_country() -> None:
    record = prepare({"email": " A@B.CO ", "phone": "010-1234-5678", "country": "kr"})
    assert [(i.kind, i.value) for i in record.identities] == [("email", "a@b.co"), ("phone", "+821012345678")]
    assert record.traits["country"] == "KR"


def test_an_invalid_email_is_kept_as_a_trait_but_never_matches_anyone() -> None:
    record = prepare({"email": "kim@@naver.com", "phone": "+14152345678"})
    assert record.traits["email"] == "kim@@naver.com"
    assert [i.kind for i in record.identities] == ["phone"]
    assert record.problems[0].effect == NOT_IDENTITY


def test_a_value_of_the_wrong_type_is_dropped_and_named() -> None:
    record = prepare({"email": "a@b.co", "lifetime_value": "lots"})
    assert "lifetime_value" not in record.traits
    problem = record.problems[0]
    assert (problem.field, problem.effect) == ("traits.lifetime_value", DROPPED)
    assert "not a number" in problem.reason


def test_identities_are_sorted_by_priority() -> None:
    record = prepare({"email": "a@b.co"}, [("ext:shop", "C1"), ("user_id", "u1")])
    assert [i.kind for i in record.identities] == ["user_id", "email", "ext:shop"]


def test_a_bad_explicit_identity_is_refused() -> None:
    record = prepare({}, [("email", "nope")])
    assert record.problems[0].effect == REFUSED_IDENTITY
    assert not record.has_identity
    assert "nope" in record.no_identity_reason()


def test_new_custom_traits_get_an_inferred_type() -> None:
    record = prepare({"email": "a@b.co", "plan": "pro", "seats": 3, "beta": True})
    assert record.new_fields == {"plan": "string", "seats": "number", "beta": "boolean"}


def test_blank_values_are_no_values() -> None:
    record = prepare({"email": "a@b.co", "city": "  ", "company": None})
    assert set(record.traits) == {"email"}


def test_a_whole_name_is_split_korean_family_name_first() -> None:
    assert split_name("김민준") == ("민준", "김")
    assert split_name("김 민준") == ("민준", "김")
    assert split_name("Emily  Carter") == ("Emily", "Carter")
    assert split_name("Madonna") == ("Madonna", "")
    record = prepare({"email": "a@b.co", "name": "이서연"})
    assert (record.traits["first_name"], record.traits["last_name"]) == ("서연", "이")


def test_names_are_shown_the_way_their_language_writes_them() -> None:
    assert display_name({"first_name": "민준", "last_name": "김"}) == "김민준"
    assert display_name({"first_name": "Emily", "last_name": "Carter"}) == "Emily Carter"
    assert display_name({"first_name": "Madonna"}) == "Madonna"
    assert display_name({}) == ""


class _NoMailServers(DeliverabilityChecker):
    """DNS that answers 'no such domain' for one domain: the wiring is tested, not the network."""

    def _ask_dns(self, domain: str) -> bool | None:
        return domain != "no-mail.co.kr"


def test_the_optional_dns_check_flags_domains_without_mail_servers() -> None:
    checker = _NoMailServers()
    record = prepare_record(
        {"email": "kim@no-mail.co.kr", "phone": "+82 10 2222 3333"},
        source="crm",
        field_types={},
        default_region="KR",
        entry=EntryRules(deliverability=checker),
    )
    assert record.flags == {"email": ("undeliverable",)}
    assert [i.kind for i in record.identities] == ["phone"]
    fine = prepare_record({"email": "kim@naver.com"}, source="crm", field_types={}, default_region="KR",
                          entry=EntryRules(deliverability=checker))  # fmt: skip
    assert fine.flags == {} and fine.identities[0].value == "kim@naver.com"


def test_a_dns_checker_sent_to_a_read_ahead_process_is_that_process_s_own() -> None:
    checker = shared_checker(1.5)
    assert pickle.loads(pickle.dumps(EntryRules(deliverability=checker))).deliverability is checker
