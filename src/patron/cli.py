"""The `patron` command: thin wrappers that parse, call the domain, and print (or --json)."""

from __future__ import annotations

import io
import secrets
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Connection, Engine

from patron import accounts, dedupe, fields, instance
from patron.cli_consent import consent_app
from patron.cli_dedupe import dedupe_app
from patron.cli_gdpr import gdpr_app
from patron.cli_quality import quality_app
from patron.cli_scoring import scoring_app
from patron.cli_segments import segments_app
from patron.cli_serve import serve
from patron.cli_support import (
    JsonOption,
    command_transaction,
    emit,
    err,
    errors_reported,
    fail,
    load_settings,
    open_engine,
    out,
    progress_bar,
    progress_steps,
    require_schema,
)
from patron.config import Settings
from patron.errors import Invalid, NotFound
from patron.identity import rules_from
from patron.imports import ImportSummary, parse_mapping, run_import
from patron.profiles import count_profiles, iter_profiles, stats
from patron.profiles.export import FORMATS, write_csv, write_jsonl
from patron.quality.service import refresh_and_report
from patron.quality.snapshots import record_snapshot
from patron.quality.sources import FIX, REJECT, check_policy, set_policy
from patron.segments import find_segment, iter_members
from patron.storage.engine import transaction
from patron.storage.types import utcnow
from patron.tracking.dictionary import apply_plan, plan_document
from patron.tracking.plan_files import dump_yaml, export_csv, export_markdown, load_yaml

app = typer.Typer(help="Patron: customer data and marketing automation.", no_args_is_help=True)
apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
user_app = typer.Typer(help="Admin users.", no_args_is_help=True)
plan_app = typer.Typer(
    help="The tracking plan: load it from a YAML file, export the dictionary.", no_args_is_help=True
)
app.command()(serve)
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(plan_app, name="plan")
app.add_typer(quality_app, name="quality")
app.add_typer(dedupe_app, name="dedupe")
app.add_typer(gdpr_app, name="gdpr")
app.add_typer(consent_app, name="consent")
app.add_typer(segments_app, name="segments")
app.add_typer(scoring_app, name="scoring")


@app.command()
def init(
    as_json: JsonOption = False,
    admin_email: Annotated[
        str, typer.Option(help="Email of the first admin user.")
    ] = instance.DEFAULT_ADMIN_EMAIL,
) -> None:
    """Create or upgrade the schema; on the first run create the admin user, an admin key and a write key."""
    with errors_reported(as_json):
        result = instance.initialise(open_engine(), admin_email=admin_email)

    def human() -> None:
        out.print(f"Schema at revision [bold]{result.schema}[/] (was {result.schema_before or 'empty'}).")
        if result.first_run:
            out.print("[bold green]Patron is ready.[/] Keep these; they are shown only once:")
            table = Table(show_header=False)
            table.add_row("Admin login", f"{result.admin_email} / {result.admin_password}")
            table.add_row("Admin API key", str(result.admin_api_key))
            table.add_row("Write key", str(result.write_key))
            out.print(table)
        else:
            out.print(
                f"Already initialised; admin user {result.admin_email}. "
                "New keys: `patron apikey create`; new password: `patron user password EMAIL`."
            )

    emit(result.as_dict(), as_json, human)


@apikey_app.command("create")
def apikey_create(
    scope: Annotated[str, typer.Option(help="admin (REST API) or write (tracking API only)")],
    name: Annotated[str, typer.Option(help="A label; for a write key, its source name (e.g. web)")] = "",
    mode: Annotated[str, typer.Option(help="Write keys: allow, flag or block events off the plan")] = "flag",
    as_json: JsonOption = False,
) -> None:
    """Create an API key; it is printed once."""
    with command_transaction(as_json) as conn:
        key, stored = accounts.create_api_key(conn, scope, name=name, tracking_mode=mode)
    emit(
        {
            "key": key,
            "scope": stored.scope,
            "id": stored.id,
            "name": stored.name,
            "source": stored.source,
            "tracking_mode": stored.tracking_mode,
        },
        as_json,
        lambda: out.print(f"{stored.scope} key (shown once): [bold]{key}[/]"),
    )


