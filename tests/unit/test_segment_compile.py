"""Moments relative to now: calendar months and years, fixed minutes to weeks; the compiler and the
test oracle count them the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.segments.compile import moment
from tests import segment_oracle

END_OF_MARCH = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
LEAP_DAY = datetime(2024, 2, 29, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("relative", "now", "expected"),
    [
        ({}, END_OF_MARCH, END_OF_MARCH),
        ({"minus": 1, "unit": "months"}, END_OF_MARCH, datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
        ({"minus": 6, "unit": "months"}, END_OF_MARCH, datetime(2025, 9, 30, 12, 0, tzinfo=UTC)),
        ({"plus": 1, "unit": "months"}, END_OF_MARCH, datetime(2026, 4, 30, 12, 0, tzinfo=UTC)),
        ({"minus": 1, "unit": "years"}, LEAP_DAY, datetime(2023, 2, 28, 8, 30, tzinfo=UTC)),
        ({"plus": 4, "unit": "years"}, LEAP_DAY, datetime(2028, 2, 29, 8, 30, tzinfo=UTC)),
        ({"minus": 30, "unit": "days"}, END_OF_MARCH, datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
        ({"minus": 2, "unit": "weeks"}, END_OF_MARCH, datetime(2026, 3, 17, 12, 0, tzinfo=UTC)),
        ({"plus": 90, "unit": "minutes"}, END_OF_MARCH, datetime(2026, 3, 31, 13, 30, tzinfo=UTC)),
        ({"minus": 1.5, "unit": "hours"}, END_OF_MARCH, datetime(2026, 3, 31, 10, 30, tzinfo=UTC)),
    ],
)
def test_moments_count_calendar_months_and_fixed_days(
    relative: dict[str, Any], now: datetime, expected: datetime
) -> None:
    assert moment(relative, now) == expected


@given(
    sign=st.sampled_from(("minus", "plus")),
    amount=st.integers(1, 500),
    unit=st.sampled_from(("minutes", "hours", "days", "weeks", "months", "years")),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
    ),
)
def test_the_compiler_and_the_oracle_agree_on_every_moment(
    sign: str, amount: int, unit: str, now: datetime
) -> None:
    relative = {sign: amount, "unit": unit}
    assert moment(relative, now) == segment_oracle.moment(relative, now)
    if unit not in ("months", "years"):
        assert abs(moment(relative, now) - now) == timedelta(**{unit: amount})


def test_a_trait_named_in_korean_can_be_used_in_a_segment() -> None:
    from patron.fields.definitions import is_field_name
    from patron.segments import check_tree, parse

    assert is_field_name("구매_횟수")
    assert parse("구매_횟수 >= 3") == {"trait": "구매_횟수", "op": ">=", "value": 3}
    check_tree({"event": "주문 완료", "agg": "count", "where": [{"property": "금액", "op": ">", "value": 3}],
                "op": ">=", "value": 1})  # fmt: skip
