"""Request body limits enforced before the body is read, for declared and streamed sizes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patron.web.errors import error_body

# Answers a refused request instead of the JSON error (the admin shows its upload page again):
# called with the request (its body unread), the limit and the declared size.
Refusal = Callable[[Request, int, int], Awaitable[Response]]


class BodyLimit:
    """Answer 413 when a body exceeds its path's limit: the JSON error shape, or the path's refusal."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_bytes: int,
        limits: dict[str, int],
        refusals: dict[str, Refusal] | None = None,
    ) -> None:
        self.app = app
        self.default_bytes = default_bytes
        # Path prefix -> limit, longest prefix first.
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))
        self.refusals = refusals or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length up front and count streamed bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = next(
            (bytes_ for prefix, bytes_ in self.limits if path.startswith(prefix)), self.default_bytes
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            refusal = self.refusals.get(path)
            if refusal is not None:
                response = await refusal(Request(scope, receive), limit, int(declared))
                await response(scope, receive, send)
            else:
                await self._refuse(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = orjson.dumps(
            error_body(
                "too_large",
                f"the request body is larger than the limit of {limit:,} bytes",
                {"limit_bytes": limit},
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised inside the app when a streamed body passes its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit
