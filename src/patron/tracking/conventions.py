"""Naming conventions for events, properties and traits: does a name follow the agreed style?"""

from __future__ import annotations

import re
from functools import lru_cache

from patron.errors import Invalid

NAMING_STYLES = ("object_action", "snake_case", "camel_case", "none")

_SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_CAMEL_CASE = re.compile(r"[a-z][a-zA-Z0-9]*")
# Separators people put between words, and camelCase boundaries: used to suggest a better name.
_SEPARATORS = re.compile(r"[\s_\-.:/]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_LABELS = {
    "object_action": (
        '"Object Action" Title Case',
        "two or more capitalised words separated by single spaces, e.g. 'Order Completed'",
    ),
    "snake_case": (
        "snake_case",
        "lower-case letters, digits and single underscores, starting with a letter, e.g. 'order_id'",
    ),
    "camel_case": ("camelCase", "letters and digits starting with a lower-case letter, e.g. 'orderId'"),
}


# Cached: at ingest the same few names come back millions of times.
@lru_cache(maxsize=65536)
def check_name(style: str, name: str) -> str | None:
    """None when `name` follows `style`, else a short reason with an example of a name that would."""
    if style == "none":
        return None
    if style == "object_action":
        follows = _is_object_action(name)
    elif style == "snake_case":
        follows = _SNAKE_CASE.fullmatch(name) is not None
    elif style == "camel_case":
        follows = _CAMEL_CASE.fullmatch(name) is not None
    else:
        raise Invalid(f"{style!r} is not a naming style ({', '.join(NAMING_STYLES)})", field="style")
    if follows:
        return None
    label, rule = _LABELS[style]
    suggestion = _suggest(style, name)
    if suggestion and suggestion != name and check_name(style, suggestion) is None:
        return f"{name!r} is not {label} (e.g. {suggestion!r})"
    return f"{name!r} is not {label} ({rule})"


def _is_object_action(name: str) -> bool:
    words = name.split(" ")
    return len(words) >= 2 and all(
        word and _starts_a_word(word[0]) and not _has_space(word) for word in words
    )


def _starts_a_word(char: str) -> bool:
    # Hangul (like any script without case) cannot be capitalised, so its words pass as they are.
    return char.isdigit() or (char.isalpha() and not char.islower())


def _has_space(word: str) -> bool:
    return any(char.isspace() for char in word)


def _suggest(style: str, name: str) -> str:
    chunks = [chunk for chunk in _SEPARATORS.split(name) if chunk]
    words = [word for chunk in chunks for word in _CAMEL_BOUNDARY.split(chunk) if word]
    if not words:
        return ""
    if style == "object_action":
        # Keep words people already separated ('iOS App Opened'); split camelCase only when there are none.
        return " ".join(word[:1].upper() + word[1:] for word in (chunks if len(chunks) > 1 else words))
    if style == "snake_case":
        return "_".join(word.lower() for word in words)
    return words[0].lower() + "".join(word[:1].upper() + word[1:].lower() for word in words[1:])
