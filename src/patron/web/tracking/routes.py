"""The Segment-compatible tracking API under /v1 (write keys only).

Server libraries (segment-analytics-python, rudder-sdk-python) post JSON batches with the
write key as HTTP Basic user; analytics.js posts text/plain bodies carrying writeKey to the
short paths /v1/t, /v1/i, ... Both land in the same ingest.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from patron.errors import Invalid, TooLarge
from patron.storage.engine import transaction
from patron.tracking.intake import IngestResult, Source, prepare, store
from patron.tracking.messages import MessageError, parse_time
from patron.web.errors import error_response

router = APIRouter(prefix="/v1", tags=["tracking"], include_in_schema=True)
SHORT = {"i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias", "b": "batch"}


def _ok(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def _receive(request: Request, kind: str) -> Response:
    state = request.app.state
    raw = await request.body()
    body = _decode(
        raw, request.headers.get("content-encoding", ""), state.settings.tracking_max_request_bytes
    )
    source = state.write_keys.resolve(_basic_user(request) or body.get("writeKey"))
    if kind == "batch":
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise Invalid('a batch needs "batch": a list of messages', field="batch")
        shared = body.get("context")
        if isinstance(shared, dict) and shared:
            messages = [
                {**m, "context": {**shared, **(m.get("context") or {})}} if isinstance(m, dict) else m
                for m in messages
            ]
    else:
        messages = [body]
    wait = state.rate_limiter.retry_after(source.key_id, len(messages))
    if wait:
        message = f"this write key sends more than {state.rate_limiter.rate:,.0f} events a second"
        return error_response(
            429, "rate_limited", message, {"retry_after_s": wait}, headers={"Retry-After": str(wait)}
        )
    try:
        sent_at = parse_time(body.get("sentAt"), "sentAt")
    except MessageError as exc:
        raise Invalid(exc.reason, field=exc.field) from None
    result = await run_in_threadpool(
        _ingest, request, messages, source, sent_at, None if kind == "batch" else kind
    )
    if kind != "batch" and result.rejected:
        rejection = result.rejected[0]
        raise Invalid(f"{rejection.field}: {rejection.reason}", field=rejection.field)
    answer: dict[str, Any] = {"success": True}
    if result.rejected:
        answer["rejected"] = [r.as_dict() for r in result.rejected]
    return _ok(answer)


def _ingest(
    request: Request, messages: list[Any], source: Source, sent_at: datetime | None, type_hint: str | None
) -> IngestResult:
    state = request.app.state
    # Checking and serialising happen outside the write transaction: on SQLite it is one
    # writer at a time, so only the inserts should hold it.
    prepared = prepare(
        messages, source=source, received_at=datetime.now(UTC), rules=state.rules,
        plan=state.plan_cache.get(), sent_at=sent_at, type_hint=type_hint,
    )  # fmt: skip
    with transaction(state.engine) as conn:
        return store(conn, prepared)


def _decode(raw: bytes, encoding: str, limit: int) -> dict[str, Any]:
    if len(raw) > limit:
        raise TooLarge(f"the request is larger than {limit // 1024} KB, the limit per request", field="body")
    if "gzip" in encoding.lower():
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise Invalid(f"Content-Encoding is gzip but the body is not: {exc}", field="body") from None
        if len(raw) > limit or inflater.unconsumed_tail:
            raise TooLarge(
                f"the request is larger than {limit // 1024} KB uncompressed, the limit", field="body"
            )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", field="body")
    return body


def _basic_user(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, _, _ = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or None


def _route(kind: str) -> Any:
    async def receive(request: Request) -> Response:
        return await _receive(request, kind)

    receive.__name__ = f"receive_{kind}"
    receive.__doc__ = f"Segment {kind} call (write key as Basic user or writeKey in the body)."
    return receive


for _kind in ("identify", "track", "page", "screen", "group", "alias", "batch"):
    router.add_api_route(f"/{_kind}", _route(_kind), methods=["POST"], response_class=JSONResponse)
for _short, _kind in SHORT.items():
    # analytics.js sends text/plain to these to stay a "simple" CORS request.
    router.add_api_route(f"/{_short}", _route(_kind), methods=["POST"], include_in_schema=False)


@router.get("/projects/{write_key}/settings")
def project_settings(write_key: str, request: Request) -> JSONResponse:
    """The settings document that makes analytics.js (analytics-next) send its events here."""
    source = request.app.state.write_keys.resolve(write_key)
    base = request.app.state.settings.base_url.rstrip("/")
    protocol, _, host = base.partition("://")
    return JSONResponse({
        "integrations": {
            "Segment.io": {
                "apiKey": write_key, "apiHost": f"{host}/v1", "protocol": protocol,
                "unbundledIntegrations": [], "addBundledMetadata": True, "maybeBundledConfigIds": {},
                "versionSettings": {"componentTypes": ["browser"]},
            }
        },
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}},
                 "identify": {"__default": {"enabled": True}}, "group": {"__default": {"enabled": True}}},
        "edgeFunction": {}, "analyticsNextEnabled": True, "middlewareSettings": {}, "enabledMiddleware": {},
        "metrics": {"sampleRate": 0}, "legacyVideoPluginsEnabled": False, "remotePlugins": [],
        "source": {"name": source.name, "trackingMode": source.mode},
    })  # fmt: skip
