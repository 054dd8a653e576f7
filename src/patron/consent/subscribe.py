"""Consent changes as use cases: grant (with double opt-in where the region needs proof),
withdraw, confirm a request, and let lapsed consents and requests expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Connection, select

from patron.config import Settings
from patron.consent import tokens
from patron.consent.ledger import Change, ledger_row, record, record_many, states_of
from patron.consent.model import (
    CONFIRM,
    EXPIRE,
    GRANT,
    NONE,
    OPT_OUT,
    PENDING,
    REQUEST,
    SUBSCRIBED,
    WITHDRAW,
)
from patron.consent.preferences import get_preferences
from patron.consent.regions import model_for, policies
from patron.consent.topics import get_topic
from patron.dedupe.history import survivor_of
from patron.errors import Invalid, LinkExpired, LinkInvalid, NotFound
from patron.jobs import enqueue
from patron.profiles import get_profile
from patron.storage.schema import consent_states
from patron.storage.types import utcnow

CONFIRMATION_JOB = "consent_confirmation"
# Ways of subscribing where the person typed an address we have not yet seen them control.
UNPROVEN_METHODS = ("form", "api")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a consent change did."""

    profile_id: str
    channel: str
    topic: str
    state: str
    ledger_id: int
    confirmation_sent: bool = False
    # Every topic a confirmation covered (one mail can confirm several sign-ups).
    topics: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "profile_id": self.profile_id,
            "channel": self.channel,
            "topic": self.topic or None,
            "state": self.state,
            "ledger_id": self.ledger_id,
            "confirmation_sent": self.confirmation_sent,
        }


def needs_double_opt_in(conn: Connection, profile_id: str, change: Change) -> bool:
    """True when a grant must wait for a confirmation: consent typed into a form or sent by an
    API client, for a person whose region requires proof of express consent."""
    if change.action != GRANT or change.legal_basis != "consent" or change.method not in UNPROVEN_METHODS:
        return False
    country = get_profile(conn, profile_id).traits.get("country")
    return model_for(policies(conn), country) != OPT_OUT


def change_consent(
    conn: Connection,
    settings: Settings,
    profile_id: str,
    change: Change,
    *,
    double_opt_in: bool | None = None,
    send_confirmation: bool = True,
) -> Outcome:
    """Record a grant or withdrawal. A grant that needs double opt-in (by region, or because
    `double_opt_in` is true) is recorded as a request and a confirmation mail is queued
    (unless `send_confirmation` is false: the caller then queues one mail for several requests
    with `queue_confirmation`)."""
    if change.action not in (GRANT, WITHDRAW):
        raise Invalid("action must be grant or withdraw", field="action")
    if change.topic:
        try:
            topic = get_topic(conn, change.topic)
        except NotFound:
            raise Invalid(
                f"there is no topic {change.topic!r}; create it first (POST /api/v1/topics)", field="topic"
            ) from None
        if change.channel not in topic.channels:
            raise Invalid(f"topic {topic.key!r} is not offered on {change.channel}", field="channel")
    confirm = needs_double_opt_in(conn, profile_id, change) if double_opt_in is None else double_opt_in
    confirm = confirm and change.action == GRANT
    if confirm and change.channel != "email":
        raise Invalid(
            "double opt-in is by email; send double_opt_in: false for other channels", field="channel"
        )
    if confirm:
        if not get_profile(conn, profile_id).traits.get("email"):
            raise Invalid("this person has no email address to confirm the subscription with", field="email")
        expires = utcnow() + timedelta(hours=settings.confirm_link_ttl_hours)
        change = _with(change, action=REQUEST, expires_at=expires)
    current = _state(conn, profile_id, change.channel, change.topic)
    if confirm and current == SUBSCRIBED:
        (ledger_id,) = record(conn, profile_id, [_with(change, action=REQUEST)])
        return Outcome(profile_id, change.channel, change.topic, SUBSCRIBED, ledger_id)
    (ledger_id,) = record(conn, profile_id, [change])
    if confirm and send_confirmation:
        queue_confirmation(conn, [ledger_id])
    state = _state(conn, profile_id, change.channel, change.topic)
    return Outcome(profile_id, change.channel, change.topic, state, ledger_id, confirm and send_confirmation)


def queue_confirmation(conn: Connection, request_ids: Sequence[int]) -> int:
    """Queue one double opt-in mail confirming all of `request_ids` (one person's requests)."""
    return enqueue(conn, CONFIRMATION_JOB, {"ledger_ids": list(request_ids)}, max_attempts=8)