@apikey_app.command("list")
def apikey_list(as_json: JsonOption = False) -> None:
    """List live API keys (without their secrets)."""
    with command_transaction(as_json, write=False) as conn:
        keys = accounts.list_api_keys(conn)
    rows = [
        {
            "id": k.id,
            "scope": k.scope,
            "prefix": k.prefix,
            "name": k.name,
            "created_at": k.created_at.isoformat(),
            "last_used_at": k.last_used_at and k.last_used_at.isoformat(),
        }
        for k in keys
    ]

    def human() -> None:
        table = Table("id", "scope", "prefix", "name", "created", "last used")
        for row in rows:
            table.add_row(
                str(row["id"]),
                row["scope"],
                row["prefix"] + "…",
                row["name"],
                row["created_at"][:16],
                (row["last_used_at"] or "")[:16],
            )
        out.print(table)

    emit({"data": rows}, as_json, human)


@apikey_app.command("revoke")
def apikey_revoke(key_id: int, as_json: JsonOption = False) -> None:
    """Revoke an API key by id."""
    with command_transaction(as_json) as conn:
        accounts.revoke_api_key(conn, key_id)
    emit({"revoked": key_id}, as_json, lambda: out.print(f"Key {key_id} revoked."))


@user_app.command("password")
def user_password(
    email: str,
    password: Annotated[str | None, typer.Option(help="New password; generated when omitted")] = None,
    as_json: JsonOption = False,
) -> None:
    """Set (or generate) a new password for an admin user."""
    new_password = password or secrets.token_urlsafe(12)
    with command_transaction(as_json) as conn:
        user = accounts.set_password(conn, email, new_password)
    emit(
        {"email": user.email, "password": new_password},
        as_json,
        lambda: out.print(f"New password for {user.email}: [bold]{new_password}[/]"),
    )


