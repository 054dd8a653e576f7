"""The demo's consent: four topics, a year of people changing their minds, bounces and
complaints, and two forms running A/B variants.

The history is written through the ledger as it would have been recorded (`record_many` with
past `occurred_at`), so the admin's per-topic rates chart has twelve months to show. Who does
what is drawn from a seeded generator over profiles in email order: the same seed gives the
same history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from patron.consent import forms, suppression
from patron.consent.ledger import Change, record_many
from patron.consent.model import (
    CONFIRM,
    EXPIRE,
    FREQUENCIES,
    FREQUENCY,
    GLOBAL,
    GRANT,
    PAUSE,
    REQUEST,
    SUBSCRIBED,
    UNSUBSCRIBED,
    WITHDRAW,
)
from patron.consent.topics import create_topic, topic_keys
from patron.demo.generate import REFERENCE_MOMENT
from patron.errors import NotFound
from patron.storage.engine import transaction
from patron.storage.schema import consent_ledger, consent_states, contact_preferences, identities
from patron.storage.statements import upsert
from patron.storage.types import utcnow

# (key, English name, Korean name, default, region defaults)
DEMO_TOPICS: list[tuple[str, str, str, str, dict[str, str]]] = [
    ("newsletter", "Newsletter", "뉴스레터", "opt_in", {}),
    # Korea's Network Act: advertising needs opt-in even where the topic is otherwise opt-out.
    ("offers", "Offers and discounts", "할인과 혜택", "opt_out", {"KR": "opt_in"}),
    ("product_updates", "Product updates", "제품 소식", "opt_in", {}),
    ("events", "Events and webinars", "행사와 웨비나", "opt_in", {}),
]
DESCRIPTIONS = {
    "newsletter": ("Our weekly letter: new arrivals and stories.", "매주 보내 드리는 새 소식과 이야기"),
    "offers": ("Discount codes and sales.", "할인 코드와 세일 안내"),
    "product_updates": ("What changed in the products you bought.", "구매하신 제품의 새 소식"),
    "events": ("Invitations to events and webinars.", "행사와 웨비나 초대"),
}
SIGNUP_FORM, PREFERENCES_FORM = "newsletter-signup", "preferences"
SIGNUP_NOTICE = "newsletter-signup-2025-03"
SIGNUP_NOTICE_TEXT = (
    "Yes, send me the newsletters I picked. I can unsubscribe at any time with the link in every email."
)
PREFERENCES_NOTICE = "preferences-2025-03"
HISTORY_DAYS = 365
FORM_DAYS = 60
# Shares of profiles with an email that do each thing once in the demo's year.
SHARES = {
    "form_signup": 0.10,
    "preference_grant": 0.04,
    "topic_withdrawal": 0.05,
    "frequency_down": 0.04,
    "pause": 0.015,
    "one_click": 0.012,
    "unsubscribe_page": 0.006,
    "lapsed_request": 0.01,
    "pending_request": 0.002,
    "hard_bounce": 0.006,
    "complaint": 0.0015,
}
# Documentation address ranges (RFC 5737): real-looking, never anyone's.
_NETWORKS = ("192.0.2.", "198.51.100.", "203.0.113.")
_BROWSERS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 15; SM-S921N) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15",
)


def create_demo_topics(conn: Connection) -> int:
    """The demo's topics, in English and Korean; returns how many were new."""
    existing = topic_keys(conn)
    created = 0
    for position, (key, name, korean, default, regions) in enumerate(DEMO_TOPICS, start=1):
        if key in existing:
            continue
        english, hangul = DESCRIPTIONS[key]
        create_topic(
            conn,
            {
                "key": key,
                "name": name,
                "description": english,
                "default": default,
                "region_defaults": regions,
                "translations": {"ko": {"name": korean, "description": hangul}},
                "position": position,
            },
        )
        created += 1
    return created


@dataclass(frozen=True, slots=True)
class Person:
    """A profile the history may pick: its id, email and current topic states."""

    profile_id: str
    email: str
    states: dict[str, str]


