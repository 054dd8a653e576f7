"""Topics people subscribe to per channel: create, list, change, archive."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from patron.consent.model import CHANNELS, OPT_IN_POLICY, TOPIC_POLICIES
from patron.consent.regions import check_region
from patron.errors import Conflict, Invalid, NotFound
from patron.storage.schema import topics
from patron.storage.types import utcnow

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LANGUAGES = ("en", "ko")


@dataclass(frozen=True, slots=True)
class Topic:
    """A subject people can subscribe to on some channels."""

    key: str
    name: str
    description: str = ""
    default: str = OPT_IN_POLICY
    channels: tuple[str, ...] = ("email",)
    region_defaults: dict[str, str] = field(default_factory=dict)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    position: int = 0
    archived_at: datetime | None = None
    created_at: datetime | None = None

    def default_in(self, country: str | None) -> str:
        """opt_in or opt_out for a person in `country`."""
        if country and country.upper() in self.region_defaults:
            return self.region_defaults[country.upper()]
        return self.default

    def name_in(self, language: str) -> str:
        """The topic's name in a language, English when there is no translation."""
        return self.translations.get(language, {}).get("name") or self.name

    def description_in(self, language: str) -> str:
        """The description in a language, English when there is no translation."""
        return self.translations.get(language, {}).get("description") or self.description

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "default": self.default,
            "channels": list(self.channels),
            "region_defaults": self.region_defaults,
            "translations": self.translations,
            "position": self.position,
            "archived": self.archived_at is not None,
        }


def _topic(row: Any) -> Topic:
    return Topic(
        key=row.key,
        name=row.name,
        description=row.description,
        default=row.default_policy,
        channels=tuple(row.channels),
        region_defaults=dict(row.region_defaults),
        translations=dict(row.translations),
        position=row.position,
        archived_at=row.archived_at,
        created_at=row.created_at,
    )


def list_topics(conn: Connection, *, include_archived: bool = False) -> list[Topic]:
    """Topics in display order."""
    query = select(topics).order_by(topics.c.position, topics.c.key)
    if not include_archived:
        query = query.where(topics.c.archived_at.is_(None))
    return [_topic(row) for row in conn.execute(query)]


def get_topic(conn: Connection, key: str) -> Topic:
    """One topic; NotFound when there is none."""
    row = conn.execute(select(topics).where(topics.c.key == key)).first()
    if row is None:
        raise NotFound(f"no topic {key!r}", field="topic")
    return _topic(row)


def topic_keys(conn: Connection) -> set[str]:
    """Keys of every topic, archived ones too (their ledger rows stay meaningful)."""
    return set(conn.execute(select(topics.c.key)).scalars())


def create_topic(conn: Connection, data: Mapping[str, Any]) -> Topic:
    """Add a topic from its API form; Conflict when the key is taken."""
    values = _values(data, creating=True)
    if conn.execute(select(topics.c.key).where(topics.c.key == values["key"])).first():
        raise Conflict(f"topic {values['key']!r} already exists", field="key")
    now = utcnow()
    if "position" not in values:
        values["position"] = (conn.execute(select(func.max(topics.c.position))).scalar() or 0) + 1
    conn.execute(insert(topics).values(**values, created_at=now, updated_at=now))
    return get_topic(conn, values["key"])


def update_topic(conn: Connection, key: str, data: Mapping[str, Any]) -> Topic:
    """Change a topic's name, description, default, channels or translations; `archived`
    true hides it from public pages while keeping its history."""
    get_topic(conn, key)
    values = _values(data, creating=False)
    if "archived" in data:
        values["archived_at"] = utcnow() if data["archived"] else None
    conn.execute(update(topics).where(topics.c.key == key).values(**values, updated_at=utcnow()))
    return get_topic(conn, key)


def _values(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    known = {"key", "name", "description", "default", "channels", "region_defaults", "translations",
             "position", "archived"}  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise Invalid(
            f"unknown field {unknown[0]!r}; topics take {', '.join(sorted(known))}", field=unknown[0]
        )
    values: dict[str, Any] = {}
    if creating:
        key = data.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise Invalid(
                "key must start with a lower-case letter and hold only a-z, 0-9 and _ (at most 64)",
                field="key",
            )
        values["key"] = key
        values.setdefault("name", key.replace("_", " ").capitalize())
        values.update(description="", default_policy=OPT_IN_POLICY, channels=["email"],
                      region_defaults={}, translations={})  # fmt: skip
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise Invalid("name must be text of 1 to 200 characters", field="name")
        values["name"] = name.strip()
    if "description" in data:
        if not isinstance(data["description"], str):
            raise Invalid("description must be text", field="description")
        values["description"] = data["description"].strip()
    if "default" in data:
        if data["default"] not in TOPIC_POLICIES:
            raise Invalid(f"default must be opt_in or opt_out, not {data['default']!r}", field="default")
        values["default_policy"] = data["default"]
    if "channels" in data:
        channels = data["channels"]
        if not isinstance(channels, list) or not channels or any(c not in CHANNELS for c in channels):
            raise Invalid(f"channels must be a non-empty list of {', '.join(CHANNELS)}", field="channels")
        values["channels"] = list(dict.fromkeys(channels))
    if "region_defaults" in data:
        given = data["region_defaults"]
        if not isinstance(given, dict) or any(v not in TOPIC_POLICIES for v in given.values()):
            raise Invalid("region_defaults maps country codes to opt_in or opt_out", field="region_defaults")
        values["region_defaults"] = {check_region(k): v for k, v in given.items()}
    if "translations" in data:
        given = data["translations"]
        if not isinstance(given, dict) or any(
            lang not in LANGUAGES or not isinstance(v, dict) for lang, v in given.items()
        ):
            raise Invalid(
                'translations maps a language (en, ko) to {"name", "description"}', field="translations"
            )
        values["translations"] = {
            lang: {k: str(v[k]) for k in ("name", "description") if v.get(k)} for lang, v in given.items()
        }
    if "position" in data:
        if not isinstance(data["position"], int):
            raise Invalid("position must be a whole number", field="position")
        values["position"] = data["position"]
    return values