@user_app.command("create")
def user_create(
    email: str,
    password: Annotated[str | None, typer.Option(help="Password; generated when omitted")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create another admin user."""
    new_password = password or secrets.token_urlsafe(12)
    with command_transaction(as_json) as conn:
        user = accounts.create_user(conn, email, new_password)
    emit(
        {"email": user.email, "password": new_password},
        as_json,
        lambda: out.print(f"Created {user.email} with password [bold]{new_password}[/]"),
    )


@plan_app.command("load")
def plan_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Plan YAML file")],
    as_json: JsonOption = False,
) -> None:
    """Make the tracking plan say what a YAML file (kept in Git) says."""
    engine = open_engine()
    with errors_reported(as_json):
        require_schema(engine, as_json)
        document = load_yaml(file.read_text(encoding="utf-8"))
        with transaction(engine) as conn:
            applied = apply_plan(conn, document)
    emit(
        applied.as_dict(),
        as_json,
        lambda: out.print(
            f"Plan loaded: {applied.events} events, {applied.traits} traits, {applied.sources} source(s) set"
            + (
                f"; no write key named {', '.join(applied.unknown_sources)}"
                if applied.unknown_sources
                else ""
            )
        ),
    )


@plan_app.command("export")
def plan_export(
    format_: Annotated[str, typer.Option("--format", help="yaml, csv or markdown")] = "yaml",
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output)")] = None,
) -> None:
    """The tracking plan and data dictionary as YAML (to keep in Git), CSV or Markdown."""
    writers = {"yaml": None, "csv": export_csv, "markdown": export_markdown}
    if format_ not in writers:
        fail(Invalid(f"--format must be one of {', '.join(writers)}", field="format"), False, code=2)
    with command_transaction(False, write=False) as conn:
        document = plan_document(conn)
    text = dump_yaml(document) if format_ == "yaml" else writers[format_](document.events, document.traits)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(text)


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file")],
    source: Annotated[str, typer.Option(help="The app the file comes from, e.g. shop")],
    id_column: Annotated[str | None, typer.Option(help="Column holding the person's id in that app")] = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="COL=FIELD (repeatable); COL=- skips")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Force an encoding (default: detect UTF-8/CP949)")
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where to write problem rows")] = None,
    policy: Annotated[
        str | None,
        typer.Option(help="reject | flag | fix: what an invalid value costs (default: the source's policy)"),
    ] = None,
    consent: Annotated[
        str | None, typer.Option("--consent", help="Yes/no column: marketing consent on the channel")
    ] = None,
    consent_topics: Annotated[
        str | None, typer.Option(help="Column listing topic keys or names (, or ;) the person subscribed to")
    ] = None,
    consent_at: Annotated[
        str | None, typer.Option(help="Column with the time the person consented in the source app")
    ] = None,
    notice_version: Annotated[
        str, typer.Option(help="Version of the notice the source app showed (with --consent-at: proof)")
    ] = "",
    consent_channel: Annotated[str, typer.Option(help="Channel the consent is for")] = "email",
    purchase_at: Annotated[
        str | None,
        typer.Option(help="Purchase-date column: Canadian implied consent then lasts 2 years, not 6 months"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import contacts from a CSV: rows upserted by identity, problem rows explained in a rejects file.

    With --consent or --consent-topics the import also records consent, as the law of each
    person's country allows: in express opt-in regions (EU/EEA, UK, Korea...) only with proof
    (--notice-version and --consent-at), else the person stays "none"; in the US a yes subscribes;
    in Canada a yes without proof is implied consent that expires. A "no" always unsubscribes.
    """
    from patron.consent.imports import ConsentOptions

    consent_options = ConsentOptions(
        consent_column=consent,
        topics_column=consent_topics,
        at_column=consent_at,
        purchase_column=purchase_at,
        notice_version=notice_version.strip(),
        channel=consent_channel,
    )
    settings = load_settings()
    engine = open_engine(settings)
    with errors_reported(as_json):
        require_schema(engine, as_json)
        if policy is not None:
            check_policy(policy)  # before the progress bar starts
        summary = _run_import(
            engine,
            settings,
            file.read_bytes(),
            file.name,
            source=source,
            id_column=id_column,
            mapping=parse_mapping(map_ or []),
            encoding=encoding,
            quiet=as_json,
            policy=policy,
            consent=consent_options,
        )
        issues_path = rejects or file.with_name(f"{file.stem}.rejects.csv")
        if summary.issues_text:
            issues_path.write_text(summary.issues_text, encoding="utf-8-sig")
            summary.summary.rejects_file = str(issues_path)
    result = summary.summary

    def human() -> None:
        _print_import(result)
        if result.consent is not None:
            tally = result.consent
            unknown = ", ".join(f"{name} ({rows:,})" for name, rows in tally.unknown_topics.most_common(8))
            out.print(
                f"Consent: [green]{tally.granted:,} granted[/] ({tally.implied:,} implied, expiring), "
                f"{tally.withdrawn:,} withdrawn, [yellow]{tally.unproven:,} without proof[/] (left as none), "
                f"{tally.lapsed:,} lapsed, {tally.unreadable:,} unreadable."
                + (f" Unknown topics: {unknown}." if unknown else "")
            )

    emit(result.as_dict(), as_json, human)


class _ImportRun:
    """An import's summary and the text of its rejects file."""

    def __init__(self, summary: ImportSummary, issues_text: str) -> None:
        self.summary = summary
        self.issues_text = issues_text


def _run_import(
    engine: Engine,
    settings: Settings,
    data: bytes,
    label: str,
    *,
    source: str,
    id_column: str | None,
    mapping: dict[str, str],
    encoding: str | None,
    quiet: bool,
    policy: str | None = None,
    consent: Any = None,
) -> _ImportRun:
    issues = io.StringIO()
    with progress_bar(quiet) as progress:
        task = progress.add_task(f"Importing {label}", total=None)

        def on_batch(conn: Connection, summary: ImportSummary, total: int) -> None:
            progress.update(task, completed=summary.rows, total=total)

        summary = run_import(
            engine,
            data,
            source=source,
            default_region=settings.default_region,
            batch_size=settings.import_batch_size,
            parallel_min_rows=settings.import_parallel_min_rows,
            rules=rules_from(settings),
            mapping=mapping,
            id_column=id_column,
            encoding=encoding,
            issues_stream=issues,
            on_batch=on_batch,
            policy=policy,
            dns_timeout_s=settings.dns_timeout,
            consent=consent,
        )
        progress.update(task, completed=summary.rows, total=summary.rows)
    text = issues.getvalue()
    has_rows = text.count("\n") > 1
    return _ImportRun(summary, text if has_rows else "")


def _print_import(summary: ImportSummary) -> None:
    rate = summary.rows / summary.seconds if summary.seconds else 0
    out.print(
        f"[bold]{summary.rows:,}[/] rows in {summary.seconds:.2f} s "
        f"({rate:,.0f} rows/s, {summary.encoding}): [green]{summary.created:,} created[/], "
        f"{summary.updated:,} updated, {summary.unchanged:,} unchanged."
    )
    out.print(
        f"Quality (policy {summary.policy}): {summary.accepted:,} accepted, "
        f"{summary.normalised:,} normalised, "
        f"[cyan]{summary.fixed:,} fixed[/], [yellow]{summary.flagged:,} flagged[/], "
        f"[red]{summary.rejected:,} rejected[/]."
    )
    if summary.merge_candidates:
        out.print(
            f"{summary.merge_candidates:,} record(s) matched two profiles; kept apart as possible duplicates."
        )
    for reason, count in summary.reasons.most_common(16):
        out.print(f"  {count:>6,}  {reason}", highlight=False)
    if summary.rejects_file:
        out.print(f"Problem rows, with the reason for each: [bold]{summary.rejects_file}[/]")
    if summary.policy == REJECT and any(key.startswith("rejected:") for key in summary.reasons):
        out.print(
            f"Source {summary.source!r} rejects rows with a wrong value; "
            f"`patron quality policy {summary.source} flag` keeps them, flagged, "
            "or `fix` applies suggestions."
        )


@app.command()
def export(
    format_: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output)")] = None,
    segment: Annotated[
        str | None, typer.Option(help="Only this segment's current members (its id or name)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine output: the same as --format jsonl.")
    ] = False,
) -> None:
    """Export profiles (every one, or a segment's members): jsonl (one profile object per line) or csv."""
    if as_json and format_ != "jsonl":
        message = f"--json means --format jsonl, so it cannot go with --format {format_}: drop one of them"
        fail(Invalid(message, field="format"), True, code=2)
    if format_ not in FORMATS:
        fail(Invalid(f"--format must be one of {', '.join(FORMATS)}", field="format"), False, code=2)
    with command_transaction(as_json, write=False) as conn:
        if segment is None:
            total, items, label = count_profiles(conn), iter_profiles(conn), "Exporting"
        else:
            chosen = find_segment(conn, segment)
            total, items = chosen.member_count, iter_members(conn, chosen.id)
            label = f"Exporting {chosen.name}"
        custom = [f.name for f in fields.list_fields(conn) if not f.is_standard]
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            with progress_bar(output is None or as_json) as progress:
                task = progress.add_task(label, total=total)

                def tick() -> None:
                    progress.advance(task)

                if format_ == "jsonl":
                    count = write_jsonl(stream, items, on_row=tick)
                else:
                    count = write_csv(stream, items, custom, on_row=tick)
        finally:
            if output:
                stream.close()
    if output:
        err.print(f"Exported {count:,} profiles to {output}")


@app.command()
def worker(
    burst: Annotated[bool, typer.Option("--burst", help="Exit when no job is due")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run background jobs (imports, maintenance) until stopped."""
    import logging
    import signal

    from patron.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    engine = open_engine(settings)
    with errors_reported(as_json):
        require_schema(engine, as_json)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runner = Worker(engine, settings)
    if not as_json:
        err.print(f"Worker [bold]{runner.name}[/] started" + (" (burst)" if burst else ""))
    started = time.perf_counter()
    ran = runner.run(stop, burst=burst)
    emit(
        {"worker": runner.name, "jobs": ran, "seconds": round(time.perf_counter() - started, 3)},
        as_json,
        lambda: err.print(f"Worker stopped after {ran} job(s)."),
    )


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="How many people the three apps hold")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data")] = 7,
    directory: Annotated[Path, typer.Option(help="Where to write the three CSV exports")] = Path("var/demo"),
    run_dedupe: Annotated[
        bool, typer.Option("--dedupe/--no-dedupe", help="Merge and queue duplicates at the end")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Load realistic demo data: exports of a shop, a CRM and a newsletter tool, with planted problems,
    a year of consent history (topics, sign-ups, unsubscribes, bounces, form experiments), lead
    scoring and segments with ninety days of membership history."""
    from patron.demo import generate
    from patron.demo.consent import create_demo_topics, load_demo_consent
    from patron.demo.fields import DEMO_FIELDS
    from patron.demo.loading import load_demo_events
    from patron.demo.segments import RULES as DEMO_RULES
    from patron.demo.segments import load_demo_segments

    settings = load_settings()
    engine = open_engine(settings)
    results: list[dict[str, Any]] = []
    with errors_reported(as_json):
        require_schema(engine, as_json)
        with transaction(engine) as conn:
            for name, (field_type, description, source) in DEMO_FIELDS.items():
                try:
                    fields.get_field(conn, name)
                except NotFound:
                    fields.define_field(conn, name, field_type, description=description, source=source)
            # The newsletter tool's rows hold only an email: fix its typos rather than lose them.
            set_policy(conn, "newsletter", FIX, "Newsletter tool export (demo)")
            create_demo_topics(conn)  # before the imports: their consent names these topics
        directory.mkdir(parents=True, exist_ok=True)
        exports = generate(people=people, seed=seed)
        for day, export_file in enumerate(exports):
            path = directory / export_file.filename
            path.write_bytes(export_file.content)
            run = _run_import(
                engine,
                settings,
                export_file.content,
                export_file.filename,
                source=export_file.source,
                id_column=export_file.id_column,
                mapping=export_file.mapping,
                encoding=None,
                quiet=as_json,
                consent=export_file.consent or None,
            )
            if run.issues_text:
                rejects = directory / f"{path.stem}.rejects.csv"
                rejects.write_text(run.issues_text, encoding="utf-8-sig")
                run.summary.rejects_file = str(rejects)
            results.append({"file": str(path), **run.summary.as_dict()})
            # The demo replays its history as if the apps were connected on consecutive days,
            # so the quality trend chart has the points each step really scored.
            report = refresh_and_report(engine, settings, snapshot=False)
            with transaction(engine) as conn:
                record_snapshot(conn, report, day=_days_ago(len(exports) - day))
            if not as_json:
                out.print(f"[bold]{export_file.source}[/]: {export_file.description}")
                _print_import(run.summary)
        with progress_steps(as_json) as advance:
            events = load_demo_events(
                engine,
                exports,
                seed=seed,
                rules=rules_from(settings),
                default_region=settings.default_region,
                progress=advance,
            )
            # Identity resolution, as the nightly job would: the apps' duplicates merged or queued.
            resolved = _demo_dedupe(engine, settings, advance) if run_dedupe else None
        # After the merges, so the history belongs to the profiles that survive them.
        consent_loaded = load_demo_consent(engine, seed=seed)
        # Last: segments and scores need the people, their events and their consent.
        with progress_steps(as_json) as advance:
            segments_loaded = load_demo_segments(
                engine,
                seed=seed,
                rules=rules_from(settings),
                default_region=settings.default_region,
                progress=advance,
            )
        if not as_json and resolved:
            out.print(
                f"[bold]dedupe[/]: merged {resolved['auto_merged']:,} duplicate profiles across the apps; "
                f"{resolved['queued']:,} possible duplicates wait for review (Duplicates in the admin)."
            )
        if not as_json:
            out.print(
                f"[bold]web[/]: {events['sent']:,} behavioural events (visits, product views, carts, orders, "
                f"email events) sent through the tracking API's ingest: {events['accepted']:,} accepted, "
                f"{events['rejected']:,} rejected (planted bad ids), {events['processed']:,} on timelines. "
                "The demo's tracking plan is loaded; its planted violations are on the Tracking plan page."
            )
            email_states = consent_loaded["states"].get("all", {})
            history = (
                "a year of history already loaded"
                if "skipped" in consent_loaded
                else f"{consent_loaded['history_changes']:,} changes over the year to "
                f"{consent_loaded['history_to']} (sign-ups, unsubscribes, opt-downs, pauses)"
            )
            out.print(
                f"[bold]consent[/]: {history}; "
                f"email: {email_states.get('subscribed', 0):,} subscribed, "
                f"{email_states.get('unsubscribed', 0):,} unsubscribed to all. Shop yeses without proof "
                "left Korean customers at none. See Consent in the admin."
            )
            sizes = ", ".join(f"{name} {size:,}" for name, size in segments_loaded["segments"].items())
            out.print(
                f"[bold]segments[/]: {sizes}. Lead scores and stages from {len(DEMO_RULES)} scoring rules; "
                "ninety days of membership history. See Segments in the admin, or `patron segments list`."
            )
    quality = refresh_and_report(engine, settings)
    with transaction(engine, write=False) as conn:
        totals = stats(conn)
    emit(
        {
            "imports": results,
            "events": events,
            "dedupe": resolved,
            "consent": consent_loaded,
            "segments": segments_loaded,
            "stats": totals,
            "quality_score": quality["score"],
        },
        as_json,
        lambda: out.print(
            f"Demo loaded: [bold]{totals['profiles']:,}[/] profiles, "
            f"{totals['merge_candidates']:,} possible duplicates to review, "
            f"quality score {quality['score']} (see Data quality in the admin)."
        ),
    )


def _demo_dedupe(engine: Engine, settings: Settings, progress: Any) -> dict[str, Any]:
    match_config = dedupe.match_config(settings)
    summary = dedupe.run_dedupe(
        engine,
        config=match_config,
        survivorship=dedupe.survivorship_of(match_config, settings),
        rules=rules_from(settings),
        actor="demo",
        progress=progress,
    )
    return summary.as_dict()


def _days_ago(days: int) -> date:
    return (utcnow() - timedelta(days=days)).date()


def main() -> None:
    """Entry point of the `patron` command."""
    app()