def load_demo_consent(engine: Engine, *, seed: int, now: datetime | None = None) -> dict[str, Any]:
    """Write the demo's year of consent history, suppressions and forms; skipped (with the
    counts already there) when a previous demo run wrote them."""
    now = now or utcnow()
    with transaction(engine) as conn:
        if _history_written(conn):
            return {"skipped": "history already loaded", **_counts(conn)}
        people = _people(conn)
        rng = random.Random(f"consent-{seed}")
        history = History(rng, _window_end(now), now)
        items, preferences = history.changes(people)
        record_many(conn, items)
        if preferences:
            conn.execute(
                upsert(
                    conn, contact_preferences, ["profile_id"], ["frequency", "paused_until", "updated_at"]
                ),
                preferences,
            )
        suppressed = _suppress(conn, rng, people)
        form_counts = _forms(conn, rng, now)
        return {
            "history_changes": len(items),
            "history_from": (history.end - timedelta(days=HISTORY_DAYS)).date().isoformat(),
            "history_to": history.end.date().isoformat(),
            **history.tally,
            "suppressed": suppressed,
            "forms": form_counts,
            **_counts(conn),
        }


def _window_end(now: datetime) -> datetime:
    """The history ends today (the admin's rates charts end at the current period): the same
    seed on the same day gives the same ledger. Before the demo's reference date (a machine
    whose clock is behind), it ends now, never in the future."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return today if today >= REFERENCE_MOMENT else now


def _history_written(conn: Connection) -> bool:
    query = select(consent_ledger.c.id).where(consent_ledger.c.actor == "demo").limit(1)
    return conn.execute(query).first() is not None


def _people(conn: Connection) -> list[Person]:
    """Profiles with an email, in order of their first address (stable across databases and runs)."""
    first_email = func.min(identities.c.value)
    query = (
        select(identities.c.profile_id, first_email)
        .where(identities.c.kind == "email")
        .group_by(identities.c.profile_id)
        .order_by(first_email)
    )
    rows = conn.execute(query).all()
    states: dict[str, dict[str, str]] = {}
    query_states = select(consent_states.c.profile_id, consent_states.c.topic, consent_states.c.state).where(
        consent_states.c.channel == "email"
    )
    for pid, topic, state in conn.execute(query_states):
        states.setdefault(pid, {})[topic] = state
    return [Person(pid, email, states.get(pid, {})) for pid, email in rows]


class History:
    """A year of consent changes for some of the demo's people, drawn from one seeded generator."""

    def __init__(self, rng: random.Random, end: datetime, now: datetime) -> None:
        self.rng = rng
        self.end = end
        self.now = now
        self.tally: dict[str, int] = {}
        self.items: list[tuple[str, Change]] = []

    def moment(self) -> datetime:
        """A time in the year before the window's end, busier towards the end (a growing list)."""
        days = HISTORY_DAYS * (1 - self.rng.random() ** 0.8)
        return self.end - timedelta(days=days, seconds=self.rng.randrange(86400))

    def visitor(self) -> dict[str, str]:
        """An IP address and browser for a change made on a web page."""
        ip = f"{self.rng.choice(_NETWORKS)}{self.rng.randrange(1, 255)}"
        return {"ip": ip, "user_agent": self.rng.choice(_BROWSERS)}

    def add(self, kind: str, profile_id: str, *changes: Change) -> None:
        """Keep changes for one person, counted under `kind`."""
        self.items += [(profile_id, change) for change in changes]
        self.tally[kind] = self.tally.get(kind, 0) + 1

    def changes(self, people: Sequence[Person]) -> tuple[list[tuple[str, Change]], list[dict[str, Any]]]:
        """The ledger changes and the preference rows they leave behind."""
        topics = [key for key, *_ in DEMO_TOPICS]
        reachable = [p for p in people if p.states.get(GLOBAL) != UNSUBSCRIBED]

        def pick(kind: str, pool: Sequence[Person]) -> list[Person]:
            return self.rng.sample(list(pool), min(len(pool), round(len(people) * SHARES[kind])))

        def not_yet(person: Person) -> list[str]:
            return [t for t in topics if person.states.get(t) != SUBSCRIBED]

        for person in pick("form_signup", reachable):
            wanted = not_yet(person)
            if wanted:
                self._form_signup(
                    person, self.rng.sample(wanted, min(len(wanted), self.rng.choice((1, 1, 2))))
                )
        for person in pick("preference_grant", reachable):
            wanted = not_yet(person)
            if wanted:
                self._preference_change(person, self.rng.choice(wanted), GRANT, "preference_grant")
        subscribed = [p for p in people if any(p.states.get(t) == SUBSCRIBED for t in topics)]
        for person in pick("topic_withdrawal", subscribed):
            topic = self.rng.choice([t for t in topics if person.states.get(t) == SUBSCRIBED])
            self._preference_change(person, topic, WITHDRAW, "topic_withdrawal")
        for person in pick("lapsed_request", [p for p in reachable if not_yet(p)]):
            asked = min(self.moment(), self.now - timedelta(hours=73))  # its 72 hours are over
            self._request(person, self.rng.choice(not_yet(person)), asked, lapsed=True)
        for person in pick("pending_request", [p for p in reachable if not_yet(p)]):
            # Still waiting for the click: asked in the last day, before the link's 72 hours run out.
            asked = self.now - timedelta(minutes=self.rng.randrange(5, 1440))
            self._request(person, self.rng.choice(not_yet(person)), asked)
        preferences: dict[str, dict[str, Any]] = {}
        for person in pick("frequency_down", subscribed):
            preferences[person.profile_id] = self._frequency_down(person)
        for person in pick("pause", subscribed):
            row = preferences.setdefault(person.profile_id, self._preference_row(person.profile_id))
            row["paused_until"] = self._pause(person)
        for kind, method in (("one_click", "one_click"), ("unsubscribe_page", "unsubscribe_page")):
            for person in pick(kind, subscribed):
                self._unsubscribe_all(person, method, kind)
        return self.items, list(preferences.values())

    def _form_signup(self, person: Person, chosen: list[str]) -> None:
        asked = self.moment()
        seen = self.visitor()
        variant = self.rng.choice(("a", "b"))
        detail = {"form": SIGNUP_FORM, "variant": variant}
        for topic in chosen:
            base = _change(topic, REQUEST, asked, method="form", source=f"form.{SIGNUP_FORM}", **seen)
            confirmed = min(asked + timedelta(minutes=self.rng.randrange(1, 600)), self.now)
            self.add(
                "form_signups",
                person.profile_id,
                _with(
                    base,
                    notice_text=SIGNUP_NOTICE_TEXT,
                    expires_at=asked + timedelta(hours=72),
                    detail=detail,
                ),
                _change(topic, CONFIRM, confirmed, method="form", source="confirm", **self.visitor()),
            )

    def _preference_change(self, person: Person, topic: str, action: str, kind: str) -> None:
        change = _change(topic, action, self.moment(), method="preference_centre", **self.visitor())
        self.add(kind, person.profile_id, _with(change, notice_version=PREFERENCES_NOTICE))

    def _request(self, person: Person, topic: str, asked: datetime, *, lapsed: bool = False) -> None:
        request = _change(
            topic, REQUEST, asked, method="form", source=f"form.{SIGNUP_FORM}", **self.visitor()
        )
        request = _with(request, notice_text=SIGNUP_NOTICE_TEXT, expires_at=asked + timedelta(hours=72))
        if not lapsed:
            self.add("pending_requests", person.profile_id, request)
            return
        expired = _with(
            _change(topic, EXPIRE, asked + timedelta(hours=72), method="system"),
            actor="expiry",
            legal_basis="consent",
        )
        self.add("lapsed_requests", person.profile_id, request, expired)

    def _preference_row(self, profile_id: str) -> dict[str, Any]:
        return {
            "profile_id": profile_id,
            "frequency": FREQUENCIES[0],
            "paused_until": None,
            "updated_at": self.now,
        }

    def _frequency_down(self, person: Person) -> dict[str, Any]:
        chosen = self.rng.choice(FREQUENCIES[1:])
        detail = {"frequency": chosen, "was": FREQUENCIES[0]}
        change = _change(GLOBAL, FREQUENCY, self.moment(), method="preference_centre", **self.visitor())
        self.add("frequency_downgrades", person.profile_id, _with(change, detail=detail))
        return {**self._preference_row(person.profile_id), "frequency": chosen}

    def _pause(self, person: Person) -> datetime:
        if self.rng.random() < 0.3:  # snoozing right now
            began = self.now - timedelta(hours=self.rng.randrange(1, 72))
        else:
            began = self.moment()
        until = began + timedelta(days=30)
        change = _change(GLOBAL, PAUSE, began, method="preference_centre", **self.visitor())
        self.add("pauses", person.profile_id, _with(change, detail={"until": until.isoformat()}))
        return until

    def _unsubscribe_all(self, person: Person, method: str, kind: str) -> None:
        # RFC 8058: the mail client posts the one-click request itself, without the person's browser.
        seen = {} if method == "one_click" else self.visitor()
        self.add(kind, person.profile_id, _change(GLOBAL, WITHDRAW, self.moment(), method=method, **seen))


