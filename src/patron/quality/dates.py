"""Dates and yes/no values as people write them in spreadsheets and forms, Korean forms included.

Two-digit years are never guessed ('24.03.15' could be three different days): they are not dates here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

TRUE_WORDS = frozenset(
    {"true", "t", "yes", "y", "1", "on", "checked", "subscribed", "opt-in", "optin", "opt in", "opted in"}
    | {"예", "네", "참", "동의", "동의함", "수신", "수신동의"}
)
FALSE_WORDS = frozenset(
    {"false", "f", "no", "n", "0", "off", "unchecked", "unsubscribed", "opt-out", "optout", "opt out"}
    | {"opted out", "아니오", "아니요", "거짓", "미동의", "비동의", "동의안함", "거부", "수신거부", "미수신"}
)
_BOOLEANS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
# A time of day after the date is ignored: exports write '2024. 3. 15. 오후 3:24:56' (Korean sheets),
# '03/15/2024 10:00 AM', 'Sat, 15 Mar 2024 10:00:00 +0000'. Hours and minutes must be real ones.
_TIME = (
    r"(?:,?(?:\s+|T)(?:오전|오후|am|pm)?\s*(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:\s*(?:am|pm))?(?:\s*(?:z|gmt|utc|[+-]\d{2}:?\d{2}))?)?"
)

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Year first, any of - / . between (mixed too), optional spaces and trailing dot: '2024. 3. 15.' is Korean.
_YEAR_FIRST = re.compile(rf"^(\d{{4}})\s*[-/.]\s*(\d{{1,2}})\s*[-/.]\s*(\d{{1,2}})\.?{_TIME}$", re.IGNORECASE)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_KOREAN = re.compile(r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?$")
_YEAR_LAST = re.compile(rf"^(\d{{1,2}})\s*([-/.])\s*(\d{{1,2}})\s*\2\s*(\d{{4}})\.?{_TIME}$", re.IGNORECASE)
_MONTH_FIRST = re.compile(
    rf"^{_WEEKDAY}{_MONTH}\s*(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}}){_TIME}$", re.IGNORECASE
)
_DAY_FIRST = re.compile(
    rf"^{_WEEKDAY}(\d{{1,2}}){_ORDINAL}(?:\s+|-)(?:of\s+)?{_MONTH},?(?:\s+|-)(\d{{4}}){_TIME}$", re.IGNORECASE
)
_ISO_DATETIME = re.compile(r"^\d{4}-?\d{2}-?\d{2}[T ]\d", re.IGNORECASE)


def parse_date(text: str, *, day_first: bool = False) -> date | None:
    """The date `text` writes; None when it does not look like a date, ValueError when impossible."""
    return _parse_date(text.strip(), day_first)


# Imports repeat the same dates (sign-up days, birthdays) across many rows.
@lru_cache(maxsize=16384)
def _parse_date(text: str, day_first: bool) -> date | None:
    match = _ISO.match(text) or _YEAR_FIRST.match(text) or _COMPACT.match(text) or _KOREAN.match(text)
    if match is not None:
        year, month, day = match.groups()
        return _real_date(text, int(year), int(month), int(day))
    match = _YEAR_LAST.match(text)
    if match is not None:
        first, separator, second, year = match.groups()
        return _day_month_year(text, int(first), int(second), int(year), day_first or separator == ".")
    match = _MONTH_FIRST.match(text)
    if match is not None:
        month, day, year = match.groups()
        return _real_date(text, int(year), _MONTHS[month.lower()], int(day))
    match = _DAY_FIRST.match(text)
    if match is not None:
        day, month, year = match.groups()
        return _real_date(text, int(year), _MONTHS[month.lower()], int(day))
    if _ISO_DATETIME.match(text):
        return _iso_datetime_date(text)
    return None


def parse_boolean(text: str) -> bool | None:
    """True or False for a yes/no word in English or Korean (any case, trimmed); None otherwise."""
    return _BOOLEANS.get(text.strip().lower())


def _day_month_year(text: str, first: int, second: int, year: int, day_first: bool) -> date:
    # Only one reading is possible when a number is over 12, whatever the convention says.
    if first > 12 >= second:
        day_first = True
    elif second > 12 >= first:
        day_first = False
    if day_first:
        return _real_date(text, year, second, first)
    return _real_date(text, year, first, second)


def _real_date(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date") from None


def _iso_datetime_date(text: str) -> date:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).date()
    except ValueError:
        pass
    head = text[:10] if text[4:5] == "-" else text[:8]
    day = _COMPACT.match(head.replace("-", ""))
    if day is not None:
        _real_date(text, *(int(part) for part in day.groups()))  # raises for '2024-02-30T...'
    raise ValueError(f"{text!r} is not a real date and time")
