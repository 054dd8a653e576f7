"""Identity normalisation: every input form of one address or number becomes one value."""

from __future__ import annotations

import pytest

from patron.identity import IdentityError, check_kind, normalise


@pytest.mark.parametrize(
    "raw", [" Kim.MinJun@Example.COM ", "kim.minjun@example.com", "KIM.MINJUN@EXAMPLE.COM\t"]
)
def test_email_is_trimmed_and_lower_cased(raw: str) -> None:
    assert normalise("email", raw).value == "kim.minjun@example.com"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("kim@@naver.com", "more than one @"),
        ("minjun.naver.com", "no @"),
        ("name@", "not an email"),
        ("@gmail.com", "not an email"),
        ("a@b", "not an email"),
        ("   ", "empty"),
    ],
)
def test_invalid_email_says_why(raw: str, reason: str) -> None:
    with pytest.raises(IdentityError, match=reason):
        normalise("email", raw)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("010-1234-5678", "KR", "+821012345678"),
        ("01012345678", "KR", "+821012345678"),
        ("+82 10-1234-5678", "US", "+821012345678"),
        ("(415) 234-5678", "US", "+14152345678"),
        ("+44 7911 123456", None, "+447911123456"),
        ("010-1234-5678", "kr", "+821012345678"),
    ],
)
def test_phone_becomes_e164_in_the_records_region(raw: str, region: str | None, expected: str) -> None:
    assert normalise("phone", raw, region=region).value == expected


@pytest.mark.parametrize("raw", ["123", "010-12", "02-000-0000", "not a phone"])
def test_invalid_phone_is_refused(raw: str) -> None:
    with pytest.raises(IdentityError, match="phone number"):
        normalise("phone", raw, region="KR")


def test_phone_without_country_code_and_region_explains_what_to_do() -> None:
    with pytest.raises(IdentityError, match=r"write it as \+CC"):
        normalise("phone", "010-1234-5678", region=None)


def test_kinds_are_the_standard_ones_or_an_external_source() -> None:
    assert check_kind("user_id") == "user_id"
    assert check_kind("ext:shop") == "ext:shop"
    with pytest.raises(IdentityError, match="not one of"):
        check_kind("twitter")
    with pytest.raises(IdentityError, match="source"):
        check_kind("ext:Bad Name")


def test_ids_are_trimmed_but_otherwise_kept_as_given() -> None:
    assert normalise("ext:shop", "  C100234 ").value == "C100234"
    assert normalise("user_id", 42).value == "42"
    with pytest.raises(IdentityError, match="empty"):
        normalise("user_id", "  ")
