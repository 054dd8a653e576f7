"""/api/v1 scoring: rules, stages, the half-life, and why a person has the score they have."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from patron import scoring
from patron.web.deps import ReadDB, WriteDB

router = APIRouter(tags=["scoring"])


class RuleIn(BaseModel):
    """A rule: kind "event" (points per matching event) or "trait" (points while a condition holds).

    Values are checked by the rule itself, so a mistake comes back naming the field and the fix."""

    model_config = ConfigDict(extra="forbid")

    name: Any = Field(examples=["Viewed pricing"])
    kind: Any = Field(examples=["event"])
    points: Any = Field(examples=[5])
    event: Any = Field(default=None, examples=["Page Viewed"])
    where: Any = Field(default=None, examples=[[{"property": "path", "op": "=", "value": "/pricing"}]])
    condition: Any = Field(default=None, description="Trait rules: a segment definition, text or tree",
                           examples=['country = "KR"'])  # fmt: skip
    repeat: Any = Field(default="each", description="once | each")
    max_awards: Any = None
    is_active: Any = True


class RulePatch(BaseModel):
    """What to change in a rule; it is re-applied to everyone."""

    model_config = ConfigDict(extra="forbid")

    name: Any = None
    points: Any = None
    event: Any = None
    where: Any = None
    condition: Any = None
    repeat: Any = None
    max_awards: Any = None
    is_active: Any = None


class StagesIn(BaseModel):
    """The stages, each reached at a score: [{"name": "MQL", "threshold": 40}, ...]."""

    model_config = ConfigDict(extra="forbid")

    stages: Any = Field(examples=[[{"name": "lead", "threshold": 10}, {"name": "MQL", "threshold": 40}]])


class SettingsIn(BaseModel):
    """How fast event points fade: half their worth every `half_life_days` (0 or null: never)."""

    model_config = ConfigDict(extra="forbid")

    half_life_days: Any = Field(examples=[30])


@router.get("/scoring/rules")
def list_rules(conn: ReadDB) -> dict[str, Any]:
    """Every scoring rule, oldest first."""
    return {"data": [rule.as_dict() for rule in scoring.list_rules(conn)], "next_cursor": None}


@router.post("/scoring/rules", status_code=201)
def create_rule(body: RuleIn, conn: WriteDB) -> dict[str, Any]:
    """Add a rule; it is applied to everyone at once."""
    return scoring.create_rule(conn, body.model_dump()).as_dict()


@router.get("/scoring/rules/{rule_id}")
def get_rule(rule_id: int, conn: ReadDB) -> dict[str, Any]:
    """One rule."""
    return scoring.get_rule(conn, rule_id).as_dict()


@router.patch("/scoring/rules/{rule_id}")
def update_rule(rule_id: int, body: RulePatch, conn: WriteDB) -> dict[str, Any]:
    """Change a rule; it is re-applied to everyone."""
    return scoring.update_rule(conn, rule_id, body.model_dump(exclude_unset=True)).as_dict()


@router.delete("/scoring/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, conn: WriteDB) -> Response:
    """Delete a rule and the points it gave."""
    scoring.delete_rule(conn, rule_id)
    return Response(status_code=204)


@router.get("/scoring/stages")
def get_stages(conn: ReadDB) -> dict[str, Any]:
    """The stages, lowest first."""
    return {"stages": scoring.list_stages(conn)}


@router.put("/scoring/stages")
def set_stages(body: StagesIn, conn: WriteDB) -> dict[str, Any]:
    """Replace the stages; everyone scored moves to their new stage."""
    return {"stages": scoring.set_stages(conn, body.stages)}


@router.get("/scoring/settings")
def get_settings(conn: ReadDB) -> dict[str, Any]:
    """The scoring settings."""
    return {"half_life_days": scoring.get_half_life_days(conn)}


@router.put("/scoring/settings")
def set_settings(body: SettingsIn, conn: WriteDB) -> dict[str, Any]:
    """Change the half-life; every score is recomputed with it."""
    return {"half_life_days": scoring.set_half_life(conn, body.half_life_days)}


@router.get("/profiles/{profile_id}/score")
def explain_score(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """A person's score and stage now, and every change behind them with its reason."""
    return scoring.explain(conn, profile_id)
