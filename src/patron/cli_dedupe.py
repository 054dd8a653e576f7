"""`patron dedupe`: find and merge duplicates (default), the review queue, merge history, undo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from patron import dedupe
from patron.cli_support import (
    JsonOption,
    command_engine,
    command_transaction,
    emit,
    load_settings,
    out,
    progress_steps,
)
from patron.identity import rules_from
from patron.profiles import display_name

dedupe_app = typer.Typer(
    help="Duplicates: find and merge them (default), review the queue, see and undo merges.",
    invoke_without_command=True,
)
ACTOR = "cli"


@dedupe_app.callback()
def run(
    ctx: typer.Context,
    as_json: JsonOption = False,
    threshold: Annotated[
        float | None, typer.Option(help="Auto-merge pairs at or above this match probability (this run only)")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Match configuration (JSON or YAML) replacing the defaults for this run", exists=False
        ),
    ] = None,
) -> None:
    """Find duplicate profiles: merge the sure ones, queue the likely ones for review."""
    if ctx.invoked_subcommand is not None:
        return
    with command_engine(as_json) as (settings, engine), progress_steps(as_json) as advance:
        match_config = dedupe.match_config(settings, str(config) if config else None)
        summary = dedupe.run_dedupe(
            engine,
            config=match_config,
            survivorship=dedupe.survivorship_of(match_config, settings),
            rules=rules_from(settings),
            threshold=threshold,
            actor=ACTOR,
            progress=advance,
        )
    result = summary.as_dict()
    emit(result, as_json, lambda: _print_summary(result))


def _print_summary(summary: dict[str, Any]) -> None:
    out.print(
        f"Compared {summary['compared']:,} pairs among {summary['profiles']:,} profiles in "
        f"{summary['seconds']:.2f} s: merged {summary['auto_merged']:,} duplicate profiles into "
        f"{summary['groups']:,}; {summary['queued']:,} possible duplicates wait for review "
        f"({summary['newly_queued']:,} new)."
    )
    if summary["queued"]:
        out.print("Review them in the admin (Duplicates) or with `patron dedupe queue`.")


@dedupe_app.command("queue")
def queue(
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="How many pairs to show")] = 20,
) -> None:
    """Possible duplicates waiting for review, the likeliest first."""
    with command_transaction(as_json, write=False) as conn:
        items = dedupe.candidate_views(conn, dedupe.list_queue(conn, limit=limit))
        total = dedupe.count_open(conn)

    def human() -> None:
        if not total:
            out.print("No possible duplicates wait for review. `patron dedupe` looks for more.")
            return
        table = Table("id", "score", "first", "second", "why", title=f"{total:,} pairs to review")
        for item in items:
            score = f"{item['score']:.3f}" if item["score"] is not None else "-"
            table.add_row(str(item["id"]), score, *(_who(p) for p in item["profiles"]), item["reason"])
        out.print(table)
        out.print("Decide with `patron dedupe decide ID merge|distinct|skip`.")

    emit({"data": items, "total": total}, as_json, human)


def _who(profile: dict[str, Any]) -> str:
    traits = profile.get("traits") or {}
    return "\n".join(str(part) for part in (display_name(traits), traits.get("email"), profile["id"]) if part)


@dedupe_app.command("decide")
def decide(
    candidate_id: int,
    decision: Annotated[str, typer.Argument(help="merge | distinct (not the same person) | skip")],
    as_json: JsonOption = False,
) -> None:
    """Decide about a pair in the review queue."""
    settings = load_settings()
    config = dedupe.match_config(settings)
    with command_transaction(as_json) as conn:
        result = dedupe.decide(
            conn, candidate_id, decision, actor=ACTOR, survivorship=dedupe.survivorship_of(config, settings)
        )
    emit(result, as_json, lambda: out.print(f"Pair {candidate_id}: {result['status']}."))


@dedupe_app.command("merges")
def merges(
    as_json: JsonOption = False,
    profile: Annotated[str | None, typer.Option(help="Only merges this profile took part in")] = None,
    limit: Annotated[int, typer.Option(help="How many merges to show")] = 20,
) -> None:
    """Merge history, newest first."""
    with command_transaction(as_json, write=False) as conn:
        items = dedupe.list_merges(conn, profile_id=profile, limit=limit)

    def human() -> None:
        table = Table("id", "kept", "absorbed", "reason", "when", "undone")
        for item in items:
            table.add_row(
                str(item["id"]),
                item["kept_id"],
                item["absorbed_id"],
                item["reason"],
                item["created_at"][:19],
                (item["undone_at"] or "")[:19],
            )
        out.print(table)

    emit({"data": items}, as_json, human)


@dedupe_app.command("undo")
def undo(merge_id: int, as_json: JsonOption = False) -> None:
    """Unmerge: restore the absorbed profile as it was and remember the two as different people."""
    with command_transaction(as_json) as conn:
        result = dedupe.unmerge(conn, merge_id, actor=ACTOR)
    emit(
        result,
        as_json,
        lambda: out.print(
            f"Restored profile {result['restored_id']} with {result['identities']} identities and "
            f"{result['events']} events; put back {len(result['restored_traits'])} values of "
            f"{result['kept_id']}."
        ),
    )
