"""Pages people reach from links in our messages, without logging in: the preference centre
(/p), unsubscribe with RFC 8058 one-click (/u) and double opt-in confirmation (/confirm).

The signed token in the URL is the only credential: it names the profile and channel, and
nobody can forge or alter it without the instance's secret key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import Connection
from starlette.datastructures import FormData

from patron import consent, gdpr
from patron.config import Settings
from patron.consent import forms, tokens
from patron.consent.gate import decide
from patron.errors import Invalid, LinkExpired, LinkInvalid, NotFound
from patron.profiles import Profile, display_name, get_profile
from patron.storage.engine import transaction
from patron.storage.types import utcnow
from patron.web.deps import EngineDep, ReadDB, SettingsDep, WriteDB
from patron.web.public.i18n import choose_language, translate
from patron.web.public.render import SECURITY_HEADERS, client_ip, public_page, user_agent

router = APIRouter()

# Channels the preference centre offers, and the identity kind that gives a person an address on each.
ADDRESS_KINDS = {"email": "email", "sms": "phone"}
PAUSE_DAYS = {"30": 30, "90": 90}
KEEP, NO_PAUSE = "keep", "none"
ALL = "*all"  # the form name suffix of "unsubscribe from all" (no topic key can start with *)
ONE_CLICK = "One-Click"


async def read_form(request: Request) -> FormData:
    """The posted form, form-encoded or multipart (RFC 8058 senders use either)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(read_form)]


@dataclass(frozen=True, slots=True)
class TopicChoice:
    """One topic checkbox as the person sees it."""

    key: str
    name: str
    description: str
    checked: bool
    pending: bool


@dataclass(frozen=True, slots=True)
class ChannelChoices:
    """A channel's block in the preference centre."""

    channel: str
    address: str
    all_off: bool
    topics: list[TopicChoice] = field(default_factory=list)


# ---------------------------------------------------------------- preference centre


@router.get("/p/{token}", response_class=HTMLResponse)
def preference_centre(
    token: str, request: Request, conn: ReadDB, settings: SettingsDep, engine: EngineDep
) -> Response:
    """The person's topics per channel, frequency, pause and a link to their data."""
    lang = choose_language(request)
    try:
        link, profile = _open(conn, settings, token, tokens.PREFERENCES)
    except (LinkInvalid, NotFound) as exc:
        return _link_error(request, lang, exc)
    experiment = _experiment(conn, profile.id)
    if experiment is not None:
        # A view is a write; the page itself only reads.
        with transaction(engine) as counting:
            _count(counting, experiment, views=1)
    prefs = consent.get_preferences(conn, profile.id)
    now = utcnow()
    frequencies = [(f, translate(lang, f"frequency_{f}")) for f in consent.FREQUENCIES]
    context = {
        "title": _variant_text(experiment, "heading") or translate(lang, "prefs_title"),
        "intro": _variant_text(experiment, "intro") or translate(lang, "prefs_intro"),
        "name": display_name(profile.traits),
        "channels": _choices(conn, profile, lang),
        "frequencies": frequencies,
        "frequency": prefs.frequency,
        "paused_until": prefs.paused_until if prefs.paused(now) else None,
        "saved": request.query_params.get("saved") == "1",
        "action": f"{request.url.path}?lang={lang}",
        "export_url": f"{request.url.path}/export",
        "button": _variant_text(experiment, "button") or translate(lang, "save"),
    }
    return public_page(request, "preferences.html", context, lang=lang)


@router.post("/p/{token}", response_class=HTMLResponse)
def save_preferences(
    token: str, request: Request, form: PostedForm, conn: WriteDB, settings: SettingsDep
) -> Response:
    """Apply the ticked topics, unsubscribe-from-all, frequency and pause; each change is a ledger row."""
    lang = choose_language(request)
    try:
        link, profile = _open(conn, settings, token, tokens.PREFERENCES)
    except (LinkInvalid, NotFound) as exc:
        return _link_error(request, lang, exc)
    try:
        frequency, paused_until = _read_frequency_and_pause(form)
    except Invalid as exc:
        context = {
            "title": translate(lang, "bad_input_title"),
            "message": exc.message,
            "back": request.url.path,
        }
        return public_page(request, "link_error.html", context, lang=lang, status_code=422)
    experiment = _experiment(conn, profile.id)
    proof = _proof(request, "email", "grant", method="preference_centre")
    if experiment is not None:
        # The notice the person saw is the running form's; its version proves which text it was.
        proof = _with(proof, notice_version=experiment[0].notice_version, source=f"form:{experiment[0].key}")
    changes = _consent_changes(conn, profile, form, proof, lang)
    if changes:
        consent.record(conn, profile.id, changes)
    consent.set_preferences(
        conn,
        profile.id,
        frequency=frequency,
        paused_until=paused_until,
        locale=lang,
        proof=_with(proof, channel="email", action="frequency"),
    )
    if experiment is not None:
        _count(conn, experiment, submissions=1)
    return RedirectResponse(f"{request.url.path}?lang={lang}&saved=1", status_code=303)


