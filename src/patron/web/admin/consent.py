"""Admin consent pages: the overview with rates over time, topics, region policy, the
suppression list, and a person's consent panel (history, admin changes, export, erasure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine

from patron import consent, profiles
from patron.accounts import Session
from patron.consent import rates, suppression
from patron.consent.model import CHANNELS, GLOBAL, MODELS, STATES, TOPIC_POLICIES
from patron.consent.regions import BUILT_IN, overrides
from patron.errors import Invalid, PatronError
from patron.storage.engine import transaction
from patron.web.admin.auth import AdminSession, CsrfSession
from patron.web.admin.charts import bar_chart, lines_chart
from patron.web.admin.render import attempt, page
from patron.web.deps import EngineDep, ReadDB, SettingsDep
from patron.web.errors import status_of

router = APIRouter()
LEDGER_SHOWN = 200
SUPPRESSIONS_PER_PAGE = 100
RESTORE = "built_in"
ERASE_WORD = "ERASE"
# What the page after a change says; the query string only picks one of these.
DONE = {
    "region": "Region policy saved.",
    "restored": "Region restored to its built-in model.",
    "topic": "Topic saved.",
    "suppressed": "Address added to the suppression list (only its hash is kept).",
    "lifted": "Address removed from the suppression list.",
    "consent": "Consent change recorded in the ledger.",
}


def _actor(session: Session) -> str:
    return f"admin:{session.email}"


# --- Overview ---------------------------------------------------------------------------------


@router.get("/consent", response_class=HTMLResponse)
def overview(
    request: Request,
    session: AdminSession,
    conn: ReadDB,
    unit: str = "month",
    periods: int = 12,
    done: str | None = None,
) -> Response:
    """Who is subscribed to what, rates per topic over time, suppressions and region policy."""
    return _overview(request, conn, unit=unit, periods=periods, done=DONE.get(done or ""))


def _overview(
    request: Request,
    conn: Connection,
    *,
    unit: str = "month",
    periods: int = 12,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if unit not in rates.UNITS:
        unit = "month"
    periods = max(1, min(periods, rates.MAX_PERIODS))
    topics = {t.key: t for t in consent.list_topics(conn)}
    series = rates.topic_rates(conn, unit=unit, periods=periods)
    charts = [
        {
            "topic": topics[key],
            "svg": rates_chart(points, title=f"{topics[key].name}: rates per {unit}", unit=unit),
            "points": points,
        }
        for key, points in series.items()
    ]
    reasons = suppression.counts_by_reason(conn)
    table = consent.policies(conn)
    overridden = set(overrides(conn))
    context = {
        "active": "consent",
        "summary": rates.summary(conn),
        "everyone": rates.channel_summary(conn),
        "topics": topics,
        "states": STATES,
        "charts": charts,
        "unit": unit,
        "periods": periods,
        "suppressions_chart": bar_chart(sorted(reasons.items()), title="Suppressed addresses by reason"),
        "suppressed_total": sum(reasons.values()),
        "regions": [
            {"region": r, "model": m, "built_in": BUILT_IN.get(r), "overridden": r in overridden}
            for r, m in sorted(table.items(), key=lambda item: (item[0] == "*", item[0]))
        ],
        "models": MODELS,
        "restore": RESTORE,
        "done": done,
        "error": error,
    }
    return page(request, "consent.html", context, status_code=status_code)


@router.post("/consent/regions")
def set_region(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    region: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = "",
) -> Response:
    """Override a country's consent model, or restore the built-in one."""

    def act(conn: Connection) -> str:
        consent.set_policy(conn, region, None if model == RESTORE else model)
        return "/admin/consent?done=" + ("restored" if model == RESTORE else "region") + "#regions"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _overview(request, conn, error=error, status_code=status),
    )


def rates_chart(points: Sequence[rates.PeriodRates], *, title: str, unit: str) -> str:
    """Opt-in, opt-down and unsubscribe rates per period as three lines; a period that began
    without subscribers has no rate and leaves a gap."""
    labels = [p.start.strftime("%b %Y" if unit == "month" else "%d %b") for p in points]
    series = [
        ("Opt-ins", [p.opt_in_rate for p in points]),
        ("Opt-downs", [p.opt_down_rate for p in points]),
        ("Unsubscribes", [p.unsubscribe_rate for p in points]),
    ]
    notes = [
        [f"{count} of {p.subscribers} subscribers" for p, count in zip(points, counts, strict=True)]
        for counts in (
            [p.opt_ins for p in points],
            [p.opt_downs for p in points],
            [p.unsubscribes for p in points],
        )
    ]
    return lines_chart(labels, series, title=title, unit="%", notes=notes)


# --- Topics -----------------------------------------------------------------------------------


@router.get("/consent/topics", response_class=HTMLResponse)
def topics_page(request: Request, session: AdminSession, conn: ReadDB) -> Response:
    """Every topic, archived ones last, and a form to add one."""
    return _topics_page(request, conn)


