"""Hosted subscribe forms and preference-centre layouts, with variants that run at once.

A form names what it asks for (channel, topics), the notice people agree to and its version,
and one or more variants (heading, intro, button) shown by weight. Views and submissions are
counted per variant and day, so the admin can compare conversion and drop-off.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import Connection, Insert, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from patron.consent.ledger import MAX_NOTICE_CHARS
from patron.consent.model import CHANNELS
from patron.consent.topics import get_topic
from patron.errors import Conflict, Invalid, NotFound
from patron.storage.schema import consent_forms, form_stats
from patron.storage.types import utcnow

SUBSCRIBE, PREFERENCES = "subscribe", "preferences"
KINDS = (SUBSCRIBE, PREFERENCES)
# The variant a pasted snippet posts: a static page cannot pick one by weight.
EMBED_VARIANT = "embed"
# Short enough that "form." + key is a valid source name (48 characters at most).
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,41}$")
_VARIANT_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_VARIANTS = 10
MAX_TOPICS = 50
RESULT_DAYS = 30
_FIELDS = (
    "key",
    "name",
    "kind",
    "channel",
    "topics",
    "notice_text",
    "notice_version",
    "variants",
    "is_active",
)
_VARIANT_FIELDS = ("key", "weight", "heading", "intro", "button")


@dataclass(frozen=True, slots=True)
class Variant:
    """One version of a form's words, shown to a share of visitors set by its weight."""

    key: str
    weight: float = 1.0
    heading: str = ""
    intro: str = ""
    button: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "key": self.key,
            "weight": self.weight,
            "heading": self.heading,
            "intro": self.intro,
            "button": self.button,
        }


