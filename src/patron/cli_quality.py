"""`patron quality`: the report, stale contacts, data profiling, source policies, standardisation."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from patron.cli_support import (
    JsonOption,
    command_engine,
    command_transaction,
    emit,
    out,
    working,
)
from patron.profiles import display_name
from patron.quality import service
from patron.quality.activity import refresh_activity
from patron.quality.reapply import reapply_standards
from patron.quality.sources import list_sources, set_policy
from patron.quality.standards import FIELD_ALIAS, VALUE, add_rules, list_rules
from patron.storage.engine import transaction
from patron.storage.types import utcnow

quality_app = typer.Typer(
    help="Data quality: the report (default), stale contacts, profiling, policies, standardisation.",
    invoke_without_command=True,
)


@quality_app.callback()
def quality(
    ctx: typer.Context,
    as_json: JsonOption = False,
    snapshot: Annotated[bool, typer.Option(help="Also keep it as today's snapshot for the trend")] = True,
) -> None:
    """The quality report: completeness, validity and distinct values per field, flags, duplicates, score."""
    if ctx.invoked_subcommand is not None:
        return
    with (
        command_engine(as_json) as (settings, engine),
        working("Refreshing stale contacts and computing the quality report…", as_json),
    ):
        report = service.refresh_and_report(engine, settings, snapshot=snapshot)
    emit(report, as_json, lambda: _print_report(report))


def _print_report(report: dict[str, Any]) -> None:
    if not report["profiles"]:
        out.print("No profiles yet: import some with `patron import FILE --source NAME` or `patron demo`.")
        return
    parts = ", ".join(f"{name} {value:.0%}" for name, value in report["score_parts"].items())
    out.print(
        f"[bold]Quality score {report['score']}[/] of 100 over {report['profiles']:,} profiles ({parts})"
    )
    table = Table("field", "completeness", "validity", "distinct")
    for name, stats in report["fields"].items():
        table.add_row(
            name, f"{stats['completeness']:.1%}", f"{stats['validity']:.1%}", f"{stats['distinct']:,}"
        )
    out.print(table)
    emails = ", ".join(f"{count:,} {code}" for code, count in report["emails"].items())
    out.print(f"Emails: {emails}. Phones: {report['phones']['invalid']:,} invalid.")
    duplicates = report["duplicates"]
    out.print(
        f"Stale contacts: {report['stale']:,}. Duplicates: {duplicates['exact']:,} exact, "
        f"{duplicates['fuzzy']:,} possible (open for review)."
    )
    for source, stats in report["sources"].items():
        out.print(
            f"  {source}: {stats['profiles']:,} profiles, {stats['flagged_share']:.1%} flagged "
            f"(policy {stats['policy']})"
        )


@quality_app.command("stale")
def stale(
    limit: Annotated[int, typer.Option(help="How many to list")] = 50, as_json: JsonOption = False
) -> None:
    """Contacts with no event, open or click within the activity window, longest silent first."""
    with command_engine(as_json) as (settings, engine):
        with working("Refreshing stale contacts…", as_json), transaction(engine) as conn:
            refresh_activity(conn, now=utcnow(), window_days=settings.quality_stale_after_days)
        with transaction(engine, write=False) as conn:
            listed = service.stale_contacts(conn, settings, limit=limit)
    emit(listed, as_json, lambda: _print_stale(listed))


def _print_stale(listed: dict[str, Any]) -> None:
    out.print(f"[bold]{listed['stale']:,}[/] stale contacts (no activity in {listed['window_days']} days)")
    table = Table("id", "name", "email", "last activity", "created")
    for row in listed["data"]:
        name = display_name(row)
        table.add_row(
            row["id"], name, row["email"] or "", row["last_activity_at"] or "never", row["created_at"]
        )
    out.print(table)


@quality_app.command("profile")
def profile(as_json: JsonOption = False) -> None:
    """Per field the most common values and the shapes they are written in (newest profiles)."""
    with command_transaction(as_json, write=False) as conn:
        result = service.profiling(conn)
    emit(result, as_json, lambda: _print_profile(result))


def _print_profile(result: dict[str, Any]) -> None:
    out.print(f"Sample: the newest {result['sample']:,} profiles")
    for name, stats in result["fields"].items():
        if not stats["present"]:
            continue
        shapes = ", ".join(f"{shape} ({n})" for shape, n in stats["shapes"][:4])
        values = ", ".join(f"{value} ({n})" for value, n in stats["top_values"][:4])
        out.print(f"[bold]{name}[/]: {values}\n    shapes: {shapes}", highlight=False)


@quality_app.command("policy")
def policy(
    source: Annotated[str, typer.Argument(help="The source (app) name, e.g. shop")],
    value: Annotated[str, typer.Argument(help="reject | flag | fix")],
    as_json: JsonOption = False,
) -> None:
    """Set what an invalid value costs records from SOURCE."""
    with command_transaction(as_json) as conn:
        result = set_policy(conn, source, value)
    emit(result, as_json, lambda: out.print(f"{result['name']}: policy {result['policy']}"))


@quality_app.command("sources")
def sources(as_json: JsonOption = False) -> None:
    """Configured sources and their policies."""
    with command_transaction(as_json, write=False) as conn:
        result = {"data": list_sources(conn)}
    emit(result, as_json, lambda: [out.print(f"{s['name']}: {s['policy']}") for s in result["data"]])


@quality_app.command("rules")
def rules(as_json: JsonOption = False) -> None:
    """The standardisation rules: alias fields and value mappings."""
    with command_transaction(as_json, write=False) as conn:
        result = {"data": list_rules(conn)}
    emit(result, as_json, lambda: _print_rules(result["data"]))


def _print_rules(rows: list[dict[str, Any]]) -> None:
    for rule in rows:
        if rule["kind"] == FIELD_ALIAS:
            out.print(f"field  {rule['match']} -> {rule['target']}", highlight=False)
        else:
            out.print(f"value  {rule['field']}: {rule['match']!r} -> {rule['target']!r}", highlight=False)


@quality_app.command("alias")
def alias(
    name: Annotated[str, typer.Argument(help="The alias field name, e.g. sector")],
    field: Annotated[str, typer.Argument(help="The canonical field, e.g. industry")],
    as_json: JsonOption = False,
) -> None:
    """Map an alias field to a canonical one at entry."""
    _add({"kind": FIELD_ALIAS, "match": name, "target": field}, as_json)


@quality_app.command("map")
def map_value(
    field: Annotated[str, typer.Argument(help="The field, e.g. industry")],
    variant: Annotated[str, typer.Argument(help="A way the value is written, e.g. IT")],
    value: Annotated[str, typer.Argument(help="The standard value, e.g. Information Technology")],
    as_json: JsonOption = False,
) -> None:
    """Map a value variant of a field to its standard value at entry."""
    _add({"kind": VALUE, "field": field, "match": variant, "target": value}, as_json)


def _add(rule: dict[str, str], as_json: bool) -> None:
    with command_transaction(as_json) as conn:
        added = add_rules(conn, [rule])
    emit({"added": added}, as_json, lambda: out.print("added" if added else "already there"))


@quality_app.command("standardise")
def standardise(
    apply: Annotated[
        bool, typer.Option("--apply", help="Change the profiles (default: preview only)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Re-apply the standardisation rules to stored profiles: preview what would change, or --apply."""
    with command_engine(as_json) as (_, engine):
        verb = "Applying" if apply else "Previewing"
        with working(f"{verb} the standardisation rules on stored profiles…", as_json):
            with transaction(engine, write=apply) as conn:
                result = reapply_standards(conn, apply=apply)
    emit(result, as_json, lambda: _print_reapply(result))


def _print_reapply(result: dict[str, Any]) -> None:
    if not result["profiles"]:
        out.print("Nothing to change: the stored profiles already follow the rules.")
        return
    verb = "changed" if result["applied"] else "would change"
    out.print(f"[bold]{result['profiles']:,}[/] profiles {verb}:")
    for rule, count in result["changes"].items():
        out.print(f"  {count:>7,}  {rule}", highlight=False)
    if not result["applied"] and result["profiles"]:
        out.print("Run with --apply to make these changes.")
