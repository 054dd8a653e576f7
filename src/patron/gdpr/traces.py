"""What identifies one person in stored text: their email addresses, phone numbers and ids, and
how to find (and blank out) them in raw messages, JSON, CSV records and log lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import phonenumbers
from sqlalchemy import ColumnElement, Text, cast, false, func, or_

from patron.identity.normalise import IdentityError, normalise_email, normalise_phone

ERASED = "[erased]"
# Characters people type between the digits of a phone number: "+82 (10) 1234-5678", "555.010.4477".
_PHONE_GAP = r"[\s().\-/]*"
# Segment's keys (and our column names) that carry a person's ids in a raw message.
_ID_KEYS = ("userId", "anonymousId", "previousId", "user_id", "anonymous_id", "previous_id")


@dataclass(frozen=True)
class Traces:
    """One person's identifiers: normalised emails, E.164 phones, and other ids (user, anonymous,
    external). Emails and phones are found anywhere in text; ids only where a message names them."""

    emails: frozenset[str]
    phones: frozenset[str]
    ids: frozenset[str]
    _patterns: list[re.Pattern[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = [re.compile(re.escape(email), re.IGNORECASE) for email in sorted(self.emails)]
        patterns += [_phone_pattern(phone) for phone in sorted(self.phones)]
        object.__setattr__(self, "_patterns", patterns)

    @classmethod
    def of(cls, identities: Iterable[tuple[str, str]], *, region: str | None = None) -> Traces:
        """From (kind, value) pairs; values need not be normalised (a trait as typed is fine)."""
        emails: set[str] = set()
        phones: set[str] = set()
        ids: set[str] = set()
        for kind, value in identities:
            if not isinstance(value, str) or not value.strip():
                continue
            if kind == "email":
                emails.add(_email_or_raw(value))
            elif kind == "phone":
                try:
                    phones.add(normalise_phone(value, region))
                except IdentityError:
                    continue  # not a number: nothing to find in text
            else:
                ids.add(value.strip())
        return cls(frozenset(emails), frozenset(phones), frozenset(ids))

    @property
    def is_empty(self) -> bool:
        """True when the person has nothing that could be searched for."""
        return not (self.emails or self.phones or self.ids)

    def in_text(self, text: str) -> bool:
        """True when `text` holds one of the emails or phone numbers (in any typed form)."""
        return any(pattern.search(text) for pattern in self._patterns)

    def in_message(self, text: str) -> bool:
        """True when a raw message (JSON, possibly cut short) holds an email or phone, or names
        one of the ids under userId, anonymousId or previousId."""
        if self.in_text(text):
            return True
        return any(_id_pattern(value).search(text) for value in self.ids)

    def in_record(self, cells: Iterable[str]) -> bool:
        """True when a CSV record holds an email or phone, or a cell equal to one of the ids.

        Over-matching an id here costs a line of an already imported upload; missing one would
        keep the person's row."""
        values = [cell.strip() for cell in cells]
        return any(value in self.ids for value in values) or self.in_text("\x1f".join(values))

    def in_json(self, value: Any) -> bool:
        """True when a JSON value holds an email or phone anywhere."""
        return self.in_text(orjson.dumps(value).decode())

    def redact_text(self, text: str) -> str:
        """`text` with every email and phone number replaced by [erased]."""
        for pattern in self._patterns:
            text = pattern.sub(ERASED, text)
        return text

    def redact_json(self, value: Any) -> Any:
        """A JSON value with every string (and key) holding an email or phone replaced by [erased]."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        if isinstance(value, dict):
            return {self.redact_text(str(k)): self.redact_json(v) for k, v in value.items()}
        return value

    def sql_prefilter(self, *columns: ColumnElement[Any], with_ids: bool = False) -> ColumnElement[bool]:
        """A cheap SQL condition every row holding an email or phone (and with `with_ids`, an id)
        in `columns` meets: the email, the phone's last four digits, the id. Rows it lets through
        are confirmed in Python (`in_text`, `in_message`)."""
        needles = sorted(self.emails) + sorted({phone[-4:] for phone in self.phones})
        if with_ids:
            needles += sorted(self.ids)
        if not needles:
            return false()
        return or_(
            *(
                func.lower(cast(column, Text)).contains(needle.lower(), autoescape=True)
                for column in columns
                for needle in needles
            )
        )


def _email_or_raw(value: str) -> str:
    try:
        return normalise_email(value)
    except IdentityError:
        return value.strip().lower()


def _phone_pattern(e164: str) -> re.Pattern[str]:
    """E.164 or national form, with or without the country code, trunk 0 and separators."""
    try:
        number = phonenumbers.parse(e164, None)
        national = str(number.national_number)
        country = str(number.country_code)
    except phonenumbers.NumberParseException:
        national, country = e164.lstrip("+"), ""
    digits = _PHONE_GAP.join(re.escape(d) for d in national)
    prefix = rf"(?:(?:\+|00)?{_PHONE_GAP}{country}{_PHONE_GAP})?" if country else ""
    return re.compile(rf"(?<!\d){prefix}(?:0{_PHONE_GAP})?{digits}(?!\d)")


def _id_pattern(value: str) -> re.Pattern[str]:
    quoted = re.escape(orjson.dumps(value).decode())
    keys = "|".join(_ID_KEYS)
    return re.compile(rf'"(?:{keys})"\s*:\s*{quoted}')