@dataclass(frozen=True, slots=True)
class Form:
    """A hosted subscribe form or preference-centre layout."""

    key: str
    name: str
    kind: str
    channel: str
    topics: tuple[str, ...]
    notice_text: str
    notice_version: str
    variants: tuple[Variant, ...]
    is_active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def source(self) -> str:
        """The source name the form's profile writes carry (a valid source name: no colon)."""
        return f"form.{self.key}"

    def variant(self, key: str | None) -> Variant | None:
        """The variant with this key, or None."""
        return next((v for v in self.variants if v.key == key), None)

    def as_dict(self) -> dict[str, Any]:
        """The API form."""
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "channel": self.channel,
            "topics": list(self.topics),
            "notice_text": self.notice_text,
            "notice_version": self.notice_version,
            "variants": [v.as_dict() for v in self.variants],
            "is_active": self.is_active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def _form(row: Any) -> Form:
    return Form(
        key=row.key,
        name=row.name,
        kind=row.kind,
        channel=row.channel,
        topics=tuple(row.topics),
        notice_text=row.notice_text,
        notice_version=row.notice_version,
        variants=tuple(Variant(**{k: v[k] for k in _VARIANT_FIELDS if k in v}) for v in row.variants),
        is_active=bool(row.is_active),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_form(conn: Connection, key: str) -> Form:
    """One form; NotFound when there is none."""
    row = conn.execute(select(consent_forms).where(consent_forms.c.key == key)).first()
    if row is None:
        raise NotFound(f"no form {key!r}", field="key")
    return _form(row)


def list_forms(conn: Connection, *, kind: str | None = None, active_only: bool = False) -> list[Form]:
    """Forms, newest first."""
    query = select(consent_forms).order_by(consent_forms.c.created_at.desc(), consent_forms.c.key)
    if kind is not None:
        query = query.where(consent_forms.c.kind == kind)
    if active_only:
        query = query.where(consent_forms.c.is_active.is_(True))
    return [_form(row) for row in conn.execute(query)]


def active_form(conn: Connection, kind: str = PREFERENCES) -> Form | None:
    """The newest active form of a kind, or None when there is none."""
    found = list_forms(conn, kind=kind, active_only=True)
    return found[0] if found else None


def create_form(conn: Connection, data: Mapping[str, Any]) -> Form:
    """Add a form from its API form; Conflict when the key is taken."""
    _refuse_unknown(data)
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise Invalid(
            "key must start with a lower-case letter or digit and hold only a-z, 0-9, _ and - (at most 42)",
            field="key",
        )
    if conn.execute(select(consent_forms.c.key).where(consent_forms.c.key == key)).first():
        raise Conflict(f"form {key!r} already exists", field="key")
    given = {"kind": SUBSCRIBE, "channel": "email", "topics": [], "notice_text": "", "notice_version": "",
             "is_active": True, **data}  # fmt: skip
    given.setdefault("name", key)
    given.setdefault("variants", [{"key": "a"}])
    values = _checked(conn, given)
    now = utcnow()
    conn.execute(insert(consent_forms).values(key=key, **values, created_at=now, updated_at=now))
    return get_form(conn, key)


def update_form(conn: Connection, key: str, data: Mapping[str, Any]) -> Form:
    """Change a form's fields; the whole form is checked again, and a changed notice text
    needs a new notice version, so the ledger can always tell which words someone agreed to."""
    _refuse_unknown(data)
    current = get_form(conn, key)
    if "key" in data and data["key"] != key:
        raise Invalid("a form's key cannot change; create a new form instead", field="key")
    merged = {**current.as_dict(), **{k: v for k, v in data.items() if k != "key"}}
    values = _checked(conn, merged)
    if (
        values["notice_text"] != current.notice_text
        and values["notice_version"] == current.notice_version
        and current.notice_version
    ):
        raise Invalid(
            "the notice text changed: give it a new notice_version so consents to the old and new "
            "words stay apart",
            field="notice_version",
        )
    conn.execute(
        update(consent_forms).where(consent_forms.c.key == key).values(**values, updated_at=utcnow())
    )
    return get_form(conn, key)


def _refuse_unknown(data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise Invalid(f"unknown field {unknown[0]!r}; forms take {', '.join(_FIELDS)}", field=unknown[0])


def _text(data: Mapping[str, Any], name: str, *, limit: int, required: bool = False) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{name} must be text", field=name)
    value = value.strip()
    if required and not value:
        raise Invalid(f"{name} is required", field=name)
    if len(value) > limit:
        raise Invalid(f"{name} is longer than {limit:,} characters", field=name)
    return value


def _checked(conn: Connection, data: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for a whole form; Invalid naming the first field that breaks a rule."""
    name = _text(data, "name", limit=200, required=True)
    kind = data.get("kind")
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}, not {kind!r}", field="kind")
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}", field="channel")
    if kind == SUBSCRIBE and channel != "email":
        raise Invalid(
            "a hosted subscribe form asks for an email address: its channel must be email", field="channel"
        )
    chosen = data.get("topics")
    if not isinstance(chosen, list) or any(not isinstance(t, str) for t in chosen):
        raise Invalid("topics must be a list of topic keys", field="topics")
    if len(chosen) > MAX_TOPICS:
        raise Invalid(f"a form offers at most {MAX_TOPICS} topics", field="topics")
    chosen = list(dict.fromkeys(chosen))
    for index, topic_key in enumerate(chosen):
        try:
            topic = get_topic(conn, topic_key)
        except NotFound:
            raise Invalid(
                f"there is no topic {topic_key!r}; create it first (POST /api/v1/topics)",
                field=f"topics[{index}]",
            ) from None
        if channel not in topic.channels:
            raise Invalid(f"topic {topic_key!r} is not offered on {channel}", field=f"topics[{index}]")
    notice_text = _text(data, "notice_text", limit=MAX_NOTICE_CHARS, required=kind == SUBSCRIBE)
    notice_version = _text(data, "notice_version", limit=64, required=kind == SUBSCRIBE)
    is_active = data.get("is_active", True)
    if not isinstance(is_active, bool):
        raise Invalid("is_active must be true or false", field="is_active")
    return {
        "name": name,
        "kind": kind,
        "channel": channel,
        "topics": chosen,
        "notice_text": notice_text,
        "notice_version": notice_version,
        "variants": [v.as_dict() for v in check_variants(data.get("variants"))],
        "is_active": is_active,
    }


def check_variants(given: object) -> list[Variant]:
    """Variants from their API form; Invalid naming the variant and field that is wrong."""
    if not isinstance(given, list) or not given:
        raise Invalid(
            "variants must be a non-empty list of {key, weight, heading, intro, button}", field="variants"
        )
    if len(given) > MAX_VARIANTS:
        raise Invalid(f"a form runs at most {MAX_VARIANTS} variants", field="variants")
    variants: list[Variant] = []
    for index, item in enumerate(given):
        where = f"variants[{index}]"
        if not isinstance(item, Mapping):
            raise Invalid(f"{where} must be an object with key, weight, heading, intro, button", field=where)
        unknown = sorted(set(item) - set(_VARIANT_FIELDS))
        if unknown:
            raise Invalid(
                f"{where}: unknown field {unknown[0]!r}; a variant takes {', '.join(_VARIANT_FIELDS)}",
                field=f"{where}.{unknown[0]}",
            )
        key = item.get("key")
        if not isinstance(key, str) or not _VARIANT_KEY.match(key):
            raise Invalid(
                f"{where}.key must be 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit",
                field=f"{where}.key",
            )
        if key == EMBED_VARIANT:
            raise Invalid(
                f"{where}.key: {EMBED_VARIANT!r} is kept for posts from the embedded snippet",
                field=f"{where}.key",
            )
        if any(v.key == key for v in variants):
            raise Invalid(f"{where}.key: two variants are called {key!r}", field=f"{where}.key")
        weight = item.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0 or weight > 1e6:
            raise Invalid(
                f"{where}.weight must be a positive number, not {weight!r}", field=f"{where}.weight"
            )
        texts = {
            name: _text(item, name, limit=limit)
            for name, limit in (("heading", 200), ("intro", 2000), ("button", 60))
        }
        variants.append(Variant(key=key, weight=float(weight), **texts))
    return variants


def choose_variant(form: Form, seed: str) -> Variant:
    """The variant a visitor sees: a weighted pick from a hash of seed and form key, so the same
    visitor keeps the same variant and the shares follow the weights."""
    digest = hashlib.sha256(f"{form.key}\x00{seed}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(v.weight for v in form.variants)
    for variant in form.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return form.variants[-1]  # float rounding at the very top of the range


def count(
    conn: Connection,
    form_key: str,
    variant_key: str,
    *,
    views: int = 0,
    submissions: int = 0,
    day: str | None = None,
) -> None:
    """Add views and submissions to a variant's counters for a day (today, UTC) in one upsert."""
    row = {
        "form_key": form_key,
        "variant": variant_key[:32],
        "day": day or utcnow().date().isoformat(),
        "views": views,
        "submissions": submissions,
    }
    conn.execute(_increment(conn), row)


def _increment(conn: Connection) -> Insert:
    # Both dialects spell ON CONFLICT the same way; adding to the stored value keeps two
    # concurrent requests from losing a count.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(form_stats)
    return statement.on_conflict_do_update(
        index_elements=["form_key", "variant", "day"],
        set_={
            "views": form_stats.c.views + statement.excluded.views,
            "submissions": form_stats.c.submissions + statement.excluded.submissions,
        },
    )


def _rates(views: int, submissions: int) -> dict[str, float | None]:
    """Conversion (submissions per view) and drop-off (views that did not submit), 0..1."""
    if not views:
        return {"conversion": None, "drop_off": None}
    conversion = min(1.0, submissions / views)
    return {"conversion": round(conversion, 4), "drop_off": round(1 - conversion, 4)}


def variant_rows(form: Form, sums: Mapping[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """Per variant: views, submissions, conversion and drop-off; configured variants first, then
    the snippet's and retired ones that still have counts."""
    order = [v.key for v in form.variants] + sorted(set(sums) - {v.key for v in form.variants})
    rows = []
    for key in order:
        views, submissions = sums.get(key, (0, 0))
        rows.append({
            "variant": key,
            "configured": form.variant(key) is not None,
            "views": views,
            "submissions": submissions,
            **_rates(views, submissions),
        })  # fmt: skip
    return rows


def variant_sums(conn: Connection, form_keys: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """form key -> variant -> (views, submissions) over all days, in one query for many forms."""
    query = (
        select(
            form_stats.c.form_key,
            form_stats.c.variant,
            func.sum(form_stats.c.views),
            func.sum(form_stats.c.submissions),
        )
        .where(form_stats.c.form_key.in_(list(form_keys)))
        .group_by(form_stats.c.form_key, form_stats.c.variant)
    )
    found: dict[str, dict[str, tuple[int, int]]] = {key: {} for key in form_keys}
    for form_key, variant, views, submissions in conn.execute(query):
        found[form_key][variant] = (int(views or 0), int(submissions or 0))
    return found


def results(conn: Connection, form_key: str, *, days: int = RESULT_DAYS) -> dict[str, Any]:
    """Views, submissions, conversion and drop-off per variant, the totals, and per-day counts
    of the last `days` days."""
    form = get_form(conn, form_key)
    variants = variant_rows(form, variant_sums(conn, [form_key])[form_key])
    total_views = sum(v["views"] for v in variants)
    total_submissions = sum(v["submissions"] for v in variants)
    since = (utcnow().date() - timedelta(days=days - 1)).isoformat()
    daily_query = (
        select(form_stats.c.day, form_stats.c.variant, form_stats.c.views, form_stats.c.submissions)
        .where(form_stats.c.form_key == form_key, form_stats.c.day >= since)
        .order_by(form_stats.c.day, form_stats.c.variant)
    )
    daily = [
        {"day": day, "variant": variant, "views": int(views), "submissions": int(subs)}
        for day, variant, views, subs in conn.execute(daily_query)
    ]
    return {
        "form": form_key,
        "variants": variants,
        "totals": {
            "views": total_views,
            "submissions": total_submissions,
            **_rates(total_views, total_submissions),
        },
        "daily": daily,
    }


# The snippet is static HTML pasted into another site, so its words are fixed when it is made.
SNIPPET_LABELS = {
    "en": {
        "email": "Email",
        "name": "Name (optional)",
        "topics": "Topics",
        "agree": "I agree",
        "button": "Subscribe",
    },  # fmt: skip
    "ko": {
        "email": "이메일",
        "name": "이름(선택)",
        "topics": "수신 주제",
        "agree": "동의합니다",
        "button": "구독하기",
    },
}


def embed_snippet(
    form: Form, base_url: str, *, topic_names: Mapping[str, str] | None = None, language: str = "en"
) -> str:
    """A self-contained HTML form (no script) that posts to the hosted form's address."""
    labels = SNIPPET_LABELS.get(language, SNIPPET_LABELS["en"])
    first = form.variants[0]
    names = topic_names or {}
    action = f"{base_url.rstrip('/')}/s/{form.key}"
    prefix = f"patron-{form.key}"
    keys = ", ".join(v.key for v in form.variants)
    lines = [
        f"<!-- Patron subscribe form {_in_comment(form.name)}"
        f" (notice version {_in_comment(form.notice_version)}).",
        "     Plain HTML: no script and no cookie. A static page cannot pick a variant, so posts count",
        f'     under variant "{EMBED_VARIANT}"; to test your own wording, set the hidden variant field to',
        f"     one of this form's variant keys ({_in_comment(keys)}) and show that variant's words.",
        '     Add <input type="hidden" name="country" value="DE"> when you know the visitor\'s country:',
        "     without it, the strictest rule applies (a confirmation mail before the subscription). -->",
        f'<form method="post" action="{escape(action)}" accept-charset="utf-8" class="patron-form">',
        f'  <input type="hidden" name="variant" value="{EMBED_VARIANT}">',
        f'  <input type="hidden" name="lang" value="{escape(language)}">',
        # Off-screen for people; a bot that fills every field is answered but nothing is recorded.
        '  <div aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;'
        'overflow:hidden"><label>Website <input name="website" tabindex="-1" autocomplete="off">'
        "</label></div>",
    ]
    if first.heading:
        lines.append(f'  <h2 class="patron-heading">{escape(first.heading)}</h2>')
    if first.intro:
        lines.append(f'  <p class="patron-intro">{escape(first.intro)}</p>')
    lines += [
        f'  <p><label for="{prefix}-email">{labels["email"]}</label>',
        f'    <input id="{prefix}-email" type="email" name="email" required autocomplete="email"></p>',
        f'  <p><label for="{prefix}-name">{labels["name"]}</label>',
        f'    <input id="{prefix}-name" type="text" name="name" autocomplete="name"></p>',
    ]
    lines += _snippet_topics(form, names, labels["topics"])
    if form.notice_text:
        lines.append(f'  <p class="patron-notice">{escape(form.notice_text)}</p>')
    lines += [
        f'  <p><input id="{prefix}-consent" type="checkbox" name="consent" value="yes" required>',
        f'    <label for="{prefix}-consent">{labels["agree"]}</label></p>',
        f'  <button type="submit">{escape(first.button or labels["button"])}</button>',
        "</form>",
    ]
    return "\n".join(lines) + "\n"


def _in_comment(text: str) -> str:
    """Text safe inside an HTML comment: "--" could end it early."""
    return escape(text).replace("--", "- -")


def _snippet_topics(form: Form, names: Mapping[str, str], legend: str) -> list[str]:
    """One topic: a hidden field (the consent box covers it); several: boxes, none ticked in
    advance (GDPR: a pre-ticked box is not consent)."""
    if len(form.topics) == 1:
        return [f'  <input type="hidden" name="topics" value="{escape(form.topics[0])}">']
    if not form.topics:
        return []
    lines = [f'  <fieldset class="patron-topics"><legend>{escape(legend)}</legend>']
    for topic_key in form.topics:
        label = escape(names.get(topic_key, topic_key))
        lines.append(
            f'    <label><input type="checkbox" name="topics" value="{escape(topic_key)}"> {label}</label>'
        )
    lines.append("  </fieldset>")
    return lines


def topic_choices(form: Form, wanted: Sequence[str]) -> list[str]:
    """The topics a visitor ticked, checked against the form; Invalid naming `topics`."""
    if len(form.topics) == 1:
        return list(form.topics)
    chosen = list(dict.fromkeys(t for t in wanted if t))
    unknown = [t for t in chosen if t not in form.topics]
    if unknown:
        raise Invalid(f"this form does not offer the topic {unknown[0]!r}", field="topics")
    if form.topics and not chosen:
        raise Invalid("choose at least one topic", field="topics")
    return chosen
