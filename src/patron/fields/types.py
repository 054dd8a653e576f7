"""Field types and the canonical JSON form of each, so values store and compare as their type.

Datetimes are kept as fixed-width UTC text (YYYY-MM-DDTHH:MM:SS.mmmZ) so that text order is
time order on both databases; dates as YYYY-MM-DD for the same reason.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from patron.quality.dates import parse_boolean, parse_date

FIELD_TYPES = ("string", "number", "boolean", "datetime", "date", "list", "object")

# Epoch values above this are milliseconds (the year 2286 in seconds).
_EPOCH_MS_THRESHOLD = 10_000_000_000


def coerce(field_type: str, value: Any) -> Any:
    """The canonical value of `value` as `field_type`; ValueError says why it is not one."""
    return _COERCERS[field_type](value)


def format_datetime(moment: datetime) -> str:
    """Fixed-width UTC text for a datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # isoformat is several times faster than strftime, and ingest formats every timestamp.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def infer_type(value: Any) -> str:
    """The field type a first-seen JSON value suggests (datetimes are not guessed from text)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "string"


def _string(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ValueError("expected text, got a JSON " + ("object" if isinstance(value, dict) else "list"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return _number(number)
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        answer = parse_boolean(value)
        if answer is not None:
            return answer
    raise ValueError(f"{value!r} is not true or false (use true/false, yes/no or 1/0)")


def _datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_datetime(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, bool):
        raise ValueError("expected a date and time, got true/false")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        return format_datetime(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds))
    if isinstance(value, str):
        text = value.strip()
        try:
            return format_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
        day = parse_date(text)  # keeps the date of texts with a time it cannot place exactly
        if day is not None:
            return format_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))
    raise ValueError(f"{value!r} is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00+09:00)")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        day = parse_date(text)
        if day is not None:
            return day.isoformat()
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, tuple | set):
        return list(value)
    if isinstance(value, str):
        separator = ";" if ";" in value else ","
        return [item.strip() for item in value.split(separator) if item.strip()]
    raise ValueError(f"expected a list, got {type(value).__name__}")


def _object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        import orjson

        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    raise ValueError("expected a JSON object")


_COERCERS = {
    "string": _string,
    "number": _number,
    "boolean": _boolean,
    "datetime": _datetime,
    "date": _date,
    "list": _list,
    "object": _object,
}
