"""Domain exceptions. They carry no HTTP codes: only `patron.web.errors` maps them to statuses."""

from __future__ import annotations


class PatronError(Exception):
    """Root of every error Patron raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class NotFound(PatronError):
    """The thing asked for does not exist."""

    code = "not_found"


class Invalid(PatronError):
    """Input breaks a rule; `field` names where, the message says why and what to do."""

    code = "invalid"


class Conflict(PatronError):
    """The request is valid but clashes with the current state."""

    code = "conflict"


class Forbidden(PatronError):
    """The caller is known but may not do this."""

    code = "forbidden"


class Unauthorized(PatronError):
    """The caller could not be identified (missing or unknown credentials)."""

    code = "unauthorized"


class TooLarge(PatronError):
    """Input exceeds a size limit."""

    code = "too_large"


class ConcurrentWrite(PatronError):
    """Another transaction changed what this one read; the edge retries the transaction."""

    code = "concurrent_write"


class LinkInvalid(Invalid):
    """A public link's token was tampered with, cut short or used on the wrong page."""

    code = "link_invalid"


class LinkExpired(LinkInvalid):
    """A public link's token is older than its lifetime."""

    code = "link_expired"
