"""How often a person wants to hear from us, and a pause: stored, shown, proven in the ledger."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from patron.consent.ledger import Change, record
from patron.consent.model import AS_IT_HAPPENS, FREQUENCIES, FREQUENCY, PAUSE
from patron.errors import Invalid
from patron.storage.schema import contact_preferences
from patron.storage.statements import upsert
from patron.storage.types import utcnow

LOCALES = ("en", "ko")
MAX_PAUSE = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Preferences:
    """A person's frequency, pause and chosen language."""

    frequency: str = AS_IT_HAPPENS
    paused_until: datetime | None = None
    locale: str | None = None

    def paused(self, now: datetime) -> bool:
        """True while a pause is running."""
        return self.paused_until is not None and self.paused_until > now


def get_preferences(conn: Connection, profile_id: str) -> Preferences:
    """The stored preferences, or the defaults."""
    row = conn.execute(
        select(contact_preferences).where(contact_preferences.c.profile_id == profile_id)
    ).first()
    if row is None:
        return Preferences()
    return Preferences(row.frequency, row.paused_until, row.locale)


def set_preferences(
    conn: Connection,
    profile_id: str,
    *,
    frequency: str | None = None,
    paused_until: datetime | None | str = "",
    locale: str | None = None,
    proof: Change | None = None,
) -> Preferences:
    """Change what is given (paused_until=None ends a pause; "" leaves it); each change of
    frequency or pause is also written to the ledger with `proof`'s method, IP and source."""
    current = get_preferences(conn, profile_id)
    now = utcnow()
    changes: list[Change] = []
    base = proof or Change(channel="email", action=FREQUENCY, method="api")
    if frequency is not None and frequency != current.frequency:
        if frequency not in FREQUENCIES:
            raise Invalid(
                f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}", field="frequency"
            )
        changes.append(_change(base, FREQUENCY, {"frequency": frequency, "was": current.frequency}))
    else:
        frequency = current.frequency
    if paused_until != "":
        if isinstance(paused_until, datetime) and not now < paused_until <= now + MAX_PAUSE:
            raise Invalid("paused_until must be in the future and within a year", field="paused_until")
        if paused_until != current.paused_until:
            until = paused_until.isoformat() if isinstance(paused_until, datetime) else None
            changes.append(_change(base, PAUSE, {"until": until}))
    else:
        paused_until = current.paused_until
    if locale is not None and locale not in LOCALES:
        raise Invalid(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    updated = Preferences(frequency, paused_until, locale or current.locale)  # type: ignore[arg-type]
    conn.execute(
        upsert(
            conn, contact_preferences, ["profile_id"], ["frequency", "paused_until", "locale", "updated_at"]
        ),
        {
            "profile_id": profile_id,
            "frequency": updated.frequency,
            "paused_until": updated.paused_until,
            "locale": updated.locale,
            "updated_at": now,
        },
    )
    if changes:
        record(conn, profile_id, changes)
    return updated


def _change(base: Change, action: str, detail: dict[str, Any]) -> Change:
    return replace(base, action=action, topic="", occurred_at=None, expires_at=None, detail=detail)
