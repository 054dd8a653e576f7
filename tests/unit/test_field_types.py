"""Field types: values are stored in one canonical form per type and compare as that type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.fields import coerce, format_datetime


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T10:00:00+09:00", "2024-03-01T01:00:00.000Z"),
        ("2024-03-01T01:00:00Z", "2024-03-01T01:00:00.000Z"),
        ("2024-03-01 01:00:00", "2024-03-01T01:00:00.000Z"),
        ("2024-03-01", "2024-03-01T00:00:00.000Z"),
        ("2024.03.01", "2024-03-01T00:00:00.000Z"),
        (1709254800, "2024-03-01T01:00:00.000Z"),
        (1709254800000, "2024-03-01T01:00:00.000Z"),
    ],
)
def test_datetimes_become_fixed_width_utc(raw: object, expected: str) -> None:
    assert coerce("datetime", raw) == expected


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
)
def test_text_order_of_stored_datetimes_is_time_order(a: datetime, b: datetime) -> None:
    a, b = (
        a.replace(microsecond=a.microsecond // 1000 * 1000),
        b.replace(microsecond=b.microsecond // 1000 * 1000),
    )
    assert (format_datetime(a) < format_datetime(b)) == (a < b)


def test_offsets_are_applied_not_dropped() -> None:
    seoul = datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert coerce("datetime", seoul) == "2024-03-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("field_type", "raw", "expected"),
    [
        ("number", "1,234.50", 1234.5),
        ("number", "42", 42),
        ("number", 3.0, 3),
        ("boolean", "yes", True),
        ("boolean", "아니오", False),
        ("boolean", 0, False),
        ("date", "1988.03.14", "1988-03-14"),
        ("date", "19880314", "1988-03-14"),
        ("list", "weekly,offers", ["weekly", "offers"]),
        ("list", "a; b", ["a", "b"]),
        ("object", '{"plan": "pro"}', {"plan": "pro"}),
        ("string", 12.0, "12"),
        ("string", "  padded ", "padded"),
    ],
)
def test_values_coerce_to_their_field_type(field_type: str, raw: object, expected: object) -> None:
    value = coerce(field_type, raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("field_type", "raw", "reason"),
    [
        ("number", "abc", "not a number"),
        ("number", True, "true/false"),
        ("boolean", "maybe", "not true or false"),
        ("datetime", "next tuesday", "not a date and time"),
        ("date", "2024-02-30", "not a real calendar date"),
        ("string", {"a": 1}, "JSON object"),
        ("object", "plain text", "JSON object"),
    ],
)
def test_values_that_do_not_fit_say_why(field_type: str, raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        coerce(field_type, raw)
