"""Segment Tracking API messages: validated and normalised one by one, fast.

A message that passes is stored as it arrived, normalised (ids as text, traits from the top
level and context.traits merged, timestamps corrected for the sender's clock). One that
fails says which field and why; the rest of its batch is unaffected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from patron.fields.types import format_datetime
from patron.identity.rules import IdentityRules

TYPES = ("identify", "track", "page", "screen", "group", "alias")
MAX_EVENT_BYTES = 32 * 1024
MAX_EVENT_NAME = 200
MAX_ID_LENGTH = 512
MAX_MESSAGE_ID = 128
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")


class MessageError(ValueError):
    """Why one message cannot be accepted, naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Accepted:
    """A normalised message, ready to store."""

    message: dict[str, Any]
    message_id: str


def normalise_message(
    raw: Any, *, type_hint: str | None, received_at: datetime, sent_at: datetime | None, rules: IdentityRules
) -> Accepted:
    """The stored form of one message; MessageError says what is wrong with it."""
    if not isinstance(raw, dict):
        raise MessageError("message", f"expected a JSON object, got {type(raw).__name__}")
    kind = raw.get("type") or type_hint
    if kind not in TYPES:
        raise MessageError("type", f"{kind!r} is not one of {', '.join(TYPES)}")
    for name in _OBJECT_FIELDS:
        value = raw.get(name)
        if value is not None and not isinstance(value, dict):
            raise MessageError(name, f"expected a JSON object, got {type(value).__name__}")
    context = raw.get("context") or {}
    user_id = _identifier(raw.get("userId"), "userId", rules)
    anonymous_id = _identifier(raw.get("anonymousId"), "anonymousId", rules)
    message: dict[str, Any] = {"type": kind}
    if kind == "alias":
        previous_id = _identifier(raw.get("previousId"), "previousId", rules)
        if user_id is None or previous_id is None:
            raise MessageError(
                "userId" if user_id is None else "previousId", "alias needs userId and previousId"
            )
        message["previousId"] = previous_id
    elif user_id is None and anonymous_id is None:
        raise MessageError("userId", _missing_id_reason(raw, rules))
    if user_id is not None:
        message["userId"] = user_id
    if anonymous_id is not None:
        message["anonymousId"] = anonymous_id
    if kind == "track":
        event = raw.get("event")
        if not isinstance(event, str) or not event.strip():
            raise MessageError("event", "a track call needs the event's name")
        if len(event) > MAX_EVENT_NAME:
            raise MessageError("event", f"is longer than {MAX_EVENT_NAME} characters")
        message["event"] = event.strip()
        message["properties"] = raw.get("properties") or {}
    elif kind in ("page", "screen"):
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            raise MessageError("name", "expected text")
        if name:
            message["name"] = name[:MAX_EVENT_NAME]
        message["properties"] = raw.get("properties") or {}
    elif kind in ("identify", "group"):
        # rudder-sdk-python puts identify traits in context.traits; the top level wins.
        traits = raw.get("traits") or {}
        context_traits = context.get("traits") if kind == "identify" else None
        if isinstance(context_traits, dict) and context_traits:
            traits = {**context_traits, **traits}
        message["traits"] = traits
        if kind == "group":
            group_id = _identifier(raw.get("groupId"), "groupId", rules)
            if group_id is None:
                raise MessageError("groupId", "a group call needs groupId")
            message["groupId"] = group_id
    message["context"] = context
    message_id = raw.get("messageId")
    if message_id is None:
        message_id = str(uuid.uuid4())
    elif not isinstance(message_id, str) or not message_id or len(message_id) > MAX_MESSAGE_ID:
        raise MessageError("messageId", f"expected text of 1 to {MAX_MESSAGE_ID} characters")
    message["messageId"] = message_id
    _timestamps(raw, message, received_at, sent_at)
    if len(orjson.dumps(message)) > MAX_EVENT_BYTES:
        raise MessageError("message", f"is larger than {MAX_EVENT_BYTES // 1024} KB, the limit per event")
    return Accepted(message, message_id)


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time (or None); MessageError for anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise MessageError(field, f"{value!r} is not an ISO 8601 time")


def _timestamps(
    raw: dict[str, Any], message: dict[str, Any], received_at: datetime, sent_at: datetime | None
) -> None:
    """timestamp = receivedAt - (sentAt - timestamp): the sender's clock may be wrong, its
    intervals are not (Segment's clock-skew correction)."""
    original = parse_time(raw.get("timestamp"), "timestamp")
    own_sent = raw.get("sentAt")
    sent = parse_time(own_sent, "sentAt") if own_sent is not None else sent_at
    if original is not None and sent is not None:
        corrected = received_at - (sent - original)
    else:
        corrected = original or received_at
    message["timestamp"] = format_datetime(corrected)
    if original is not None:
        message["originalTimestamp"] = format_datetime(original)
    if sent is not None:
        message["sentAt"] = _formatted(sent)
    message["receivedAt"] = _formatted(received_at)


@lru_cache(maxsize=64)
def _formatted(moment: datetime) -> str:
    # One request's messages share receivedAt (and usually sentAt): format each once.
    return format_datetime(moment)


def _identifier(value: Any, field: str, rules: IdentityRules) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if not isinstance(value, str):
        raise MessageError(field, f"expected text, got {type(value).__name__}")
    text = value.strip()
    if rules.is_blocked(text):
        return None
    if len(text) > MAX_ID_LENGTH:
        raise MessageError(field, f"is longer than {MAX_ID_LENGTH} characters")
    return text


def _missing_id_reason(raw: dict[str, Any], rules: IdentityRules) -> str:
    given = [f"{key} {raw[key]!r}" for key in ("userId", "anonymousId") if raw.get(key) not in (None, "")]
    if given:
        return f"userId or anonymousId is required; {' and '.join(given)} identify no one (blocked values)"
    return "userId or anonymousId is required"