@router.get("/p/{token}/export")
def download_data(token: str, request: Request, conn: ReadDB, settings: SettingsDep) -> Response:
    """Everything held about the person, as a JSON file (GDPR art. 15 and 20)."""
    lang = choose_language(request)
    try:
        _, profile = _open(conn, settings, token, tokens.PREFERENCES)
    except (LinkInvalid, NotFound) as exc:
        return _link_error(request, lang, exc)
    data = gdpr.export_profile(conn, profile.id)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    filename = f"my-data-{utcnow().date().isoformat()}.json"
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


# ---------------------------------------------------------------- unsubscribe


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, request: Request, conn: ReadDB, settings: SettingsDep) -> Response:
    """Ask before unsubscribing: link scanners in mail filters open every GET link."""
    lang = choose_language(request)
    try:
        link, profile = _open(conn, settings, token, tokens.UNSUBSCRIBE)
    except (LinkInvalid, NotFound) as exc:
        return _link_error(request, lang, exc)
    context = {
        **_unsubscribe_words(conn, link, profile, lang),
        "title": translate(lang, "unsub_title"),
        "action": f"{request.url.path}?lang={lang}",
        "preferences_url": _preferences_path(conn, settings, profile.id, link.channel, lang),
    }
    return public_page(request, "unsubscribe.html", context, lang=lang)


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(
    token: str, request: Request, form: PostedForm, conn: WriteDB, settings: SettingsDep
) -> Response:
    """Withdraw at once. RFC 8058: a body of List-Unsubscribe=One-Click comes from the mailbox
    provider, carries no cookie or login, and gets a 200 without a redirect."""
    lang = choose_language(request)
    one_click = form.get("List-Unsubscribe") == ONE_CLICK
    try:
        link, profile = _open(conn, settings, token, tokens.UNSUBSCRIBE)
    except (LinkInvalid, NotFound) as exc:
        return _link_error(request, lang, exc)
    method = "one_click" if one_click else "unsubscribe_page"
    states = consent.consent_of(conn, profile.id)["channels"].get(link.channel, {})
    current = states.get("topics", {}).get(link.topic) if link.topic else states.get("global")
    # Idempotent: a provider may POST the same link more than once; one ledger row says it all.
    if current != consent.UNSUBSCRIBED:
        change = _proof(request, link.channel, "withdraw", method=method, topic=link.topic)
        consent.change_consent(conn, settings, profile.id, change, double_opt_in=False)
    if one_click:
        return PlainTextResponse(translate(lang, "one_click_done"), headers={"Cache-Control": "no-store"})
    context = {
        **_unsubscribe_words(conn, link, profile, lang),
        "title": translate(lang, "unsub_done_title"),
        "preferences_url": _preferences_path(conn, settings, profile.id, link.channel, lang),
    }
    return public_page(request, "unsubscribed.html", context, lang=lang)


# ---------------------------------------------------------------- double opt-in


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm(token: str, request: Request, conn: WriteDB, settings: SettingsDep) -> Response:
    """Confirm a subscription request from the link in the confirmation mail; idempotent."""
    lang = choose_language(request)
    try:
        outcome = consent.confirm_request(
            conn, settings, token, ip=client_ip(request), user_agent=user_agent(request)
        )
        profile = get_profile(conn, outcome.profile_id)
    except (LinkInvalid, NotFound) as exc:
        return _link_error(request, lang, exc)
    # One mail confirms every topic of a sign-up.
    keys = [key for key in outcome.topics or (outcome.topic,) if key]
    topics = ", ".join(consent.get_topic(conn, key).name_in(lang) for key in keys)
    context = {
        "title": translate(lang, "confirm_title"),
        "message": (
            translate(lang, "confirm_done_topic", topic=topics)
            if topics
            else translate(lang, "confirm_done_all")
        ),
        "preferences_url": _preferences_path(conn, settings, profile.id, outcome.channel, lang),
    }
    return public_page(request, "confirmed.html", context, lang=lang)


