"""Admin pages for lead scoring: the rules (add, edit, deactivate, delete), the stages and their
thresholds, how fast points fade, how scores are spread and who the top leads are."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from patron import profiles, scoring, segments
from patron.computed.filters import describe_filters
from patron.errors import Invalid
from patron.scoring.reports import band_counts, top_leads
from patron.scoring.rules import KINDS, REPEATS, ScoringRule
from patron.web.admin.auth import AdminSession, CsrfSession
from patron.web.admin.charts import bar_chart
from patron.web.admin.render import attempt, page
from patron.web.deps import EngineDep, ReadDB

router = APIRouter()
TOP_LEADS = 20
# Top leads are read from the highest score bands down until this many people are in view, then
# ordered by score; a single band holding more than this shows a sample of it.
BLANK_STAGE_ROWS = 2
DONE = {
    "rule": "Rule saved and applied to everyone.",
    "deleted": "Rule deleted; the points it gave were taken back.",
    "stages": "Stages saved; everyone was moved to their new stage.",
    "half_life": "Half-life saved; every score was recomputed.",
}


# --- Rules as the form posts them -------------------------------------------------------------


class RuleEntry(BaseModel):
    """A rule as the admin's form posts it: filters and the condition in the definition language."""

    model_config = ConfigDict(extra="ignore")

    name: str = ""
    kind: str = "event"
    event: str = ""
    where: str = ""
    condition: str = ""
    points: str = ""
    repeat: str = "each"
    max_awards: str = ""
    is_active: str | None = None

    @classmethod
    def of(cls, rule: ScoringRule) -> RuleEntry:
        """The form's fields for a stored rule."""
        return cls(
            name=rule.name,
            kind=rule.kind,
            event=rule.event or "",
            where=describe_filters(rule.where),
            condition=rule.definition or "",
            points=f"{rule.points:g}",
            repeat=rule.repeat,
            max_awards="" if rule.max_awards is None else str(rule.max_awards),
            is_active="yes" if rule.is_active else None,
        )

    def fields(self) -> dict[str, Any]:
        """The scoring domain's fields; Invalid names what cannot be read."""
        data: dict[str, Any] = {
            "name": self.name.strip(),
            "kind": self.kind,
            "points": _points(self.points),
            "is_active": self.is_active == "yes",
        }
        if self.kind == "trait":
            return {**data, "condition": self.condition.replace("\r\n", "\n").strip()}
        return {
            **data,
            "event": self.event.strip(),
            "where": parse_filters(self.where),
            "repeat": self.repeat,
            "max_awards": _whole(self.max_awards),
        }


def parse_filters(text: str) -> list[dict[str, Any]]:
    """`path = "/pricing" and plan != "free"` as event filters; Invalid says where it stops making sense."""
    if not text.strip():
        return []
    try:
        tree = segments.parse(text)
    except Invalid as exc:
        raise Invalid(f"where: {exc.message}", field="where", details=exc.details) from None
    parts = tree["and"] if "and" in tree else [tree]
    if any("trait" not in part or part["op"] in ("in", "set", "not_set") for part in parts):
        raise Invalid(
            'where: write property filters joined by "and", like path = "/pricing" and plan != "free"',
            field="where",
        )
    return [{"property": p["trait"], "op": p["op"], "value": p["value"]} for p in parts]


