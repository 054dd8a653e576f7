"""Signed links for public pages: preference centre, unsubscribe, double opt-in confirmation.

A token names the profile, the channel and (where relevant) the topic, and is signed with the
instance's secret key; it needs no database row, so old mail keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection

from patron.config import Settings
from patron.errors import LinkExpired, LinkInvalid
from patron.storage.secret import secret_key

PREFERENCES, UNSUBSCRIBE, CONFIRM = "p", "u", "c"
KINDS = (PREFERENCES, UNSUBSCRIBE, CONFIRM)
_SALT = "patron.public-links"


@dataclass(frozen=True, slots=True)
class LinkToken:
    """What a public link stands for."""

    kind: str
    profile_id: str
    channel: str = "email"
    topic: str = ""
    # For confirmations: the ledger rows of the requests one mail confirms.
    request_ids: tuple[int, ...] = ()

    def payload(self) -> dict[str, Any]:
        """The compact signed form."""
        data: dict[str, Any] = {"k": self.kind, "p": self.profile_id, "c": self.channel}
        if self.topic:
            data["t"] = self.topic
        if self.request_ids:
            data["r"] = list(self.request_ids)
        return data


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def sign(secret: str, token: LinkToken) -> str:
    """The URL-safe token string."""
    return _serializer(secret).dumps(token.payload())


def verify(secret: str, raw: str, *, kind: str, max_age_s: int) -> LinkToken:
    """The token's contents; LinkInvalid when tampered or of another kind, LinkExpired when old."""
    try:
        data = _serializer(secret).loads(raw, max_age=max_age_s)
    except SignatureExpired as exc:
        raise LinkExpired("this link has expired", details={"issued_at": str(exc.date_signed)}) from None
    except BadSignature:
        raise LinkInvalid("this link is not valid: it may have been changed or cut short") from None
    if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data.get("p"), str):
        raise LinkInvalid("this link is not valid here")
    requests = data.get("r") or []
    if not isinstance(requests, list) or not all(isinstance(r, int) for r in requests):
        raise LinkInvalid("this link is not valid here")
    return LinkToken(kind, data["p"], str(data.get("c", "email")), str(data.get("t", "")), tuple(requests))


def max_age(settings: Settings, kind: str) -> int:
    """How long a kind of link keeps working, in seconds."""
    if kind == CONFIRM:
        return settings.confirm_link_ttl_hours * 3600
    return settings.link_ttl_days * 86400


def make_url(conn: Connection, settings: Settings, token: LinkToken) -> str:
    """The absolute URL of a public page for `token`."""
    prefix = {PREFERENCES: "/p/", UNSUBSCRIBE: "/u/", CONFIRM: "/confirm/"}[token.kind]
    return settings.base_url.rstrip("/") + prefix + sign(secret_key(conn, settings), token)


def read(conn: Connection, settings: Settings, raw: str, kind: str) -> LinkToken:
    """Verify a token from a URL with this instance's key and the kind's lifetime."""
    return verify(secret_key(conn, settings), raw, kind=kind, max_age_s=max_age(settings, kind))


def links_for(
    conn: Connection, settings: Settings, profile_id: str, *, channel: str = "email", topic: str = ""
) -> dict[str, str]:
    """{"preferences", "unsubscribe"}: signed URLs for a profile (unsubscribe from `topic`, or all)."""
    return {
        "preferences": make_url(conn, settings, LinkToken(PREFERENCES, profile_id, channel)),
        "unsubscribe": make_url(conn, settings, LinkToken(UNSUBSCRIBE, profile_id, channel, topic)),
    }


def list_unsubscribe_headers(
    conn: Connection, settings: Settings, profile_id: str, *, topic: str = ""
) -> dict[str, str]:
    """The RFC 2369 and RFC 8058 headers every marketing mail carries (Gmail and Yahoo require
    one-click unsubscribe from bulk senders): the unsubscribe link, and that a POST to it is enough."""
    url = make_url(conn, settings, LinkToken(UNSUBSCRIBE, profile_id, "email", topic))
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
