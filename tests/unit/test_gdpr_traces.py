"""Finding one person's identifiers in stored text, and cutting their records out of CSV files."""

from __future__ import annotations

from patron.gdpr.stored_files import strip_records
from patron.gdpr.traces import Traces

KIM = Traces.of(
    [("email", "Kim.Minjun@Example.com"), ("phone", "+82 10-1234-5678"), ("user_id", "u-17")], region="KR"
)


def test_identifiers_are_normalised() -> None:
    assert KIM.emails == {"kim.minjun@example.com"}
    assert KIM.phones == {"+821012345678"}
    assert KIM.ids == {"u-17"}


def test_a_phone_is_found_in_every_way_people_type_it() -> None:
    for typed in ("+821012345678", "010-1234-5678", "+82 10 1234 5678", "(010) 1234.5678", "01012345678"):
        assert KIM.in_text(f'{{"phone": "{typed}"}}'), typed
    assert not KIM.in_text("order 9010123456789")  # the digits inside a longer number
    assert not KIM.in_text("010-1234-5679")


def test_an_email_is_found_whatever_its_case() -> None:
    assert KIM.in_text("Contact: KIM.MINJUN@example.COM")
    assert not KIM.in_text("kim.minjun@example.co")


def test_ids_count_only_where_a_message_names_them() -> None:
    assert KIM.in_message('{"userId": "u-17", "event": "Order Completed"}')
    assert KIM.in_message('{"anonymous_id" : "u-17"}')
    assert not KIM.in_message('{"userId": "u-170"}')
    assert not KIM.in_message('{"order_id": "u-17"}')


def test_redaction_blanks_only_the_identifiers() -> None:
    value = {"note": "call 010-1234-5678 or mail kim.minjun@example.com", "count": 3}
    assert KIM.redact_json(value) == {"note": "call [erased] or mail [erased]", "count": 3}


def test_strip_records_cuts_whole_records_and_keeps_every_other_byte() -> None:
    content = (
        "name,email,phone\r\n"
        "Ann,ann@example.com,\r\n"
        '"Kim\nMinjun",kim.minjun@example.com,\r\n'
        "Lee,lee@example.com,010 1234 5678\r\n"
        "Park,park@example.com,u-17\r\n"
        "Choi,choi@example.com,\r\n"
    ).encode("utf-8-sig")
    stripped, cut = strip_records(content, KIM)
    assert cut == 3
    assert stripped == "name,email,phone\r\nAnn,ann@example.com,\r\nChoi,choi@example.com,\r\n".encode(
        "utf-8-sig"
    )


def test_strip_records_keeps_bytes_it_cannot_decode() -> None:
    content = "이름,email\n김민준,kim.minjun@example.com\n이영희,lee@example.com\n".encode("cp949")
    stripped, cut = strip_records(content, KIM)
    assert cut == 1 and stripped == "이름,email\n이영희,lee@example.com\n".encode("cp949")


def test_a_file_without_the_person_is_left_as_it_is() -> None:
    content = b"name,email\nAnn,ann@example.com\n"
    assert strip_records(content, KIM) == (content, 0)
