"""Hosted subscribe forms: /s/{key} shows a variant of the form and takes the sign-up.

The page picks a variant from a random seed kept in a short-lived cookie (pv_{key}, the only
cookie any public page sets), so a visitor who comes back sees the same words. A sign-up upserts
the person and records consent per topic with the form's notice; double opt-in follows the
person's region inside change_consent.
"""

from __future__ import annotations

import gettext
import re
import secrets
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Annotated, Any

import pycountry
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection

from patron import profiles
from patron.config import Settings
from patron.consent import (
    GLOBAL,
    PENDING,
    UNSUBSCRIBED,
    Change,
    change_consent,
    queue_confirmation,
    states_of,
)
from patron.consent import forms as consent_forms
from patron.consent.topics import get_topic
from patron.errors import ConcurrentWrite, Invalid, NotFound, PatronError
from patron.fields import field_types
from patron.identity import IdentityError, IdentityRules
from patron.identity.normalise import normalise_email
from patron.quality.emails import check_email
from patron.quality.entry import entry_rules
from patron.storage.engine import transaction
from patron.web.deps import EngineDep, RulesDep, SettingsDep, WriteDB
from patron.web.public.i18n import choose_language, language_or_none, register, translate
from patron.web.public.render import client_ip, public_page, user_agent

router = APIRouter()
SEED_COOKIE_PREFIX = "pv_"
# Long enough to keep a visitor's variant through a visit and a return the next days; short
# enough that it is not a tracking identifier.
SEED_COOKIE_MAX_AGE_S = 7 * 24 * 3600
_SEED = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_NAME_CHARS = 200
UPSERT_RETRIES = 3

MESSAGES = {
    "en": {
        "form_email": "Email address",
        "form_name": "Name",
        "form_optional": "optional",
        "form_country": "Country",
        "form_country_none": "Prefer not to say",
        "form_country_hint": (
            "Privacy laws differ by country: it decides whether we ask you to confirm by email."
        ),
        "form_topics": "What would you like to receive?",
        "form_topic_single": "You will receive: {topic}.",
        "form_consent": "I agree to receive these messages as described above.",
        "form_button": "Subscribe",
        "form_notice_version": "Notice version {version}",
        "form_errors_title": "There is a problem",
        "form_error_email_missing": "Enter your email address.",
        "form_error_email_invalid": "Enter an email address like name@example.com ({reason}).",
        "form_error_email_typo": "Check the address: did you mean {suggestion}?",
        "form_error_email_unusable": "Use a personal address: we cannot subscribe a shared or temporary one.",
        "form_error_consent": "Tick the box to agree, or we cannot subscribe you.",
        "form_error_topics": "Choose at least one topic.",
        "form_error_topic_unknown": "Choose topics from the list.",
        "form_error_country": "Choose a country from the list.",
        "form_error_name": "Enter a name of at most {limit} characters.",
        "form_error_other": "We could not take your sign-up: {reason}",
        "form_pending_title": "Check your inbox",
        "form_pending_body": (
            "We sent a message to {address}. Open the link in it to confirm your subscription: "
            "until then, we send you nothing else."
        ),
        "form_done_title": "You are subscribed",
        "form_done_body": "Thank you: {address} is subscribed.",
        "form_closed_title": "This form is closed",
        "form_closed_body": "This sign-up form is no longer available.",
        "form_missing_title": "There is no form here",
        "form_missing_body": "Check the address of the page: there is no sign-up form at this one.",
    },
    "ko": {
        "form_email": "이메일 주소",
        "form_name": "이름",
        "form_optional": "선택",
        "form_country": "국가",
        "form_country_none": "선택하지 않음",
        "form_country_hint": (
            "개인정보 보호법은 국가마다 다릅니다. 이메일 확인 절차가 필요한지 국가에 따라 정해집니다."
        ),
        "form_topics": "어떤 소식을 받으시겠어요?",
        "form_topic_single": "받으실 소식: {topic}",
        "form_consent": "위에 안내된 내용에 따라 광고성 정보 수신에 동의합니다.",
        "form_button": "구독하기",
        "form_notice_version": "고지문 버전 {version}",
        "form_errors_title": "입력 내용을 확인해 주세요",
        "form_error_email_missing": "이메일 주소를 입력해 주세요.",
        "form_error_email_invalid": "name@example.com 형식의 이메일 주소를 입력해 주세요({reason}).",
        "form_error_email_typo": "주소를 확인해 주세요. {suggestion}을(를) 입력하려던 것인가요?",
        "form_error_email_unusable": (
            "개인 이메일 주소를 사용해 주세요. 공용 주소나 임시 주소로는 구독할 수 없습니다."
        ),
        "form_error_consent": "수신에 동의하셔야 구독하실 수 있습니다. 동의란에 표시해 주세요.",
        "form_error_topics": "주제를 하나 이상 선택해 주세요.",
        "form_error_topic_unknown": "목록에 있는 주제를 선택해 주세요.",
        "form_error_country": "목록에서 국가를 선택해 주세요.",
        "form_error_name": "이름은 {limit}자 이하로 입력해 주세요.",
        "form_error_other": "구독 신청을 처리하지 못했습니다: {reason}",
        "form_pending_title": "메일함을 확인해 주세요",
        "form_pending_body": (
            "{address}(으)로 메일을 보냈습니다. 메일의 링크를 눌러 구독을 확인해 주세요. "
            "확인 전에는 다른 메일을 보내지 않습니다."
        ),
        "form_done_title": "구독되었습니다",
        "form_done_body": "감사합니다. {address}(으)로 구독되었습니다.",
        "form_closed_title": "마감된 신청서입니다",
        "form_closed_body": "이 구독 신청서는 더 이상 사용할 수 없습니다.",
        "form_missing_title": "신청서가 없습니다",
        "form_missing_body": "페이지 주소를 확인해 주세요. 이 주소에는 구독 신청서가 없습니다.",
    },
}
register(MESSAGES)


