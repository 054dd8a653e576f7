"""What stands in front of the tracking API: write keys, rate limits, CORS, cached plan."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patron.accounts import WRITE, find_api_key
from patron.errors import Forbidden, Unauthorized
from patron.storage.engine import transaction
from patron.tracking.dictionary import load_checker
from patron.tracking.intake import Source
from patron.tracking.plan import PlanChecker


class WriteKeys:
    """Write key -> source, cached briefly so a request costs no key lookup."""

    def __init__(self, engine: Engine, *, ttl_s: float) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Source]] = {}
        self._lock = threading.Lock()

    def resolve(self, key: str | None) -> Source:
        """The source of a live write key; Unauthorized or Forbidden otherwise."""
        if not key:
            raise Unauthorized("send the write key as the HTTP Basic user name, or as writeKey in the body")
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        with transaction(self.engine, write=False) as conn:
            api_key = find_api_key(conn, key)
        if api_key.scope != WRITE:
            raise Forbidden(
                "this is an admin key; the tracking API takes write keys (patron apikey create --scope write)"
            )
        source = Source(api_key.source, api_key.tracking_mode, api_key.id)
        with self._lock:
            self._cache[key] = (now + self.ttl_s, source)
        return source

    def forget(self) -> None:
        """Drop the cache (after a key's mode changed in this process)."""
        with self._lock:
            self._cache.clear()


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per write key: `rate` events a second, bursts of two seconds' worth."""

    def __init__(self, rate_per_s: float) -> None:
        self.rate = rate_per_s
        self.capacity = 2 * rate_per_s
        self._buckets: dict[int | None, _Bucket] = {}
        self._lock = threading.Lock()

    def retry_after(self, key_id: int | None, events: int) -> int:
        """0 when `events` may go now (they are counted), else seconds to wait before trying."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(key_id, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= events:
                bucket.tokens -= events
                return 0
            return max(1, math.ceil((events - bucket.tokens) / self.rate))


class PlanCache:
    """The tracking plan checker, re-read at most every `ttl_s` seconds (or when told)."""

    def __init__(self, engine: Engine, *, ttl_s: float) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._checker: PlanChecker | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> PlanChecker:
        """A checker no older than the TTL."""
        now = time.monotonic()
        if self._checker is not None and now < self._expires:
            return self._checker
        with self._lock:
            if self._checker is None or time.monotonic() >= self._expires:
                with transaction(self.engine, write=False) as conn:
                    self._checker = load_checker(conn)
                self._expires = time.monotonic() + self.ttl_s
        return self._checker

    def invalidate(self) -> None:
        """Re-read the plan on next use (it changed in this process)."""
        self._expires = 0.0


class TrackingCors:
    """CORS for /v1 only: browsers on any site may send events; nothing else is opened up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer preflights and add the allow-origin header to /v1 responses."""
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"*")
        allow = [
            (b"access-control-allow-origin", origin),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS":
            requested = headers.get(b"access-control-request-headers", b"Content-Type, Authorization")
            await send({"type": "http.response.start", "status": 204, "headers": [
                *allow,
                (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-allow-headers", requested),
                (b"access-control-max-age", b"86400"),
            ]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *allow]}
            await send(message)

        await self.app(scope, receive, with_cors)