def _topics_page(
    request: Request,
    conn: Connection,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    listed = consent.list_topics(conn, include_archived=True)
    context = {
        "active": "consent",
        "topics": sorted(listed, key=lambda t: (t.archived_at is not None, t.position, t.key)),
        "summary": rates.summary(conn),
        "channels": CHANNELS,
        "policies": TOPIC_POLICIES,
        "error": error,
        "form": form or {},
    }
    return page(request, "consent_topics.html", context, status_code=status_code)


@router.post("/consent/topics")
def create_topic(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    key: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    default: Annotated[str, Form()] = "opt_in",
    channels: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Add a topic, then open its page for the rest (regions, Korean text)."""
    data = {"key": key.strip(), "name": name or key, "description": description, "default": default,
            "channels": channels or []}  # fmt: skip

    def act(conn: Connection) -> str:
        topic = consent.create_topic(conn, data)
        return f"/admin/consent/topics/{topic.key}?done=topic"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _topics_page(request, conn, error=error, status_code=status, form=data),
    )


@router.get("/consent/topics/{key}", response_class=HTMLResponse)
def topic_page(
    request: Request, key: str, session: AdminSession, conn: ReadDB, done: str | None = None
) -> Response:
    """One topic's settings."""
    return _topic_page(request, conn, key, done=DONE.get(done or ""))


def _topic_page(
    request: Request,
    conn: Connection,
    key: str,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    topic = consent.get_topic(conn, key)
    context = {
        "active": "consent",
        "topic": topic,
        "counts": rates.summary(conn).get(key),
        "region_text": "\n".join(f"{r}={p}" for r, p in sorted(topic.region_defaults.items())),
        "channels": CHANNELS,
        "policies": TOPIC_POLICIES,
        "done": done,
        "error": error,
    }
    return page(request, "consent_topic.html", context, status_code=status_code)


@router.post("/consent/topics/{key}")
def update_topic(
    request: Request,
    key: str,
    session: CsrfSession,
    engine: EngineDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    default: Annotated[str, Form()] = "opt_in",
    channels: Annotated[list[str] | None, Form()] = None,
    region_defaults: Annotated[str, Form()] = "",
    ko_name: Annotated[str, Form()] = "",
    ko_description: Annotated[str, Form()] = "",
    archived: Annotated[str, Form()] = "",
) -> Response:
    """Save a topic's name, description, default, channels, per-region defaults, Korean text and
    whether it is archived."""

    def act(conn: Connection) -> str:
        consent.update_topic(
            conn,
            key,
            {
                "name": name,
                "description": description,
                "default": default,
                "channels": channels or [],
                "region_defaults": parse_region_defaults(region_defaults),
                "translations": {"ko": {"name": ko_name.strip(), "description": ko_description.strip()}},
                "archived": bool(archived),
            },
        )
        return f"/admin/consent/topics/{key}?done=topic"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _topic_page(request, conn, key, error=error, status_code=status),
    )


def parse_region_defaults(text: str) -> dict[str, str]:
    """'KR=opt_in' pairs, one a line or comma-separated, into {"KR": "opt_in"}; Invalid names the line."""
    found: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        region, sign, policy = line.partition("=")
        if not sign or policy.strip() not in TOPIC_POLICIES:
            raise Invalid(
                f"per-region defaults: {line!r} should read like KR=opt_in or US=opt_out",
                field="region_defaults",
            )
        found[region.strip().upper()] = policy.strip()
    return found


# --- Suppressions -----------------------------------------------------------------------------


@router.get("/consent/suppressions", response_class=HTMLResponse)
def suppressions_page(
    request: Request,
    session: AdminSession,
    conn: ReadDB,
    reason: str | None = None,
    offset: int = 0,
    done: str | None = None,
) -> Response:
    """The suppression list, newest first, with forms to add and remove addresses."""
    return _suppressions_page(request, conn, reason=reason, offset=offset, done=DONE.get(done or ""))


def _suppressions_page(
    request: Request,
    conn: Connection,
    *,
    reason: str | None = None,
    offset: int = 0,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    reason = reason if reason in suppression.REASONS else None
    offset = max(0, offset)
    listed = suppression.list_suppressions(conn, reason=reason, limit=SUPPRESSIONS_PER_PAGE, offset=offset)
    context = {
        "active": "consent",
        "suppressions": listed,
        "counts": suppression.counts_by_reason(conn),
        "reasons": suppression.REASONS,
        "reason": reason,
        "channels": tuple(suppression.ADDRESS_KIND),
        "offset": offset,
        "next_offset": offset + SUPPRESSIONS_PER_PAGE if len(listed) == SUPPRESSIONS_PER_PAGE else None,
        "done": done,
        "error": error,
    }
    return page(request, "consent_suppressions.html", context, status_code=status_code)


@router.post("/consent/suppressions")
def add_suppression(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    address: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "email",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Suppress an address typed in: it is normalised and hashed at once, never stored in clear."""

    def act(conn: Connection) -> str:
        if not address.strip():
            raise Invalid("type the address to suppress", field="address")
        consent.suppress_address(
            conn, channel, address, "manual", note=note.strip()[:500], actor=_actor(session)
        )
        return "/admin/consent/suppressions?done=suppressed"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _suppressions_page(request, conn, error=error, status_code=status),
    )


@router.post("/consent/suppressions/remove")
def remove_suppression(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    address_hash: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "email",
) -> Response:
    """Take one entry off the list, whatever put it there."""

    def act(conn: Connection) -> str:
        suppression.remove(conn, channel, address_hash)
        return "/admin/consent/suppressions?done=lifted"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _suppressions_page(request, conn, error=error, status_code=status),
    )


# --- A person's consent (the panel on the contact page) ---------------------------------------


def consent_panel(request: Request, conn: Connection, profile_id: str) -> dict[str, Any]:
    """What the contact page's consent panel shows: states, preferences, the ledger, links, and
    the notice of a form just sent."""
    topics = {t.key: t for t in consent.list_topics(conn, include_archived=True)}
    return {
        "status": consent.consent_of(conn, profile_id),
        "topics": topics,
        "ledger": consent.ledger_of(conn, profile_id, limit=LEDGER_SHOWN),
        "ledger_limit": LEDGER_SHOWN,
        "links": consent.links_for(conn, request.app.state.settings, profile_id),
        "channels": CHANNELS,
        "legal_bases": consent.LEGAL_BASES,
        "offered": [t for t in topics.values() if t.archived_at is None],
        "erase_word": ERASE_WORD,
        **page_notices(request),
    }


@router.post("/contacts/{profile_id}/consent")
def record_consent(
    request: Request,
    profile_id: str,
    session: CsrfSession,
    engine: EngineDep,
    settings: SettingsDep,
    channel: Annotated[str, Form()] = "email",
    topic: Annotated[str, Form()] = GLOBAL,
    action: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "consent",
    notice_version: Annotated[str, Form()] = "",
    notice_text: Annotated[str, Form()] = "",
) -> Response:
    """Record a grant or withdrawal made by the admin (method admin, no double opt-in: the admin
    vouches for the proof named in the notice)."""
    change = consent.Change(
        channel=channel,
        action=action,
        topic=topic,
        legal_basis=legal_basis,
        method="admin",
        notice_text=notice_text.strip(),
        notice_version=notice_version.strip(),
        source="admin",
        actor=_actor(session),
    )
    try:
        with transaction(engine) as conn:
            profiles.get_profile(conn, profile_id)
            consent.change_consent(conn, settings, profile_id, change, double_opt_in=False)
    except PatronError as exc:
        return _contact_again(
            request, session, engine, profile_id, consent_error=exc.message, status=status_of(exc)
        )
    return RedirectResponse(f"/admin/contacts/{profile_id}?done=consent#consent", status_code=303)


def _contact_again(
    request: Request, session: Session, engine: Engine, profile_id: str, *, status: int, **notices: str
) -> Response:
    """The contact page once more, its consent panel saying why a form was refused."""
    from patron.web.admin.pages import contact  # pages includes this module's panel

    request.state.consent_notices = notices
    with transaction(engine, write=False) as conn:
        response = contact(request, profile_id, session, conn)
    response.status_code = status
    return response


@router.get("/contacts/{profile_id}/export")
def export_contact(profile_id: str, session: AdminSession, conn: ReadDB) -> Response:
    """Everything about the person as a JSON download."""
    from patron import gdpr  # the data-rights package; imported here so this page loads without it

    data = gdpr.export_profile(conn, profile_id)
    return Response(
        orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="patron-{profile_id}.json"'},
    )


@router.post("/contacts/{profile_id}/erase")
def erase_contact(
    request: Request,
    profile_id: str,
    session: CsrfSession,
    engine: EngineDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Erase the person once the admin has typed their email or the word ERASE; the database is
    scrubbed after the erasure commits, so no deleted bytes linger."""
    from patron import gdpr  # the data-rights package; imported here so this page loads without it

    typed = confirm.strip()
    with transaction(engine, write=False) as conn:
        email = str(profiles.get_profile(conn, profile_id).traits.get("email") or "")
    if typed != ERASE_WORD and not (email and typed.lower() == email.lower()):
        message = f"Nothing was erased: type the person's email address or the word {ERASE_WORD} to confirm."
        return _contact_again(request, session, engine, profile_id, erase_error=message, status=422)
    with transaction(engine) as conn:
        gdpr.erase_profile(conn, profile_id, actor=_actor(session), method="admin")
    gdpr.scrub(engine)
    return RedirectResponse("/admin/consent/erased", status_code=303)


@router.get("/consent/erased", response_class=HTMLResponse)
def erased_page(request: Request, session: AdminSession) -> Response:
    """Where an erasure lands: what was removed and what is kept."""
    return page(request, "consent_erased.html", {"active": "contacts"})


def page_notices(request: Request) -> dict[str, str | None]:
    """The consent panel's notices: a refused form's reason (set on the request by the handlers
    above, never read from the URL) or a fixed text the query string picks."""
    refused = getattr(request.state, "consent_notices", {})
    return {
        "done": DONE.get(request.query_params.get("done", "")) if not refused else None,
        "error": refused.get("consent_error"),
        "erase_error": refused.get("erase_error"),
    }