@dataclass
class Entry:
    """What a visitor typed, kept to fill the form again when something is wrong."""

    email: str = ""
    name: str = ""
    country: str = ""
    topics: list[str] = field(default_factory=list)
    consent: bool = False


@cache
def countries(lang: str) -> list[tuple[str, str]]:
    """(code, name) of every country, named and sorted in the page language."""
    names = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
    listed = [(c.alpha_2, names.gettext(c.name)) for c in pycountry.countries]
    return sorted(listed, key=lambda item: item[1])


def _closed_page(request: Request, lang: str, *, missing: bool) -> HTMLResponse:
    which = "missing" if missing else "closed"
    context = {"title_key": f"form_{which}_title", "body_key": f"form_{which}_body", "kind": "info"}
    return public_page(request, "form_outcome.html", context, lang=lang, status_code=404)


def _open_form(conn: Connection, key: str) -> consent_forms.Form | None:
    """The form people can sign up through, or None when there is none or it is closed."""
    try:
        form = consent_forms.get_form(conn, key)
    except NotFound:
        return None
    return form if form.is_active and form.kind == consent_forms.SUBSCRIBE else None


def _form_page(
    request: Request,
    conn: Connection,
    form: consent_forms.Form,
    variant_key: str,
    lang: str,
    *,
    entry: Entry | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    variant = form.variant(variant_key) or form.variants[0]
    topics = [get_topic(conn, key) for key in form.topics]
    context = {
        "form": form,
        "variant": variant,
        "variant_key": variant_key,
        "topics": [(t.key, t.name_in(lang), t.description_in(lang)) for t in topics],
        "countries": countries(lang),
        "entry": entry or Entry(),
        "errors": errors or {},
        "title": variant.heading or form.name,
    }
    return public_page(request, "form.html", context, lang=lang, status_code=status_code)


@router.get("/s/{key}", response_class=HTMLResponse)
def form_page(key: str, request: Request, conn: WriteDB, settings: SettingsDep) -> HTMLResponse:
    """The hosted sign-up form in a variant picked for this visitor; counts a view."""
    lang = choose_language(request)
    form = _open_form(conn, key)
    if form is None:
        return _closed_page(request, lang, missing=not _exists(conn, key))
    cookie = SEED_COOKIE_PREFIX + key
    seed = request.cookies.get(cookie, "")
    if not _SEED.match(seed):
        seed = secrets.token_urlsafe(18)
    variant = consent_forms.choose_variant(form, seed)
    consent_forms.count(conn, key, variant.key, views=1)
    response = _form_page(request, conn, form, variant.key, lang)
    response.set_cookie(
        cookie,
        seed,
        max_age=SEED_COOKIE_MAX_AGE_S,
        path=f"/s/{key}",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def _exists(conn: Connection, key: str) -> bool:
    try:
        consent_forms.get_form(conn, key)
    except NotFound:
        return False
    return True


@router.post("/s/{key}", response_class=HTMLResponse)
def sign_up(
    key: str,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    rules: RulesDep,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    topics: Annotated[list[str], Form()] = [],  # noqa: B006 -- FastAPI copies a Form default
    consent: Annotated[str, Form()] = "",
    variant: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Take a sign-up: check it, upsert the person, record consent per topic, count it."""
    language = language_or_none(lang) or choose_language(request)
    if website.strip():
        # The hidden field only a bot fills: it gets the usual answer and nothing is written.
        context = {"title_key": "form_pending_title", "body_key": "form_pending_body",
                   "address": email.strip(), "kind": "info"}  # fmt: skip
        return public_page(request, "form_outcome.html", context, lang=language)
    entry = Entry(
        email.strip(), name.strip(), country.strip().upper(), [t for t in topics if t], bool(consent)
    )
    for attempt in range(1, UPSERT_RETRIES + 1):
        try:
            with transaction(engine) as conn:
                return _sign_up(request, conn, settings, rules, key, entry, variant, language)
        except ConcurrentWrite:
            if attempt == UPSERT_RETRIES:
                raise
        except PatronError as exc:
            # The sign-up's writes are rolled back; the form comes back with the reason.
            with transaction(engine, write=False) as conn:
                form = _open_form(conn, key)
                if form is None:
                    raise
                where = exc.field if exc.field in ("email", "topics") else "form"
                errors = {where: translate(language, "form_error_other", reason=exc.message)}
                variant_key = _variant_of(request, form, variant)
                return _form_page(
                    request, conn, form, variant_key, language, entry=entry, errors=errors, status_code=422
                )
    raise AssertionError("unreachable: the last attempt returns or raises")


def _sign_up(
    request: Request,
    conn: Connection,
    settings: Settings,
    rules: IdentityRules,
    key: str,
    entry: Entry,
    posted_variant: str,
    lang: str,
) -> HTMLResponse:
    form = _open_form(conn, key)
    if form is None:
        return _closed_page(request, lang, missing=not _exists(conn, key))
    variant_key = _variant_of(request, form, posted_variant)
    address, errors = _check(form, entry, lang)
    if errors:
        return _form_page(request, conn, form, variant_key, lang, entry=entry, errors=errors, status_code=422)
    chosen = consent_forms.topic_choices(form, entry.topics) or [GLOBAL]
    profile_id = _subscriber(conn, settings, rules, form, entry, address, lang)
    proof = Change(
        channel=form.channel,
        action="grant",
        legal_basis="consent",
        method="form",
        notice_text=form.notice_text,
        notice_version=form.notice_version,
        source=f"form:{form.key}",
        ip=client_ip(request),
        user_agent=user_agent(request),
        actor="subscriber",
        detail={"form": form.key, "variant": variant_key},
    )
    stored = states_of(conn, [profile_id]).get(profile_id, {})
    withdrawn = {
        topic
        for (channel, topic), row in stored.items()
        if channel == form.channel and row.state == UNSUBSCRIBED
    }
    # A sign-up lifts an "unsubscribe from all" (as ticking a topic in the preference centre
    # does), but anyone can type any address: undoing a withdrawal waits for the person to
    # confirm by email, whatever their region.
    topics = ([GLOBAL] if GLOBAL in withdrawn and chosen != [GLOBAL] else []) + chosen
    outcomes = [
        change_consent(
            conn,
            settings,
            profile_id,
            replace(proof, topic=topic),
            double_opt_in=True if GLOBAL in withdrawn or topic in withdrawn else None,
            send_confirmation=False,
        )
        for topic in topics
    ]
    waiting = [o.ledger_id for o in outcomes if o.state == PENDING]
    if waiting:  # one mail confirms every topic of this sign-up
        queue_confirmation(conn, waiting)
    consent_forms.count(conn, form.key, variant_key, submissions=1)
    pending = any(o.state == PENDING for o in outcomes)
    which = "pending" if pending else "done"
    context = {
        "title_key": f"form_{which}_title",
        "body_key": f"form_{which}_body",
        "address": address,
        "kind": "info" if pending else "good",
    }
    return public_page(request, "form_outcome.html", context, lang=lang)


def _variant_of(request: Request, form: consent_forms.Form, posted: str) -> str:
    """The variant a sign-up counts for: the one posted when the form has it (or the snippet's),
    else the visitor's seeded one, else the snippet's."""
    if form.variant(posted) is not None or posted == consent_forms.EMBED_VARIANT:
        return posted
    seed = request.cookies.get(SEED_COOKIE_PREFIX + form.key, "")
    if _SEED.match(seed):
        return consent_forms.choose_variant(form, seed).key
    return consent_forms.EMBED_VARIANT


def _check(form: consent_forms.Form, entry: Entry, lang: str) -> tuple[str, dict[str, str]]:
    """The normalised address and {field: message in the page language} for what is wrong."""
    errors: dict[str, str] = {}
    address = ""
    if not entry.email:
        errors["email"] = translate(lang, "form_error_email_missing")
    else:
        try:
            address = normalise_email(entry.email)
        except IdentityError as exc:
            errors["email"] = translate(lang, "form_error_email_invalid", reason=str(exc))
        else:
            verdict = check_email(address)
            if verdict.suggestion:
                errors["email"] = translate(lang, "form_error_email_typo", suggestion=verdict.suggestion)
            elif verdict.role or verdict.disposable:
                errors["email"] = translate(lang, "form_error_email_unusable")
    if len(entry.name) > MAX_NAME_CHARS:
        errors["name"] = translate(lang, "form_error_name", limit=MAX_NAME_CHARS)
    if entry.country and entry.country not in {code for code, _ in countries("en")}:
        errors["country"] = translate(lang, "form_error_country")
    try:
        consent_forms.topic_choices(form, entry.topics)
    except Invalid:
        missing = not entry.topics
        errors["topics"] = translate(lang, "form_error_topics" if missing else "form_error_topic_unknown")
    if not entry.consent:
        errors["consent"] = translate(lang, "form_error_consent")
    return address, errors


def _subscriber(
    conn: Connection,
    settings: Settings,
    rules: IdentityRules,
    form: consent_forms.Form,
    entry: Entry,
    address: str,
    lang: str,
) -> str:
    """The person signing up, created when new. Anyone can type any address, so a sign-up only
    fills traits a known person lacks: it never rewrites their name or country (the country
    decides whether a confirmation mail is needed)."""
    traits: dict[str, Any] = {"email": address}
    if entry.name:
        first, last = profiles.split_name(entry.name)
        traits.update({k: v for k, v in (("first_name", first), ("last_name", last)) if v})
    if entry.country:
        traits["country"] = entry.country
    traits["locale"] = lang
    try:
        known = profiles.lookup(conn, "email", address, region=None).traits
    except NotFound:
        known = {}
    traits = {k: v for k, v in traits.items() if k == "email" or known.get(k) in (None, "")}
    record = profiles.prepare_record(
        traits,
        source=form.source,
        field_types=field_types(conn),
        default_region=entry.country or settings.default_region,
        rules=rules,
        entry=entry_rules(conn, form.source),
    )
    if not record.has_identity:
        raise Invalid(record.no_identity_reason(), field="email")
    return profiles.upsert_records(conn, [record], rules=rules).records[0].profile_id
