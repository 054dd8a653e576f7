"""`patron scoring`: the rules, the stages, adding a rule, and why a person has their score."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from patron import gdpr, scoring, segments
from patron.cli_support import JsonOption, command_transaction, emit, out
from patron.errors import Invalid

scoring_app = typer.Typer(
    help="Lead scoring: rules, stages, and the reasons behind a person's score.", no_args_is_help=True
)
EmailOption = Annotated[str | None, typer.Option("--email", help="The person's email address")]
IdOption = Annotated[str | None, typer.Option("--id", help="The person's profile id")]


@scoring_app.command("rules")
def rules(as_json: JsonOption = False) -> None:
    """Every scoring rule."""
    with command_transaction(as_json, write=False) as conn:
        found = scoring.list_rules(conn)
        items = [rule.as_dict() for rule in found]
        described = {rule.id: rule.describe() for rule in found}

    def human() -> None:
        table = Table("id", "name", "points", "for", "repeat", "active")
        for item in items:
            repeat = item["repeat"] if item["kind"] == "event" else "while it holds"
            if item["max_awards"]:
                repeat += f", at most {item['max_awards']}"
            active = "yes" if item["is_active"] else "no"
            points = f"{item['points']:+g}"
            table.add_row(str(item["id"]), item["name"], points, described[item["id"]], repeat, active)
        out.print(table)

    emit({"data": items}, as_json, human)


@scoring_app.command("add-rule")
def add_rule(
    name: str,
    points: Annotated[
        float, typer.Option(help="Points per event, or while the condition holds (< 0 takes away)")
    ],
    event: Annotated[str | None, typer.Option(help='The event that earns them, like "Page Viewed"')] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="A property filter on the event, like 'path = \"/pricing\"' (repeatable)"),
    ] = None,
    condition: Annotated[
        str | None, typer.Option(help="Instead of an event: a segment definition, like 'country = \"KR\"'")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Only the person's first such event counts")] = False,
    max_awards: Annotated[int | None, typer.Option(help="At most this many awards per person")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a rule; it is applied to everyone at once."""
    with command_transaction(as_json) as conn:
        fields: dict[str, Any] = {"name": name, "points": int(points) if points.is_integer() else points}
        if condition is not None:
            fields.update(kind="trait", condition=condition)
        else:
            fields.update(kind="event", event=event, where=[_filter(text) for text in where or []],
                          repeat="once" if once else "each", max_awards=max_awards)  # fmt: skip
        rule = scoring.create_rule(conn, fields)
        data = rule.as_dict()
        what = rule.describe()
    emit(data, as_json, lambda: out.print(f"Rule {data['id']} added: {data['points']:+g} for {what}."))


@scoring_app.command("stages")
def stages(as_json: JsonOption = False) -> None:
    """The lifecycle stages and the score each starts at."""
    with command_transaction(as_json, write=False) as conn:
        items = scoring.list_stages(conn)
        half_life = scoring.get_half_life_days(conn)

    def human() -> None:
        table = Table("stage", "from score")
        for item in items:
            table.add_row(item["name"], f"{item['threshold']:g}")
        out.print(table)
        out.print(f"Event points lose half their worth every {half_life:g} days." if half_life
                  else "Event points never fade.")  # fmt: skip

    emit({"stages": items, "half_life_days": half_life}, as_json, human)


@scoring_app.command("explain")
def explain(email: EmailOption = None, profile_id: IdOption = None, as_json: JsonOption = False) -> None:
    """A person's score and stage now, and every change behind them, newest first."""
    with command_transaction(as_json, write=False) as conn:
        subject = gdpr.find_subject(conn, email=email, profile_id=profile_id)
        data = scoring.explain(conn, subject)

    def human() -> None:
        score = "not scored" if data["score"] is None else f"{data['score']:g}"
        out.print(f"Score {score}, stage {data['stage'] or '-'}")
        table = Table("when", "points", "worth now", "reason")
        for change in data["changes"]:
            table.add_row(change["occurred_at"][:19], f"{change['points']:+g}", f"{change['worth_now']:g}",
                          change["reason"])  # fmt: skip
        out.print(table)

    emit(data, as_json, human)


def _filter(text: str) -> dict[str, Any]:
    """'path = "/pricing"' as {"property", "op", "value"}, read by the definition language."""
    try:
        node = segments.parse(text)
    except Invalid as exc:
        raise Invalid(f"--where {text!r}: {exc.message}", field="where") from None
    if "trait" not in node or node.get("op") in ("in", "set", "not_set"):
        raise Invalid(f'--where {text!r}: write one comparison, like path = "/pricing"', field="where")
    return {"property": node["trait"], "op": node["op"], "value": node["value"]}
