"""Comparators per kind: Hangul and romanised names, Gmail folding, date forms, number text."""

import numpy as np
import pytest

from patron.dedupe.compare import compare as compare_levels
from patron.dedupe.hangul import loose_key, romanise, to_jamo
from patron.dedupe.values import fold_email, normalise_date, normalise_identifier, prepare
from patron.demo.names import KOREAN_GIVEN_NAMES, KOREAN_SURNAMES


def level_of(kind: str, a: str | None, b: str | None) -> str:
    fv = prepare("trait", kind, [a, b])
    level = compare_levels(fv, np.array([0]), np.array([1]))[0]
    return fv.labels[level]


@pytest.mark.parametrize(
    ("hangul", "latin"),
    [("김민준", "Minjun Kim"), ("김민준", "KIM MINJUN"), ("이", "Lee"), ("박", "Park"), ("최", "Choi"),
     ("정", "Jung"), ("윤", "Yoon"), ("지우", "Jiwoo"), ("정희", "Junghee")],
)  # fmt: skip
def test_hangul_name_matches_its_romanisation_exactly(hangul, latin):
    assert level_of("name", hangul, latin) == "exact"


def test_every_demo_korean_name_meets_its_demo_romanisation():
    pairs = [(h, r) for h, r, _ in KOREAN_SURNAMES] + KOREAN_GIVEN_NAMES
    assert [(h, r) for h, r in pairs if loose_key(h) != loose_key(r)] == []


def test_hangul_names_compare_on_jamo():
    assert to_jamo("김") == "ㄱㅣㅁ"
    assert romanise("김민준") == "gimminjun"
    assert level_of("name", "김민준", "김민중") == "close"  # one final consonant apart
    assert level_of("name", "김민준", "박서연") == "different"


def test_hangul_name_is_not_matched_to_another_romanised_name():
    assert level_of("name", "김민준", "Seoyeon Park") == "different"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [("Mitchell", "mitchell", "exact"), ("Mitchell", "Mitchel", "close"), ("José", "jose", "exact"),
     ("Katherine", "Kathryn", "close"), ("Jonathan", "Jonothan", "similar"),
     ("Mitchell", "Oliver", "different"), ("Mitchell", None, "missing")],
)  # fmt: skip
def test_latin_name_levels(a, b, level):
    assert level_of("name", a, b) == level


def test_gmail_dots_and_plus_tags_fold_to_one_mailbox():
    assert fold_email("min.jun+shop@gmail.com") == "minjun@gmail.com"
    assert fold_email("min.jun+news@naver.com") == "min.jun@naver.com"
    assert level_of("email", "min.jun+shop@gmail.com", "minjun@googlemail.com") == "same mailbox"
    assert level_of("email", "minjun.kim@gmail.com", "minjun.kim@naver.com") == "same local part"
    assert level_of("email", "minjun.kim@naver.com", "minjun.kmi@naver.com") == "local part one typo"
    assert level_of("email", "minjun.kim1@naver.com", "minjun.kim7@naver.com") == "different"
    assert level_of("email", "minjun@gmail.com", "oliver@gmail.com") == "different"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("1956-04-09", "19560409"), ("19560409", "19560409"), ("19560409.0", "19560409"),
     ("1956/4/9", "19560409"), ("09/04/1956", "19560409")],
)  # fmt: skip
def test_date_forms_normalise_alike(raw, normal):
    assert normalise_date(raw) == normal


def test_date_levels():
    assert level_of("date", "1956-04-09", "19560409") == "exact"
    assert level_of("date", "1956-04-09", "1956-09-04") == "one typo or day/month swapped"
    assert level_of("date", "1956-04-09", "1956-04-19") == "one typo or day/month swapped"
    assert level_of("date", "1956-04-09", "1971-12-30") == "different"


def test_numbers_read_as_floats_match_their_text():
    assert normalise_identifier("2119.0") == "2119"
    assert level_of("postcode", "2119.0", "2119") == "exact"
    assert level_of("identifier", "1804974", "1804947") == "one typo"


def test_phone_with_and_without_country_code_is_one_number():
    assert level_of("phone", "+821012345678", "+821012345678") == "exact"
    assert level_of("phone", "+821012345678", "01012345678") == "same national number"
    assert level_of("phone", "+821012345678", "+821012345679") == "one typo"


def test_addresses_agree_across_street_abbreviations():
    assert level_of("address", "12 Wallaby Place", "12 wallaby pl") == "exact"
    assert level_of("address", "12 Wallaby Place", "12 walaby place") == "close"


def test_swapped_first_and_last_names_compare_crossed():
    from patron.dedupe.compare import PreparedTable, prepare_swaps
    from patron.dedupe.model import level_matrix

    first = prepare("first_name", "name", ["Minjun", "김", "Oliver"])
    last = prepare("last_name", "name", ["Kim", "민준", "Smith"])
    table = PreparedTable([first, last], prepare_swaps([first, last], 3), 3)
    levels = level_matrix(table, np.array([0, 0]), np.array([1, 2]))
    # 김 민준 written family name first: crossed, they agree closely (not exactly: a surname's
    # rarity among first names is no evidence)
    assert [first.labels[x] for x in levels[0]] == ["close", "close"]
    assert [first.labels[x] for x in levels[1]] == ["different", "different"]


@pytest.mark.parametrize(("a", "b"), [("William", "Bill"), ("bob", "Robert"), ("Kate", "Katherine")])
def test_nicknames_are_close(a, b):
    assert level_of("name", a, b) == "close"
    assert level_of("name", "Bill", "Bob") == "different"


def test_a_slip_in_a_long_number_is_a_typo_in_a_short_one_another_person():
    assert (
        level_of("email", "olivia.hill225476@gmail.com", "olivia.hill25476@gmail.com")
        == "local part one typo"
    )
    assert level_of("email", "minjun.kim12@naver.com", "minjun.kim13@naver.com") == "different"


def test_a_local_part_that_only_spells_the_names_adds_nothing():
    from patron.dedupe.compare import prepare_table
    from patron.dedupe.model import level_matrix

    first = prepare("first_name", "name", ["Minseo", "민서", "Minseo", "Minseo"])
    last = prepare("last_name", "name", ["Kim", "김", "Kim", "Kim"])
    email = prepare(
        "email", "email", ["minseo.kim@daum.net", "minseo_kim@naver.com", "minseo.kim1987@daum.net",
                           "minseo_kim1987@naver.com"],
    )  # fmt: skip
    table = prepare_table([first, last, email], 4)
    levels = level_matrix(table, np.array([0, 2]), np.array([1, 3]))
    assert email.labels[levels[0, 2]] == "missing"  # namesakes' name-built handles: no evidence
    assert email.labels[levels[1, 2]] == "same local part"  # a number in the handle sets people apart


def test_a_mistyped_domain_is_the_same_address_but_not_another_separator():
    assert level_of("email", "jiwoo.kim@naver.con", "jiwoo.kim@naver.com") == "exact"
    assert level_of("email", "junseo_kim@hanmail.net", "junseo.kim@hanmail.net") == "same local part"