def _change(topic: str, action: str, occurred_at: datetime, *, method: str, **extra: Any) -> Change:
    return Change(
        channel="email",
        action=action,
        topic=topic,
        method=method,
        occurred_at=occurred_at,
        actor="demo",
        notice_version=SIGNUP_NOTICE if method == "form" else "",
        **extra,
    )


def _with(change: Change, **values: Any) -> Change:
    fields = {name: getattr(change, name) for name in Change.__dataclass_fields__}
    return Change(**{**fields, **values})


def _suppress(conn: Connection, rng: random.Random, people: Sequence[Person]) -> dict[str, int]:
    """Hard bounces and spam complaints, as the mail system would have reported them."""
    pool = list(people)
    done: dict[str, int] = {}
    for reason, note in (
        ("hard_bounce", "550 5.1.1 mailbox does not exist"),
        ("complaint", "marked as spam (feedback loop)"),
    ):
        chosen = rng.sample(pool, min(len(pool), round(len(people) * SHARES[reason])))
        hashes = [suppression.address_hash("email", person.email) for person in chosen]
        done[reason] = suppression.suppress_hashes(conn, "email", hashes, reason, note=note, actor="demo")
        chosen_ids = {person.profile_id for person in chosen}
        pool = [person for person in pool if person.profile_id not in chosen_ids]
    return done


