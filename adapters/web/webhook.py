"""``/webhook``: Meta's verification handshake (GET) and signed deliveries (POST).

POST order matters: size limit, then signature over the raw bytes, then content type,
then record durably, then answer. Only a durable commit earns a 200; a store failure
answers 503 so that Meta redelivers (it retries for up to 7 days), and so does a
delivery that finds ``INGEST_MAX_PENDING`` others already waiting for the group commit
(backpressure: refused at once, never queued without bound).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from aiohttp import web

from adapters.meta.signature import HEADER, SignatureCheck, check_signature
from adapters.store.types import StoreBusyError, StoreUnavailableError
from adapters.web.keys import DEPS

log = structlog.get_logger(__name__)
JSON_TYPES = frozenset({"application/json", "text/json"})


async def verify(request: web.Request) -> web.Response:
    """Echo ``hub.challenge`` byte for byte when the mode and token are right; else 403."""
    settings = request.app[DEPS].settings
    query = request.rel_url.query
    token = settings.whatsapp_verify_token
    if (
        token is not None
        and query.get("hub.mode") == "subscribe"
        and query.get("hub.verify_token") == token
        and "hub.challenge" in query
    ):
        return web.Response(text=query["hub.challenge"], content_type="text/plain")
    log.warning("webhook.verify_refused", mode=query.get("hub.mode"))
    return web.Response(status=403, text="verification refused\n", content_type="text/plain")


async def receive(request: web.Request) -> web.Response:
    """Verify, record and acknowledge one delivery (timed and counted for /metrics)."""
    started = time.perf_counter()
    response = await _receive(request)
    metrics = request.app[DEPS].metrics
    metrics.webhook_answered(response.status, time.perf_counter() - started)
    if response.status != 200:
        metrics.delivery(f"rejected_{response.status}")
    return response


async def _receive(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    secret = deps.settings.whatsapp_app_secret
    if not secret:
        return _error(503, "WHATSAPP_APP_SECRET is not configured: refusing unverifiable webhooks")
    too_big = _too_big(request, deps.settings.max_body_bytes)
    if too_big is not None:
        return too_big
    if request.content.is_eof():  # the whole body came with the headers: nothing to wait for
        body = await request.read()
        return await ingest_signed(request, body, request.headers.get(HEADER), secret)
    try:
        async with asyncio.timeout(deps.settings.body_read_timeout):
            body = await request.read()
    except TimeoutError:
        # A client trickling its body (slow-loris) must not hold a worker: Meta sends fast.
        return _error(408, f"body not received within {deps.settings.body_read_timeout:g} s")
    return await ingest_signed(request, body, request.headers.get(HEADER), secret)


async def ingest_signed(
    request: web.Request, body: bytes, signature: str | None, secret: str
) -> web.Response:
    """The shared path of /webhook and /simulate once the body is read."""
    verdict = check_signature(body, signature, secret)
    if verdict is SignatureCheck.MISSING:
        return _error(401, f"missing {HEADER} header")
    if verdict is SignatureCheck.INVALID:
        return _error(403, f"{HEADER} does not match the body")
    if request.content_type not in JSON_TYPES:
        return _error(415, f"expected application/json, got {request.content_type or 'nothing'}")
    try:
        outcome = await request.app[DEPS].ingestor.ingest(body, request.content_type)
    except StoreBusyError:
        # Past saturation: refuse now (nothing written) rather than queue without bound.
        response = _error(503, "too many deliveries waiting to be recorded; retry later")
        response.headers["Retry-After"] = "1"
        return response
    except StoreUnavailableError as exc:
        log.error("webhook.store_unavailable", error=str(exc))
        return _error(503, "event store unavailable; retry later")
    deps = request.app[DEPS]
    deps.metrics.delivery("duplicate" if outcome.duplicate else "recorded")
    log.debug(
        "webhook.recorded",
        delivery_id=outcome.delivery_id,
        facts=outcome.facts,
        new_facts=outcome.new_facts,
        duplicate=outcome.duplicate,
    )
    return recorded_response(outcome.delivery_id, outcome.facts, duplicate=outcome.duplicate)


def recorded_response(delivery_id: str, facts: int, *, duplicate: bool) -> web.Response:
    """The 200 answer: the text ``json.dumps`` gives for ``{"status": "recorded", ...}``.

    Written out, not dumped, on the hottest path: ``delivery_id`` is a UUID's text and
    ``facts`` an int, so neither needs escaping (tests compare it with ``json.dumps``).
    """
    body = (
        f'{{"status": "recorded", "delivery_id": "{delivery_id}", "facts": {facts:d}, '
        f'"duplicate": {"true" if duplicate else "false"}}}'
    )
    return web.Response(text=body, content_type="application/json")


def _too_big(request: web.Request, limit: int) -> web.Response | None:
    length = request.content_length
    if length is not None and length > limit:
        return _error(413, f"body of {length} bytes exceeds the {limit}-byte limit")
    return None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
