"""How fast event points fade: the half-life, in days, kept in instance_settings."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Connection, select

from patron.errors import Invalid
from patron.storage.schema import instance_settings
from patron.storage.statements import upsert

HALF_LIFE_KEY = "score_half_life_days"
DEFAULT_HALF_LIFE_DAYS = 30.0


def get_half_life_days(conn: Connection) -> float | None:
    """Days after which an event's points are worth half; None means points never fade."""
    stored = conn.execute(
        select(instance_settings.c.value).where(instance_settings.c.key == HALF_LIFE_KEY)
    ).scalar()
    if stored is None:
        return DEFAULT_HALF_LIFE_DAYS
    value = json.loads(stored)
    return float(value) if value else None


def set_half_life_days(conn: Connection, days: Any) -> float | None:
    """Store the half-life (a number of days > 0, or 0/None for no decay); returns it as stored."""
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days) or days < 0
    ):
        raise Invalid(
            "half_life_days must be a number of days (0 or null: points never fade)", field="half_life_days"
        )
    value = float(days) if days else None
    statement = upsert(conn, instance_settings, ["key"], ["value"]).values(
        key=HALF_LIFE_KEY, value=json.dumps(value)
    )
    conn.execute(statement)
    return value