def _points(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise Invalid(
            "points must be a number other than 0 (negative takes points away)", field="points"
        ) from None


def _whole(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid(
            "max awards must be a whole number of at least 1, or blank for no limit", field="max_awards"
        ) from None


# --- The scoring page -------------------------------------------------------------------------


def score_bands(conn: Connection, stages: list[dict[str, Any]]) -> list[tuple[str, int, float | None]]:
    """(label, people, lowest score) per score band: below the first stage, then one per stage."""
    edges: list[tuple[str, float | None, float | None]] = []
    thresholds = [s["threshold"] for s in stages]
    if not stages or thresholds[0] > 0 or any(t < 0 for t in thresholds):
        edges.append(
            (f"below {stages[0]['name']}" if stages else "scored", None, thresholds[0] if stages else None)
        )
    for n, stage in enumerate(stages):
        upper = thresholds[n + 1] if n + 1 < len(stages) else None
        edges.append((stage["name"], stage["threshold"], upper))
    counts = band_counts(conn, [lower for _, lower, _ in edges])
    return [
        (f"{name} ({_span(lower, upper)})", count, lower)
        for (name, lower, upper), count in zip(edges, counts, strict=True)
    ]


def _span(lower: float | None, upper: float | None) -> str:
    if lower is None:
        return "any score" if upper is None else f"< {upper:g}"
    return f"{lower:g}+" if upper is None else f"{lower:g}–{upper:g}"


def _top_leads(conn: Connection) -> list[dict[str, Any]]:
    """The highest scores first, named for the page."""
    return [
        {
            "id": lead["id"],
            "name": profiles.display_name(lead["traits"]) or lead["traits"].get("email") or lead["id"],
            "score": lead["score"],
            "stage": lead["stage"] or "",
        }
        for lead in top_leads(conn, TOP_LEADS)
    ]


def _scoring_page(
    request: Request,
    conn: Connection,
    *,
    done: str | None = None,
    error: str | None = None,
    entered: RuleEntry | None = None,
    stages_entered: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    stages = scoring.list_stages(conn)
    bands = score_bands(conn, stages)
    context = {
        "active": "scoring",
        "rules": scoring.list_rules(conn),
        "stages": stages_entered if stages_entered is not None else stages,
        "blank_stages": BLANK_STAGE_ROWS,
        "half_life": scoring.get_half_life_days(conn),
        "chart": bar_chart([(label, count) for label, count, _ in bands], title="People by lead score"),
        "top": _top_leads(conn),
        "entered": entered or RuleEntry(is_active="yes"),
        "kinds": KINDS,
        "repeats": REPEATS,
        "done": done,
        "error": error,
    }
    return page(request, "scoring.html", context, status_code=status_code)


@router.get("/scoring", response_class=HTMLResponse)
def scoring_page(request: Request, session: AdminSession, conn: ReadDB, done: str | None = None) -> Response:
    """Rules, stages, half-life, the spread of scores and the top leads."""
    return _scoring_page(request, conn, done=DONE.get(done or ""))


@router.post("/scoring/rules")
def create_rule(
    request: Request, session: CsrfSession, engine: EngineDep, entry: Annotated[RuleEntry, Form()]
) -> Response:
    """Add a rule; it applies to everyone at once."""

    def act(conn: Connection) -> str:
        scoring.create_rule(conn, entry.fields())
        return "/admin/scoring?done=rule#rules"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _scoring_page(
            request, conn, error=error, entered=entry, status_code=status
        ),
    )


def _rule_page(
    request: Request,
    conn: Connection,
    rule_id: int,
    *,
    entered: RuleEntry | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rule = scoring.get_rule(conn, rule_id)
    context = {
        "active": "scoring",
        "rule": rule,
        "entered": entered or RuleEntry.of(rule),
        "kinds": KINDS,
        "repeats": REPEATS,
        "error": error,
    }
    return page(request, "scoring_rule.html", context, status_code=status_code)


@router.get("/scoring/rules/{rule_id}", response_class=HTMLResponse)
def rule_page(request: Request, rule_id: int, session: AdminSession, conn: ReadDB) -> Response:
    """One rule's form."""
    return _rule_page(request, conn, rule_id)


@router.post("/scoring/rules/{rule_id}")
def update_rule(
    request: Request,
    rule_id: int,
    session: CsrfSession,
    engine: EngineDep,
    entry: Annotated[RuleEntry, Form()],
) -> Response:
    """Save a rule's changes and re-apply it to everyone."""

    def act(conn: Connection) -> str:
        changes = entry.fields()
        changes.pop("kind")  # a rule's kind is fixed once made
        scoring.update_rule(conn, rule_id, changes)
        return "/admin/scoring?done=rule#rules"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _rule_page(
            request, conn, rule_id, entered=entry, error=error, status_code=status
        ),
    )


@router.post("/scoring/rules/{rule_id}/active")
def set_rule_active(
    request: Request,
    rule_id: int,
    session: CsrfSession,
    engine: EngineDep,
    is_active: Annotated[str, Form()] = "",
) -> Response:
    """Switch a rule on or off (off keeps it, and takes back what a trait rule holds)."""

    def act(conn: Connection) -> str:
        scoring.update_rule(conn, rule_id, {"is_active": is_active == "yes"})
        return "/admin/scoring?done=rule#rules"

    return attempt(
        engine, act, lambda conn, error, status: _scoring_page(request, conn, error=error, status_code=status)
    )


@router.post("/scoring/rules/{rule_id}/delete")
def delete_rule(request: Request, rule_id: int, session: CsrfSession, engine: EngineDep) -> Response:
    """Delete a rule and every point it gave."""

    def act(conn: Connection) -> str:
        scoring.delete_rule(conn, rule_id)
        return "/admin/scoring?done=deleted#rules"

    return attempt(
        engine, act, lambda conn, error, status: _scoring_page(request, conn, error=error, status_code=status)
    )


@router.post("/scoring/stages")
def save_stages(
    request: Request,
    session: CsrfSession,
    engine: EngineDep,
    stage_name: Annotated[list[str] | None, Form()] = None,
    stage_threshold: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Replace the stages (rows left blank are dropped) and move everyone to their new stage."""
    names, thresholds = stage_name or [], stage_threshold or []
    rows: list[dict[str, Any]] = []
    for name, threshold in zip(names, thresholds + [""] * (len(names) - len(thresholds)), strict=False):
        if name.strip() or threshold.strip():
            rows.append({"name": name.strip(), "threshold": _threshold(threshold)})

    def act(conn: Connection) -> str:
        scoring.set_stages(conn, rows)
        return "/admin/scoring?done=stages#stages"

    return attempt(
        engine,
        act,
        lambda conn, error, status: _scoring_page(
            request, conn, error=error, stages_entered=rows, status_code=status
        ),
    )


def _threshold(text: str) -> float | str:
    # Text that is not a number goes to the domain as it is, which refuses it naming the stage.
    try:
        return float(text.strip())
    except ValueError:
        return text


@router.post("/scoring/half-life")
def save_half_life(
    request: Request, session: CsrfSession, engine: EngineDep, days: Annotated[str, Form()] = ""
) -> Response:
    """Change how fast event points fade (blank or 0: never) and recompute every score."""

    def act(conn: Connection) -> str:
        try:
            value = float(days) if days.strip() else None
        except ValueError:
            raise Invalid("half-life must be a number of days (blank or 0: points never fade)") from None
        scoring.set_half_life(conn, value)
        return "/admin/scoring?done=half_life#half-life"

    return attempt(
        engine, act, lambda conn, error, status: _scoring_page(request, conn, error=error, status_code=status)
    )


# --- The contact page's panel -----------------------------------------------------------------


def score_panel(conn: Connection, profile_id: str) -> dict[str, Any]:
    """What the contact page shows of scoring and segments: score, stage, each change's reason,
    and the segments the person is in."""
    return {"score": scoring.explain(conn, profile_id), "segments": segments.segments_of(conn, profile_id)}
