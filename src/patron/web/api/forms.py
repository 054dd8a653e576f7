"""/api/v1/forms: hosted subscribe forms and preference-centre layouts, their variants'
results, and the HTML snippet that embeds a form in another site."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from patron.consent import forms, list_topics
from patron.web.deps import ReadDB, SettingsDep, WriteDB

router = APIRouter(tags=["forms"])

FORM_EXAMPLE = {
    "key": "newsletter",
    "name": "Newsletter sign-up",
    "kind": "subscribe",
    "channel": "email",
    "topics": ["news"],
    "notice_text": "We send our newsletter about once a month. Unsubscribe at any time.",
    "notice_version": "2026-12",
    "variants": [
        {"key": "a", "weight": 1, "heading": "Get our newsletter", "intro": "", "button": "Subscribe"},
        {"key": "b", "weight": 1, "heading": "News, once a month", "intro": "", "button": "Count me in"},
    ],
    "is_active": True,
}


class FormIn(BaseModel):
    """A form as created or changed: key, name, kind (subscribe|preferences), channel, topics,
    notice_text, notice_version, variants [{key, weight, heading, intro, button}], is_active.
    The domain checks every field and names the one that is wrong."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [FORM_EXAMPLE]})


@router.get("/forms")
def get_forms(
    conn: ReadDB, kind: Literal["subscribe", "preferences"] | None = None, active: bool = False
) -> dict[str, Any]:
    """Forms, newest first; `active=true` lists only the ones taking sign-ups."""
    found = forms.list_forms(conn, kind=kind, active_only=active)
    return {"data": [f.as_dict() for f in found], "next_cursor": None}


@router.post("/forms", status_code=201)
def post_form(body: FormIn, conn: WriteDB) -> dict[str, Any]:
    """Create a form; it is live at /s/{key} at once when it is an active subscribe form."""
    return forms.create_form(conn, body.model_dump()).as_dict()


@router.get("/forms/{key}")
def get_form(key: str, conn: ReadDB) -> dict[str, Any]:
    """One form."""
    return forms.get_form(conn, key).as_dict()


@router.patch("/forms/{key}")
def patch_form(key: str, body: FormIn, conn: WriteDB) -> dict[str, Any]:
    """Change some of a form's fields; a new notice text needs a new notice_version."""
    return forms.update_form(conn, key, body.model_dump()).as_dict()


@router.get("/forms/{key}/results")
def get_results(
    key: str,
    conn: ReadDB,
    days: Annotated[int, Query(ge=1, le=366, description="Days of daily counts")] = forms.RESULT_DAYS,
) -> dict[str, Any]:
    """Views, submissions, conversion and drop-off per variant, the totals, and daily counts."""
    return forms.results(conn, key, days=days)


@router.get("/forms/{key}/embed")
def get_embed(
    key: str,
    conn: ReadDB,
    settings: SettingsDep,
    lang: Annotated[Literal["en", "ko"], Query(description="Language of the snippet's labels")] = "en",
) -> dict[str, Any]:
    """{"html"}: a plain HTML form (no script) to paste into another site; it posts to /s/{key}."""
    form = forms.get_form(conn, key)
    names = {t.key: t.name_in(lang) for t in list_topics(conn, include_archived=True)}
    return {"html": forms.embed_snippet(form, settings.base_url, topic_names=names, language=lang)}
