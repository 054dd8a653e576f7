"""Fixtures for tests that talk to the ASGI app."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from fastapi.testclient import TestClient

from patron.web.app import create_app
from tests.conftest import Database


@pytest.fixture
def app_client(db: Database) -> Iterator[TestClient]:
    """HTTP client for the app on this test's database, without credentials."""
    with TestClient(create_app(db.settings, engine=db.engine)) as client:
        yield client


@pytest.fixture
def api(db: Database, app_client: TestClient) -> TestClient:
    """HTTP client carrying the admin API key."""
    app_client.headers["Authorization"] = f"Bearer {db.admin_key}"
    return app_client


@dataclass
class Mailbox:
    """Messages a real SMTP server (aiosmtpd) received during one test."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    @property
    def url(self) -> str:
        """PATRON_SMTP_URL pointing at this server."""
        return f"smtp://{self.host}:{self.port}"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free local port, collecting what it receives."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # aiosmtpd checks its server by connecting: it needs a real port
        probe.bind(("127.0.0.1", 0))
        box = Mailbox("127.0.0.1", probe.getsockname()[1])

    class Collect:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            raw = envelope.content  # type: ignore[attr-defined]
            box.messages.append(message_from_bytes(raw, policy=default))  # type: ignore[arg-type]
            return "250 OK"

    controller = Controller(Collect(), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
