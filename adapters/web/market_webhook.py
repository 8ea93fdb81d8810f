"""``POST /market/webhook``: order statuses from the Dloop market API, signed like Meta's.

The market calls back when an order it holds changes status (``delivered`` is the one
that matters to the customer). The body is signed with ``MARKET_WEBHOOK_SECRET``:
``X-Dloop-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``, checked on the raw
bytes before parsing. Body::

    {"external_id": "<our relay id>", "order_id": "DL-1001",
     "status": "delivered", "occurred_at": "2026-11-27T18:42:05Z"}

``external_id`` is the relay id we sent as the order's ``external_id`` and idempotency
key. The status is recorded as ``order.market_status_received`` in the relay's stream
(id derived from relay, order and status, so a redelivery is absorbed) before the
answer; the order reactor acts on it. Answers: 200 recorded (``duplicate`` true for a
repeat), 401/403 missing/bad signature, 404 unknown relay, 409 an ``order_id`` that is
not the relay's market order, 422 a malformed body, 503 no secret configured.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.engine.relay_timers import relay_stream
from adapters.meta.signature import SignatureCheck, check_signature
from adapters.store.types import Expect
from adapters.web.keys import DEPS
from core.order_relay import RelayState, fold_relay
from events.base import Metadata, NewEvent
from events.market import MarketOrderStatusReceived

HEADER = "X-Dloop-Signature-256"
MARKET_NAMESPACE = uuid.UUID("c4d2b7a9-61e3-4f85-9a0c-3b7e2d1f8a64")
_STATUS = re.compile(r"[a-z_]{1,32}")
_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


class BadStatusError(ValueError):
    """The body is not a status we can read; the message says which field."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


def parse_status(raw: bytes, now: datetime) -> MarketOrderStatusReceived:
    """The fact a body states; raises :class:`BadStatusError`."""
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadStatusError("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadStatusError("body must be a JSON object")
    values = {}
    for name, pattern in (("external_id", _ID), ("order_id", _ID), ("status", _STATUS)):
        value = body.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise BadStatusError(f"{name} is required ({pattern.pattern})")
        values[name] = value
    return MarketOrderStatusReceived(
        relay_id=values["external_id"],
        market_order_id=values["order_id"],
        status=values["status"],
        occurred_at=_time(body.get("occurred_at"), now),
    )


def _time(value: object, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, str):
        raise BadStatusError("occurred_at must be an ISO 8601 time with a zone")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadStatusError("occurred_at must be an ISO 8601 time with a zone") from None
    if at.tzinfo is None:
        raise BadStatusError("occurred_at must be an ISO 8601 time with a zone")
    return at


async def receive(request: web.Request) -> web.Response:
    """Verify, record and acknowledge one market status (see the module docstring)."""
    deps = request.app[DEPS]
    secret = deps.settings.market_webhook_secret
    if not secret:
        return _error(503, "MARKET_WEBHOOK_SECRET is not set: market statuses are not accepted")
    raw = await request.read()
    check = check_signature(raw, request.headers.get(HEADER), secret)
    if check is SignatureCheck.MISSING:
        return _error(401, f"{HEADER} is required")
    if check is SignatureCheck.INVALID:
        return _error(403, f"{HEADER} does not match the body")
    try:
        fact = parse_status(raw, datetime.now(UTC))
    except BadStatusError as exc:
        return _error(422, str(exc))
    stream = relay_stream(fact.relay_id)
    history = await deps.store.read_stream(stream)
    if not history:
        return _error(404, f"no order relay {fact.relay_id!r}")
    state = fold_relay(RelayState(relay_id=fact.relay_id), [e.payload for e in history])
    if state.market_order_id is not None and state.market_order_id != fact.market_order_id:
        return _error(409, "order_id is not this relay's market order")
    key = f"{fact.relay_id}:{fact.market_order_id}:{fact.status}"
    new = NewEvent(
        event_id=uuid.uuid5(MARKET_NAMESPACE, key),
        payload=fact,
        metadata=Metadata(
            source="market:webhook", correlation_id=request.headers.get("X-Request-Id")
        ),
    )
    result = await deps.store.append(stream, Expect.ANY, [new])
    return web.json_response(
        {"recorded": True, "relay_id": fact.relay_id, "duplicate": result.was_duplicate}
    )