def _forms(conn: Connection, rng: random.Random, now: datetime) -> dict[str, dict[str, int]]:
    """A subscribe form and a preference centre, two variants each, with daily views and submissions."""
    specs = [
        (
            {
                "key": SIGNUP_FORM,
                "name": "Newsletter sign-up (footer)",
                "kind": forms.SUBSCRIBE,
                "topics": ["newsletter", "offers", "events"],
                "notice_text": SIGNUP_NOTICE_TEXT,
                "notice_version": SIGNUP_NOTICE,
                "variants": [
                    {"key": "a", "heading": "Get our newsletter", "button": "Subscribe"},
                    {
                        "key": "b",
                        "heading": "10% off your next order",
                        "intro": "when you subscribe",
                        "button": "Get my code",
                    },
                ],  # fmt: skip
            },
            {"a": (140, 0.035), "b": (140, 0.052)},
        ),
        (
            {
                "key": PREFERENCES_FORM,
                "name": "Preference centre",
                "kind": forms.PREFERENCES,
                "topics": [key for key, *_ in DEMO_TOPICS],
                "notice_version": PREFERENCES_NOTICE,
                "variants": [
                    {"key": "list", "heading": "Choose what you hear about"},
                    {"key": "cards", "heading": "Less email, only what you like", "weight": 1},
                ],
            },
            {"list": (35, 0.42), "cards": (35, 0.55)},
        ),
    ]
    totals: dict[str, dict[str, int]] = {}
    for spec, rates in specs:
        try:
            forms.get_form(conn, spec["key"])
        except NotFound:
            forms.create_form(conn, spec)
        views_total = submissions_total = 0
        for back in range(FORM_DAYS, -1, -1):
            day = (now - timedelta(days=back)).date()
            weekend = 0.7 if day.weekday() >= 5 else 1.0
            for variant, (mean_views, conversion) in rates.items():
                views = max(0, round(rng.gauss(mean_views * weekend, mean_views * 0.15)))
                submissions = sum(1 for _ in range(views) if rng.random() < conversion)
                forms.count(
                    conn, spec["key"], variant, views=views, submissions=submissions, day=day.isoformat()
                )
                views_total += views
                submissions_total += submissions
        totals[spec["key"]] = {"views": views_total, "submissions": submissions_total}
    return totals


def _counts(conn: Connection) -> dict[str, Any]:
    """How many people are in each state, channel-wide and per topic (email)."""
    query = (
        select(consent_states.c.topic, consent_states.c.state, func.count())
        .where(consent_states.c.channel == "email")
        .group_by(consent_states.c.topic, consent_states.c.state)
    )
    states: dict[str, dict[str, int]] = {}
    for topic, state, number in conn.execute(query):
        states.setdefault(topic or "all", {})[state] = number
    ledger_rows = conn.execute(select(func.count()).select_from(consent_ledger)).scalar() or 0
    return {"ledger_rows": ledger_rows, "states": dict(sorted(states.items()))}
