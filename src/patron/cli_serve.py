"""`patron serve`: the API and admin under uvicorn, with the worker in-process."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from patron.cli_support import err, errors_reported, load_settings, open_engine, require_schema

if TYPE_CHECKING:
    import uvicorn


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one, named in what is printed)")] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run the worker in this process")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print one JSON line once listening: {"url", "worker", "database"}.'),
    ] = False,
) -> None:
    """Serve the API and admin (with the worker in-process unless --no-worker)."""
    import uvicorn  # here: most commands never serve, and it is slow to import
    from uvicorn.config import LOGGING_CONFIG

    from patron.web.app import create_app

    settings = load_settings()
    engine = open_engine(settings)
    with errors_reported(as_json):
        require_schema(engine, as_json)

    def announce(bound_port: int) -> None:
        url = f"http://[{host}]:{bound_port}" if ":" in host else f"http://{host}:{bound_port}"
        if as_json:
            started = {"url": url, "worker": not no_worker, "database": engine.dialect.name}
            print(json.dumps(started), flush=True)  # flushed: whoever started us waits for this line
        else:
            err.print(
                f"Patron admin: [bold]{url}/admin/[/]  API: {url}/docs"
                + ("" if no_worker else "  (worker running in-process)")
            )

    log_config = copy.deepcopy(LOGGING_CONFIG)
    if as_json:
        log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"  # stdout holds only the JSON line
    config = uvicorn.Config(
        create_app(settings, engine=engine, run_worker=not no_worker),
        host=host,
        port=port,
        log_level="info",
        log_config=log_config,
        proxy_headers=True,
    )
    server = _announcing_server(config, announce)
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl+C after a clean shutdown, as uvicorn.run treats it
        pass
    if not server.started:
        raise typer.Exit(3)  # uvicorn's own exit code when it cannot start


def _announcing_server(config: uvicorn.Config, announce: Callable[[int], None]) -> uvicorn.Server:
    """A uvicorn Server that calls announce(port) once it listens (the real port when given 0)."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce(self.servers[0].sockets[0].getsockname()[1])

    return AnnouncingServer(config)
