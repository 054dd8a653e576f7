"""`patron segments`: list, show, create, preview, evaluate and delete segments; list members."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from patron.cli_support import JsonOption, command_transaction, emit, out
from patron.profiles import get_profiles
from patron.segments import (
    create_segment,
    delete_segment,
    evaluate,
    find_segment,
    get_segment,
    list_segments,
    members,
    preview,
)

segments_app = typer.Typer(
    help="Segments: who matches a definition, kept up to date as data arrives.", no_args_is_help=True
)
SegmentArgument = Annotated[str, typer.Argument(help="The segment's id or name")]


@segments_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every segment with its current size."""
    with command_transaction(as_json, write=False) as conn:
        items = [segment.as_dict() for segment in list_segments(conn)]

    def human() -> None:
        table = Table("id", "name", "members", "evaluated", "definition")
        for item in items:
            table.add_row(str(item["id"]), item["name"], f"{item['count']:,}",
                          _when(item.get("evaluated_at")), _short(item["definition"]))  # fmt: skip
        out.print(table)

    emit({"data": items}, as_json, human)


@segments_app.command("show")
def show(segment: SegmentArgument, as_json: JsonOption = False) -> None:
    """One segment: its definition (text and tree), size and when it was last evaluated."""
    with command_transaction(as_json, write=False) as conn:
        data = find_segment(conn, segment).as_dict()

    def human() -> None:
        out.print(f"[bold]{data['name']}[/] (id {data['id']}): {data['count']:,} members", highlight=False)
        if data.get("description"):
            out.print(data["description"], highlight=False)
        out.print(data["definition"], highlight=False)
        out.print(f"Last evaluated: {_when(data.get('evaluated_at')) or 'never'}")

    emit(data, as_json, human)


@segments_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A unique name, e.g. Customers")],
    definition: Annotated[str, typer.Option(help='The text form, e.g. country = "US" and has email')],
    description: Annotated[str, typer.Option(help="One sentence on who this is")] = "",
    as_json: JsonOption = False,
) -> None:
    """Save a segment and work out who is in it now."""
    with command_transaction(as_json) as conn:
        data = create_segment(conn, name=name, definition=definition, description=description).as_dict()
    emit(
        data,
        as_json,
        lambda: out.print(f"Segment {data['name']!r} (id {data['id']}): {data['count']:,} members."),
    )


@segments_app.command("preview")
def preview_(
    definition: Annotated[str, typer.Argument(help="The text form of a definition")],
    sample: Annotated[int, typer.Option(help="How many matching profile ids to show")] = 10,
    as_json: JsonOption = False,
) -> None:
    """How many people a definition matches right now, and a few of them, without saving it."""
    with command_transaction(as_json, write=False) as conn:
        result = preview(conn, definition=definition, sample=sample)
        people = get_profiles(conn, result["sample"]) if not as_json else {}

    def human() -> None:
        out.print(f"[bold]{result['count']:,}[/] people match.")
        for profile_id in result["sample"]:
            out.print(f"  {profile_id}  {_who(people.get(profile_id))}", highlight=False)

    emit(result, as_json, human)


@segments_app.command("members")
def members_(
    segment: SegmentArgument,
    limit: Annotated[int, typer.Option(help="How many per page")] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next_cursor of the previous page")] = None,
    as_json: JsonOption = False,
) -> None:
    """The segment's current members, a page at a time."""
    with command_transaction(as_json, write=False) as conn:
        found = find_segment(conn, segment)
        ids, next_cursor = members(conn, found.id, cursor=cursor, limit=limit)
        people = get_profiles(conn, ids) if not as_json else {}
    result: dict[str, Any] = {"segment": found.id, "data": ids, "next_cursor": next_cursor}

    def human() -> None:
        table = Table("profile", "who", title=f"{found.name}: {found.member_count:,} members")
        for profile_id in ids:
            table.add_row(profile_id, _who(people.get(profile_id)))
        out.print(table)
        if next_cursor:
            out.print(f"More: --cursor {next_cursor}", highlight=False)

    emit(result, as_json, human)


@segments_app.command("evaluate")
def evaluate_(segment: SegmentArgument, as_json: JsonOption = False) -> None:
    """Work out the segment's members again from scratch; prints who entered and who left."""
    with command_transaction(as_json) as conn:
        found = find_segment(conn, segment)
        changes = evaluate(conn, found.id)
        size = get_segment(conn, found.id).member_count
    entered, exited = changes.entered.get(found.id, []), changes.exited.get(found.id, [])
    result = {"segment": found.id, "name": found.name, "count": size, "entered": entered, "exited": exited}
    emit(
        result,
        as_json,
        lambda: out.print(
            f"{found.name}: {size:,} members ({len(entered):,} entered, {len(exited):,} left).",
            highlight=False,
        ),
    )


@segments_app.command("delete")
def delete(segment: SegmentArgument, as_json: JsonOption = False) -> None:
    """Delete a segment and its membership history."""
    with command_transaction(as_json) as conn:
        found = find_segment(conn, segment)
        delete_segment(conn, found.id)
    emit(
        {"deleted": found.id, "name": found.name},
        as_json,
        lambda: out.print(f"Segment {found.name!r} deleted.", highlight=False),
    )


def _who(profile: Any) -> str:
    if profile is None:
        return ""
    traits = profile.traits
    name = " ".join(str(traits[k]) for k in ("first_name", "last_name") if traits.get(k))
    return " ".join(part for part in (name, str(traits.get("email") or "")) if part)


def _when(value: Any) -> str:
    return str(value or "")[:16].replace("T", " ")


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
