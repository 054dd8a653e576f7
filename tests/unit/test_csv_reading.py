"""Reading CSV exports: encodings, delimiters and column names people actually use."""

from __future__ import annotations

import pytest

from patron.errors import Invalid
from patron.imports import decode, plan_columns
from patron.imports.columns import slug
from patron.imports.csvfile import MalformedRow, rows

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


def read(text: str) -> list[tuple[int, list[str], str]]:
    """(line, cells, why the row is malformed or '') of every row."""
    return [(line, list(cells), getattr(cells, "reason", "")) for line, cells in rows(decode(text.encode()))]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_an_unclosed_quote_is_a_malformed_row_and_reading_goes_on_at_the_next_line(newline: str) -> None:
    text = newline.join(
        ["Email,Name", 'q1@example.com,"Unterminated', "q2@example.com,Two", "q3@x.com,Three"]
    )
    read_rows = read(text + newline)
    assert [(line, cells) for line, cells, _ in read_rows] == [
        (1, ["Email", "Name"]),
        (2, ["q1@example.com", "Unterminated"]),
        (3, ["q2@example.com", "Two"]),
        (4, ["q3@x.com", "Three"]),
    ]
    reason = read_rows[1][2]
    assert reason.startswith("unclosed quote: the quoted field opened on line 2 is never closed")
    assert [why for _, _, why in read_rows if why] == [reason]


def test_an_unclosed_quote_on_the_last_line_is_a_malformed_row() -> None:
    read_rows = read('Email,Name\na@b.co,A\nc@d.co,"C')
    assert [(line, cells) for line, cells, _ in read_rows[1:]] == [(2, ["a@b.co", "A"]), (3, ["c@d.co", "C"])]
    assert read_rows[1][2] == ""
    assert "the quoted field opened on line 3 is never closed" in read_rows[2][2]


def test_a_runaway_quote_ends_at_the_next_quote_that_has_text_after_it() -> None:
    read_rows = read('Email,Note\nq1,"Unterminated\nq2,Two\nq3,"Line 1\nLine 2"\nq4,x\n')
    assert [(line, cells) for line, cells, _ in read_rows[1:]] == [
        (2, ["q1", "Unterminated"]),
        (3, ["q2", "Two"]),
        (4, ["q3", "Line 1\nLine 2"]),
        (6, ["q4", "x"]),
    ]
    assert "opened on line 2 is not closed properly (the next quote, on line 4" in read_rows[1][2]


def test_a_runaway_quote_longer_than_a_field_may_be_stops_there() -> None:
    people = "".join(f"p{n}@example.com,Person {n}\n" for n in range(2, 12_000))
    read_rows = read('Email,Name\nq1@example.com,"Unterminated\n' + people)
    assert len(read_rows) == 12_000
    assert read_rows[1][2].startswith(
        "unclosed quote: the quoted field opened on line 2 runs on past 131,072"
    )
    assert read_rows[2] == (3, ["p2@example.com", "Person 2"], "")
    assert read_rows[-1] == (12_000, ["p11999@example.com", "Person 11999"], "")


def test_an_unclosed_quote_after_a_closed_multi_line_field_names_its_own_line() -> None:
    read_rows = read(
        'Email,Note,City\na,"12 Main St\nApt 4",Seoul\nb,"3 Side St\nFloor 2","Busan\nc,N,Jeju\n'
    )
    assert read_rows[1] == (2, ["a", "12 Main St\nApt 4", "Seoul"], "")
    line, cells, reason = read_rows[2]
    assert (line, cells) == (4, ["b", "3 Side St\nFloor 2", "Busan"])
    assert "the quoted field opened on line 5 is never closed" in reason
    assert read_rows[3] == (6, ["c", "N", "Jeju"], "")


def test_a_quote_with_text_after_it_on_one_line_is_read_as_before() -> None:
    assert read('Email,City\na@b.co,"Seoul" Korea\nc@d.co,Busan\n')[1:] == [
        (2, ["a@b.co", "Seoul Korea"], ""),
        (3, ["c@d.co", "Busan"], ""),
    ]


def test_a_header_with_an_unclosed_quote_is_refused_naming_the_line() -> None:
    header = next(rows(decode(b'Email,"Name\na@b.co,A\n')))[1]
    assert isinstance(header, MalformedRow)
    with pytest.raises(
        Invalid, match="header line cannot be read: unclosed quote: .* opened on line 1"
    ) as caught:
        plan_columns(header, source="shop")
    assert caught.value.field == "header"


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


def test_a_repeated_header_names_its_second_column_name_2_in_the_fix() -> None:
    with pytest.raises(Invalid, match=r"--map 'Email \(2\)=-'") as caught:
        plan_columns(["Email", "Email", "Name"], source="crm")
    assert caught.value.field == "Email (2)"


@pytest.mark.parametrize(("wanted", "described"), [("-", "(skipped)"), ("work_email", "work_email")])
def test_the_second_of_a_repeated_header_is_mapped_as_name_2(wanted: str, described: str) -> None:
    plan = plan_columns(["Email", "Email", "Name"], source="crm", overrides={"Email (2)": wanted})
    assert plan.describe() == {"Email": "email", "Email (2)": described, "Name": "name"}


def test_a_repeated_header_is_numbered_past_a_column_already_called_so() -> None:
    plan = plan_columns(["Note", "Note (2)", "Note"], source="crm", overrides={"Note (3)": "-"})
    assert plan.header == ["Note", "Note (2)", "Note (3)"]
    assert [t.name for t in plan.targets] == ["note", "note_2", ""]


def test_slug_of_words_and_hangul() -> None:
    assert slug(" Lead Status ") == "lead_status"
    assert slug("리드 상태") == "리드_상태"