# ---------------------------------------------------------------- parts


def _open(conn: Connection, settings: Settings, raw: str, kind: str) -> tuple[tokens.LinkToken, Profile]:
    """The token's contents and the person it leads to today (after merges); LinkInvalid,
    LinkExpired, or NotFound when the person has been erased."""
    link = tokens.read(conn, settings, raw, kind)
    return link, get_profile(conn, consent.survivor(conn, link.profile_id))


def _link_error(request: Request, lang: str, exc: Exception) -> HTMLResponse:
    """A page that says what is wrong with a link, never a stack trace."""
    if isinstance(exc, LinkExpired):
        key, status = "link_expired", 410
    elif isinstance(exc, LinkInvalid):
        key, status = "link_invalid", 400
    else:
        key, status = "link_gone", 410
    context = {"title": translate(lang, f"{key}_title"), "message": translate(lang, f"{key}_body")}
    return public_page(request, "link_error.html", context, lang=lang, status_code=status)


def _addresses(profile: Profile) -> dict[str, str]:
    """channel -> the address the person has on it, for the channels the centre offers."""
    found: dict[str, str] = {}
    for channel, kind in ADDRESS_KINDS.items():
        value = next((i.value for i in profile.identities if i.kind == kind), None)
        if value is None and kind == "email":
            value = profile.traits.get("email")
        if value:
            found[channel] = str(value)
    return found


def _choices(conn: Connection, profile: Profile, lang: str) -> list[ChannelChoices]:
    """The checkboxes of every channel the person has an address for, ticked as things stand."""
    status = consent.consent_of(conn, profile.id)
    topics = consent.list_topics(conn)
    blocks = []
    for channel, address in _addresses(profile).items():
        states = status["channels"].get(channel, {"global": consent.NONE, "topics": {}})
        all_off = states["global"] == consent.UNSUBSCRIBED
        choices = [
            TopicChoice(
                topic.key,
                topic.name_in(lang),
                topic.description_in(lang),
                checked=not all_off
                and _is_on(topic, states["topics"].get(topic.key), states["global"], status),
                pending=states["topics"].get(topic.key) == consent.PENDING,
            )
            for topic in topics
            if channel in topic.channels
        ]
        blocks.append(ChannelChoices(channel, address, all_off, choices))
    return blocks


def _is_on(topic: consent.Topic, state: str | None, global_state: str, status: dict[str, Any]) -> bool:
    """Whether the person gets this topic (or waits to confirm it), by the send gate's own rule
    with the pause left out: a pause is shown on its own."""
    if state in (consent.SUBSCRIBED, consent.PENDING):
        return True
    return decide(
        global_state=global_state,
        topic_state=state or consent.NONE,
        topic=topic,
        country=status["region"],
        region_model=status["model"],
        paused=False,
        suppressed=None,
    ).allowed


def _consent_changes(
    conn: Connection, profile: Profile, form: FormData, proof: consent.Change, lang: str
) -> list[consent.Change]:
    """The ledger rows that make the person's consent match the boxes they submitted."""
    status = consent.consent_of(conn, profile.id)
    topics = {topic.key: topic for topic in consent.list_topics(conn)}
    shown = {str(value) for value in form.getlist("shown")}
    changes: list[consent.Change] = []
    for channel in _addresses(profile):
        states = status["channels"].get(channel, {"global": consent.NONE, "topics": {}})
        global_state = states["global"]
        offered = [t for key, t in topics.items() if channel in t.channels and f"{channel}:{key}" in shown]
        ticked = {t.key for t in offered if form.get(f"{channel}:{t.key}")}
        wants_all_off = bool(form.get(f"{channel}:{ALL}"))
        if wants_all_off and global_state != consent.UNSUBSCRIBED:
            # Unsubscribe from all wins over the topic boxes sent with it.
            changes.append(_with(proof, channel=channel, action="withdraw"))
            continue
        if global_state == consent.UNSUBSCRIBED:
            if wants_all_off and not ticked:
                continue
            # Unticking "unsubscribe from all", or ticking a topic again, subscribes the channel again.
            changes.append(
                _with(proof, channel=channel, action="grant", notice_text=_all_notice(channel, lang))
            )
            global_state = consent.SUBSCRIBED
        for topic in offered:
            state = states["topics"].get(topic.key)
            is_on = _is_on(topic, state, global_state, status)
            if topic.key in ticked and not is_on:
                notice = f"{topic.name_in(lang)}: {topic.description_in(lang)}".rstrip(": ")
                changes.append(
                    _with(proof, channel=channel, action="grant", topic=topic.key, notice_text=notice)
                )
            elif topic.key not in ticked and is_on and state != consent.UNSUBSCRIBED:
                changes.append(_with(proof, channel=channel, action="withdraw", topic=topic.key))
    return changes


