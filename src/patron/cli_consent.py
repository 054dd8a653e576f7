"""`patron consent`: topics, one person's consent and ledger, who may be contacted, expiry."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from patron import consent, gdpr
from patron.cli_support import JsonOption, command_transaction, emit, out

consent_app = typer.Typer(
    help="Consent: topics, a person's state and ledger, audiences, expiry.", no_args_is_help=True
)
EmailOption = Annotated[str | None, typer.Option("--email", help="The person's email address")]
IdOption = Annotated[str | None, typer.Option("--id", help="The person's profile id")]


@consent_app.command("topics")
def topics(
    as_json: JsonOption = False, archived: Annotated[bool, typer.Option(help="Include archived")] = False
) -> None:
    """The topics people can subscribe to."""
    with command_transaction(as_json, write=False) as conn:
        items = [t.as_dict() for t in consent.list_topics(conn, include_archived=archived)]

    def human() -> None:
        table = Table("key", "name", "default", "channels", "archived")
        for item in items:
            table.add_row(item["key"], item["name"], item["default"], ", ".join(item["channels"]),
                          "yes" if item["archived"] else "")  # fmt: skip
        out.print(table)

    emit({"data": items}, as_json, human)


@consent_app.command("add-topic")
def add_topic(
    key: str,
    name: Annotated[str, typer.Option(help="The name people see")],
    description: Annotated[str, typer.Option(help="One sentence on what they get")] = "",
    default: Annotated[str, typer.Option(help="opt_in or opt_out")] = "opt_in",
    channel: Annotated[list[str] | None, typer.Option(help="A channel it is offered on (repeatable)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a topic."""
    with command_transaction(as_json) as conn:
        topic = consent.create_topic(
            conn,
            {"key": key, "name": name, "description": description, "default": default,
             "channels": channel or ["email"]},
        )  # fmt: skip
    emit(topic.as_dict(), as_json, lambda: out.print(f"Topic {key!r} created."))


@consent_app.command("show")
def show(email: EmailOption = None, profile_id: IdOption = None, as_json: JsonOption = False) -> None:
    """One person's consent per channel and topic, and their ledger, newest first."""
    with command_transaction(as_json, write=False) as conn:
        subject = gdpr.find_subject(conn, email=email, profile_id=profile_id)
        data: dict[str, Any] = {"profile_id": subject, **consent.consent_of(conn, subject)}
        data["ledger"] = [row.as_dict() for row in consent.ledger_of(conn, subject)]

    def human() -> None:
        for channel, states in data["channels"].items():
            table = Table("topic", "state", "may send", title=f"{channel}: {states['global']} overall")
            for key, state in states["topics"].items():
                table.add_row(key, state, "yes" if states["can_send"].get(key) else "no")
            out.print(table)
        out.print(f"Frequency: {data['frequency']}; paused until: {data['paused_until'] or '-'}")
        ledger = Table(
            "when", "action", "channel", "topic", "method", "legal basis", "notice", title="Ledger"
        )
        for row in data["ledger"]:
            ledger.add_row(row["occurred_at"][:19], row["action"], row["channel"], row["topic"] or "(all)",
                           row["method"], row["legal_basis"], row["notice_version"])  # fmt: skip
        out.print(ledger)

    emit(data, as_json, human)


@consent_app.command("audience")
def audience(
    topic: Annotated[str | None, typer.Option(help="The topic (none: the channel as a whole)")] = None,
    channel: Annotated[str, typer.Option(help="email, sms, push or webhook")] = "email",
    as_json: JsonOption = False,
) -> None:
    """How many people may be contacted on a channel about a topic right now."""
    with command_transaction(as_json, write=False) as conn:
        ids = consent.audience(conn, channel, topic)
    result = {"channel": channel, "topic": topic, "count": len(ids)}
    emit(
        result,
        as_json,
        lambda: out.print(f"{len(ids):,} people may be contacted on {channel} about {topic or 'anything'}."),
    )


@consent_app.command("expire")
def expire(as_json: JsonOption = False) -> None:
    """Let unconfirmed double opt-in requests and implied consents past their time lapse now
    (the worker does this every 15 minutes)."""
    with command_transaction(as_json) as conn:
        count = consent.expire_lapsed(conn)
    emit({"expired": count}, as_json, lambda: out.print(f"{count:,} consents or requests lapsed."))
