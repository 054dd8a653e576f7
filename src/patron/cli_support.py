"""What every `patron` command shares: settings, engine, output, errors, progress bars."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from patron.config import Settings, get_settings
from patron.errors import Invalid, NotFound, PatronError
from patron.storage.engine import make_engine, transaction
from patron.storage.migrate import current_revision

out = Console()
err = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def load_settings() -> Settings:
    """The process's settings."""
    return get_settings()


def open_engine(settings: Settings | None = None) -> Engine:
    """An engine for the configured database."""
    return make_engine((settings or load_settings()).database_url)


def emit(data: dict[str, Any], as_json: bool, human: Callable[[], None]) -> None:
    """Print `data` as JSON, or call `human` to print it for people."""
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human()


def fail(error: PatronError | str, as_json: bool, *, code: int = 1) -> NoReturn:
    """Report an error (as JSON with --json) and exit with `code`."""
    message = error.message if isinstance(error, PatronError) else error
    if as_json:
        body: dict[str, Any] = {"code": getattr(error, "code", "error"), "message": message}
        if isinstance(error, PatronError):
            body["details"] = (
                {"field": error.field, "details": error.details} if error.field else error.details
            )
        print(json.dumps({"error": body}, ensure_ascii=False, default=str))
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def errors_reported(as_json: bool) -> Iterator[None]:
    """Domain errors become one clear line (or a JSON error) and a non-zero exit."""
    try:
        yield
    except PatronError as exc:
        fail(exc, as_json, code=2 if isinstance(exc, Invalid | NotFound) else 1)
    except OperationalError as exc:
        fail(
            f"the database is not usable: {exc.orig}. Check PATRON_DATABASE_URL and run `patron init`.",
            as_json,
        )


def require_schema(engine: Engine, as_json: bool) -> None:
    """Stop with a clear message when `patron init` has not run."""
    if current_revision(engine) is None:
        fail("the database has no Patron schema yet: run `patron init` first", as_json)


def progress_bar(disabled: bool) -> Progress:
    """A Rich progress bar on stderr (off for --json)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=disabled,
        transient=False,
    )


@contextmanager
def progress_steps(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar with one line per step; yields advance(label, done, total), total 0 when
    not known (the shape domain functions report progress in)."""
    with progress_bar(quiet) as bar:
        tasks: dict[str, Any] = {}

        def advance(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total or None)
            bar.update(tasks[label], completed=done, total=total or None)

        yield advance


@contextmanager
def command_engine(as_json: bool) -> Iterator[tuple[Settings, Engine]]:
    """The settings and database of a command that manages its own transactions: the schema must
    exist, and domain errors become one clear line (or a JSON error) and a non-zero exit."""
    settings = load_settings()
    engine = open_engine(settings)
    with errors_reported(as_json):
        require_schema(engine, as_json)
        yield settings, engine


def working(message: str, quiet: bool) -> AbstractContextManager[object]:
    """A spinner on stderr while one long step runs that has no count to show (off for --json)."""
    return nullcontext() if quiet else err.status(message)


@contextmanager
def command_transaction(as_json: bool, *, write: bool = True) -> Iterator[Connection]:
    """One command's transaction on the configured database: the schema must exist, and domain
    errors become one clear line (or a JSON error) and a non-zero exit."""
    engine = open_engine()
    with errors_reported(as_json):
        require_schema(engine, as_json)
        with transaction(engine, write=write) as conn:
            yield conn