def _all_notice(channel: str, lang: str) -> str:
    return translate(lang, "topics_on", channel=translate(lang, f"channel_{channel}_words"))


def _read_frequency_and_pause(form: FormData) -> tuple[str | None, Any]:
    """(frequency, paused_until) for consent.set_preferences; Invalid naming the field."""
    frequency = form.get("frequency")
    if frequency is not None and frequency not in consent.FREQUENCIES:
        raise Invalid(
            f"frequency must be one of {', '.join(consent.FREQUENCIES)}, not {frequency!r}", field="frequency"
        )
    pause = form.get("pause", KEEP)
    if pause == KEEP:
        return frequency, ""  # "" leaves the pause as it is
    if pause == NO_PAUSE:
        return frequency, None
    if pause in PAUSE_DAYS:
        return frequency, utcnow() + timedelta(days=PAUSE_DAYS[pause])
    raise Invalid(f"pause must be one of {KEEP}, {NO_PAUSE}, 30 or 90, not {pause!r}", field="pause")


def _proof(request: Request, channel: str, action: str, *, method: str, topic: str = "") -> consent.Change:
    """A change carrying the proof of who asked: method, IP, user agent."""
    return consent.Change(
        channel=channel or "email",
        action=action,
        topic=topic,
        legal_basis="consent",
        method=method,
        ip=client_ip(request),
        user_agent=user_agent(request),
        actor="subscriber",
    )


def _fields(change: consent.Change) -> dict[str, Any]:
    return {name: getattr(change, name) for name in change.__dataclass_fields__}


def _with(change: consent.Change, **values: Any) -> consent.Change:
    return consent.Change(**{**_fields(change), **values})


def _preferences_path(conn: Connection, settings: Settings, profile_id: str, channel: str, lang: str) -> str:
    """The preference centre's path (relative: the page works whatever PATRON_BASE_URL says)."""
    url = consent.links_for(conn, settings, profile_id, channel=channel)["preferences"]
    return f"{urlsplit(url).path}?lang={lang}"


def _unsubscribe_words(
    conn: Connection, link: tokens.LinkToken, profile: Profile, lang: str
) -> dict[str, str]:
    """The question and the outcome of an unsubscribe, naming the person, address and topic."""
    name = display_name(profile.traits) or translate(lang, "someone")
    address = _addresses(profile).get(link.channel) or translate(lang, "your_address")
    channel = translate(lang, f"channel_{link.channel}_words")
    if link.topic:
        topic = consent.get_topic(conn, link.topic).name_in(lang)
        return {
            "question": translate(lang, "unsub_question_topic", name=name, address=address, topic=topic),
            "done": translate(lang, "unsub_done_topic", address=address, topic=topic),
        }
    return {
        "question": translate(lang, "unsub_question_all", name=name, address=address, channel=channel),
        "done": translate(lang, "unsub_done_all", address=address, channel=channel),
    }


# ---------------------------------------------------------------- preference-centre experiments


def _experiment(conn: Connection, profile_id: str) -> tuple[forms.Form, forms.Variant] | None:
    """(form, variant) of the running preference-centre experiment; a person sees the same
    variant every time (seeded with their id). None when no experiment runs."""
    form = forms.active_form(conn, kind=forms.PREFERENCES)
    if form is None:
        return None
    return form, forms.choose_variant(form, profile_id)


def _count(
    conn: Connection, experiment: tuple[forms.Form, forms.Variant], *, views: int = 0, submissions: int = 0
) -> None:
    """Count a view or a submission of the person's variant."""
    form, variant = experiment
    forms.count(conn, form.key, variant.key, views=views, submissions=submissions)


def _variant_text(experiment: tuple[forms.Form, forms.Variant] | None, name: str) -> str:
    return str(getattr(experiment[1], name, "") or "") if experiment else ""