def confirm_request(
    conn: Connection, settings: Settings, raw_token: str, *, ip: str | None, user_agent: str | None
) -> Outcome:
    """Confirm the double opt-in requests of a link; idempotent for requests already confirmed."""
    token = tokens.read(conn, settings, raw_token, tokens.CONFIRM)
    requests = [ledger_row(conn, request_id) for request_id in token.request_ids]
    if not requests or any(r is None or r.action != REQUEST for r in requests):
        raise LinkInvalid("this confirmation link does not match a subscription request")
    profile_id = survivor(conn, requests[0].profile_id)  # type: ignore[union-attr]
    stored = states_of(conn, [profile_id]).get(profile_id, {})
    confirmed: list[tuple[str, int]] = []
    changes: list[Change] = []
    for request in requests:
        assert request is not None
        row = stored.get((request.channel, request.topic))
        if row is not None and row.state == SUBSCRIBED and row.ledger_id >= request.id:
            confirmed.append((request.topic, row.ledger_id))  # confirmed before: a second click
        elif row is not None and row.state == PENDING and row.ledger_id == request.id:
            changes.append(
                Change(
                    channel=request.channel,
                    action=CONFIRM,
                    topic=request.topic,
                    legal_basis=request.legal_basis,
                    method=request.method,
                    notice_text=request.notice_text,
                    notice_version=request.notice_version,
                    source=request.source,
                    ip=ip,
                    user_agent=user_agent,
                    actor="subscriber",
                    detail={"request_id": request.id},
                )
            )
    for change, ledger_id in zip(changes, record(conn, profile_id, changes), strict=True):
        confirmed.append((change.topic, ledger_id))
    if not confirmed:
        raise LinkExpired("this confirmation has lapsed or was replaced; please sign up again")
    topics = tuple(topic for topic, _ in confirmed)
    channel = requests[0].channel  # type: ignore[union-attr]
    return Outcome(profile_id, channel, topics[0], SUBSCRIBED, confirmed[0][1], topics=topics)


def expire_lapsed(conn: Connection, *, now: datetime | None = None) -> int:
    """Write an expire row for every unconfirmed request and implied consent past its time."""
    now = now or utcnow()
    query = select(
        consent_states.c.profile_id,
        consent_states.c.channel,
        consent_states.c.topic,
        consent_states.c.legal_basis,
    ).where(
        consent_states.c.expires_at.is_not(None),
        consent_states.c.expires_at <= now,
        consent_states.c.state.in_([PENDING, SUBSCRIBED]),
    )
    rows = conn.execute(query).all()
    record_many(
        conn,
        [
            (
                pid,
                Change(
                    channel=channel,
                    action=EXPIRE,
                    topic=topic,
                    legal_basis=basis or "consent",
                    method="system",
                    actor="expiry",
                    occurred_at=now,
                ),
            )  # fmt: skip
            for pid, channel, topic, basis in rows
        ],
    )
    return len(rows)


def confirmation_message(
    conn: Connection, settings: Settings, request_ids: Sequence[int]
) -> EmailMessage | None:
    """The double opt-in mail for one person's requests, or None when none of them still waits."""
    requests = [r for r in (ledger_row(conn, i) for i in request_ids) if r is not None]
    if not requests:
        return None
    profile_id = survivor(conn, requests[0].profile_id)
    waiting = [r for r in requests if _state(conn, profile_id, r.channel, r.topic) == PENDING]
    if not waiting:
        return None
    profile = get_profile(conn, profile_id)
    address = profile.traits.get("email")
    if not address:
        return None
    language = preferred_language(conn, profile_id, profile.traits)
    names = [get_topic(conn, r.topic).name_in(language) for r in waiting if r.topic]
    link = tokens.make_url(
        conn,
        settings,
        tokens.LinkToken(tokens.CONFIRM, profile_id, waiting[0].channel, "", tuple(r.id for r in waiting)),
    )
    subject, body = _confirmation_text(language, ", ".join(names) or None, link, settings.postal_address)
    message = EmailMessage()
    message["From"] = settings.from_email
    message["To"] = address
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.from_email.rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def preferred_language(conn: Connection, profile_id: str, traits: dict[str, Any]) -> str:
    """ko or en: the language the person chose, else their locale or country."""
    chosen = get_preferences(conn, profile_id).locale
    if chosen:
        return chosen
    locale = str(traits.get("locale") or "").lower()
    if locale.startswith("ko") or (not locale and traits.get("country") == "KR"):
        return "ko"
    return "en"


def _confirmation_text(language: str, topic: str | None, link: str, postal: str) -> tuple[str, str]:
    if language == "ko":
        what = f"'{topic}' 구독" if topic else "이메일 수신"
        body = (
            f"안녕하세요.\n\n{what} 신청을 받았습니다. 아래 링크를 눌러 확인해 주세요.\n\n{link}\n\n"
            "직접 신청하지 않으셨다면 이 메일을 무시하세요. 확인하지 않으면 아무 메일도 보내지 않습니다.\n"
        )
        subject = "구독을 확인해 주세요"
    else:
        what = f"to subscribe to {topic}" if topic else "to receive our email"
        body = (
            f"Hello,\n\nWe received a request {what}. Please confirm it by opening this link:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: without confirmation we send you nothing.\n"
        )
        subject = "Please confirm your subscription"
    if postal:
        body += f"\n{postal}\n"
    return subject, body


def survivor(conn: Connection, profile_id: str) -> str:
    """The profile `profile_id` lives on as after merges (itself when never merged away)."""
    return survivor_of(conn, profile_id) or profile_id


def _state(conn: Connection, profile_id: str, channel: str, topic: str) -> str:
    row = states_of(conn, [profile_id]).get(profile_id, {}).get((channel, topic))
    return row.state if row is not None else NONE


def _with(change: Change, **values: Any) -> Change:
    return replace(change, **values)
