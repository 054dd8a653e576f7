"""Plain SMTP delivery of one message, configured by PATRON_SMTP_URL.

smtp://host:port, smtp+starttls://user:pass@host:port, smtps://user:pass@host:port.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from patron.errors import Invalid


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to hand mail over."""

    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """Read PATRON_SMTP_URL; Invalid names what is wrong."""
        parts = urlsplit(url)
        security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme)
        if security is None or not parts.hostname:
            raise Invalid(
                "PATRON_SMTP_URL must look like smtp://host:port or "
                f"smtp+starttls://user:pass@host:port, not {url!r}",
                field="smtp_url",
            )
        port = parts.port or {"none": 25, "starttls": 587, "tls": 465}[security]
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, security, user, password)


def send(url: str, message: EmailMessage, *, timeout_s: float = 30) -> None:
    """Deliver one message; smtplib's exceptions propagate so the job retries."""
    target = SmtpTarget.parse(url)
    if target.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=timeout_s, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout_s)
    with client:
        if target.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)
