"""`patron gdpr export|erase`: a person's data rights from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from patron import gdpr
from patron.cli_support import JsonOption, command_engine, emit, fail, out
from patron.profiles import display_name, get_profile
from patron.storage.engine import transaction

gdpr_app = typer.Typer(help="Data rights: export or erase everything about a person.", no_args_is_help=True)
ACTOR = "cli"
EmailOption = Annotated[str | None, typer.Option("--email", help="The person's email address")]
IdOption = Annotated[str | None, typer.Option("--id", help="The person's profile id")]


@gdpr_app.command("export")
def export(
    email: EmailOption = None,
    profile_id: IdOption = None,
    output: Annotated[Path | None, typer.Option("--output", help="Write the JSON to this file")] = None,
    as_json: JsonOption = False,
) -> None:
    """Everything Patron holds about one person, as JSON (printed, or written to --output)."""
    with command_engine(as_json) as (_settings, engine), transaction(engine, write=False) as conn:
        data = gdpr.export_profile(conn, gdpr.find_subject(conn, email=email, profile_id=profile_id))
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output is None:
        print(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", as_json)
    summary = {"profile_id": data["profile"]["id"], "output": str(output), "events": len(data["events"])}
    emit(
        summary,
        as_json,
        lambda: out.print(f"Wrote profile {summary['profile_id']} ({summary['events']} events) to {output}."),
    )


@gdpr_app.command("erase")
def erase(
    email: EmailOption = None,
    profile_id: IdOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    as_json: JsonOption = False,
) -> None:
    """Erase a person: their personal data, events and messages. Only the hashes that keep their
    addresses from being contacted again and a record of the erasure remain."""
    with command_engine(as_json) as (_settings, engine):
        with transaction(engine, write=False) as conn:
            subject = gdpr.find_subject(conn, email=email, profile_id=profile_id)
            profile = get_profile(conn, subject)
        if not yes:
            who = ", ".join(p for p in (display_name(profile.traits), profile.traits.get("email")) if p)
            question = f"Erase profile {subject}{f' ({who})' if who else ''}? This cannot be undone."
            if not typer.confirm(question, err=True):
                fail("nothing erased", as_json)
        with transaction(engine) as conn:
            record = gdpr.erase_profile(conn, subject, actor=ACTOR, method="cli")
        gdpr.scrub(engine)
    emit(record, as_json, lambda: _print_erasure(record))


def _print_erasure(record: dict[str, Any]) -> None:
    removed = ", ".join(f"{name} {count:,}" for name, count in record["removed"].items())
    out.print(f"Erased profile {record['erased']} (erasure {record['erasure_id']}).")
    out.print(f"Removed: {removed}.")
    out.print(
        f"{record['suppressed']} address(es) newly kept on the suppression list as hashes, so the person "
        "is not contacted again should they be imported anew."
    )
