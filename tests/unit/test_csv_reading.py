"""Reading CSV exports: encodings, delimiters and column names people actually use."""

from __future__ import annotations

import pytest

from patron.errors import Invalid
from patron.imports import decode, plan_columns
from patron.imports.columns import slug
from patron.imports.csvfile import rows

KOREAN = "이메일,휴대폰,이름,성,회사\nkim@example.com,010-1234-5678,민준,김,한빛소프트\n"


def test_utf8_with_bom_is_read_without_the_bom() -> None:
    text = decode("\ufeffEmail,Name\na@b.co,A\n".encode())
    assert text.encoding == "utf-8"
    assert next(rows(text))[1] == ["Email", "Name"]


def test_korean_excel_cp949_is_detected() -> None:
    text = decode(KOREAN.encode("cp949"))
    assert text.encoding == "cp949"
    assert list(rows(text))[1][1][2] == "민준"


def test_one_bad_byte_in_a_utf8_file_does_not_turn_it_into_cp949() -> None:
    data = (KOREAN * 200).encode() + b"x@y.co,\xff\xfe,a,b,c\n"
    text = decode(data)
    assert text.encoding == "utf-8"
    assert "민준" in text.text


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    text = decode(f"Email{delimiter}Name{delimiter}City\n".encode())
    assert text.delimiter == delimiter


def test_line_numbers_count_quoted_newlines() -> None:
    text = decode(b'Email,Note\na@b.co,"two\nlines"\nc@d.co,x\n')
    assert [line for line, _ in rows(text)] == [1, 2, 4]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("이메일", "email"),
        ("휴대폰", "phone"),
        ("전화번호", "phone"),
        ("Mobile Phone", "phone"),
        ("이름", "first_name"),
        ("성", "last_name"),
        ("회사", "company"),
        ("First Name", "first_name"),
        ("생년월일", "birthday"),
        ("Full Name", "name"),
    ],
)
def test_common_headers_map_themselves(header: str, target: str) -> None:
    plan = plan_columns([header], source="shop")
    assert plan.targets[0].name == target


def test_unknown_columns_become_custom_fields() -> None:
    plan = plan_columns(["Favourite Color", "구매 횟수", "2nd Address", "!!!"], source="shop")
    assert [t.name for t in plan.targets] == ["favourite_color", "구매_횟수", "f_2nd_address", "column_4"]


def test_map_overrides_and_skips_columns() -> None:
    plan = plan_columns(
        ["Mobile No.", "Notes"], source="shop", overrides={"Mobile No.": "phone", "Notes": "-"}
    )
    assert plan.describe() == {"Mobile No.": "phone", "Notes": "(skipped)"}


def test_id_column_becomes_an_identity_of_the_source() -> None:
    plan = plan_columns(["Customer ID", "Email"], source="shop", id_column="Customer ID")
    assert (plan.targets[0].kind, plan.targets[0].name) == ("identity", "ext:shop")


def test_a_map_for_a_missing_column_names_the_columns_there_are() -> None:
    with pytest.raises(Invalid, match="'Mobile' is not in the file; its columns are: Email, Name"):
        plan_columns(["Email", "Name"], source="shop", overrides={"Mobile": "phone"})


def test_two_columns_filling_one_field_are_refused_with_a_fix() -> None:
    with pytest.raises(Invalid, match="both fill 'email'.*--map"):
        plan_columns(["Email", "이메일"], source="crm")


def test_slug_of_words_and_hangul() -> None:
    assert slug(" Lead Status ") == "lead_status"
    assert slug("리드 상태") == "리드_상태"
