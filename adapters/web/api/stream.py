"""``GET /api/stream``: Server-Sent Events of what dashboards show, live.

Each frame is one event of the log (``id:`` its global position, ``event:`` its type,
``data:`` a JSON envelope). A client that reconnects sends ``Last-Event-ID`` (browsers do
it themselves) and continues right after that position; without it the stream starts at
the end of the log (``?after=N`` does the same as the header for clients that cannot set
it). The handler sleeps on the store's notifier between reads and sends a comment line as
a heartbeat when nothing else was written for ``heartbeat`` seconds, so proxies keep the
connection open. A dealer token receives only its own conversation and its orders.
When the server shuts down the stream ends (the browser reconnects after ``retry``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from adapters.readmodel.queries import Scope
from adapters.store.event_store import EventStore
from adapters.web.api.common import (
    STREAM_OPTIONS,
    ApiError,
    dumps,
    only_params,
    scope_of,
)
from adapters.web.keys import DEPS, SHUTTING_DOWN
from core.phones import conversation_stream, is_person_id
from events.base import RecordedEvent
from events.codec import encode_payload
from events.orders import OrderDrafted
from projections.messages import conversation_id

LIVE_TYPES = frozenset(
    {
        "whatsapp.message_received",
        "whatsapp.status_received",
        "conversation.started",
        "conversation.reply_queued",
        "conversation.outbound_sent",
        "conversation.outbound_failed",
        "outbox.reconciled",
        "conversation.agent_took_over",
        "conversation.released",
        "conversation.resolved",
        "conversation.escalated",
        "conversation.cart_proposed",
        "conversation.cart_confirmed",
        "conversation.cart_cancelled",
        "conversation.opted_out",
        "conversation.opted_in",
        "conversation.assistant_failed",
    }
)
STAFF_TYPES = frozenset(
    {
        "engine.event_parked",
        "engine.parked_event_reprocessed",
        "outbox.operator_alerted",
        "assistant.model_alerted",
    }
)


class Visibility:
    """Which events a caller's stream carries (dealers: their conversation and orders)."""

    def __init__(self, scope: Scope, store: EventStore) -> None:
        self.scope, self.store = scope, store
        self._own: str | None = None  # the dealer's stream, named by their person id
        self._relay_dealer: dict[str, str | None] = {}

    async def shows(self, event: RecordedEvent) -> bool:
        """True when ``event`` goes to this caller."""
        relevant = event.type in LIVE_TYPES or event.type.startswith("order.")
        if not self.scope.restricted:
            return relevant or event.type in STAFF_TYPES
        if not relevant:
            return False
        if event.stream.startswith("order-"):
            return await self._dealer_of(event.stream) == self.scope.dealer_id
        if self._own is None and self.scope.dealer_phone:
            phone = self.scope.dealer_phone
            person = await self.store.people.find(phone)  # kept once it exists
            if person is None:
                return event.stream == conversation_stream(phone)
            self._own = conversation_stream(person)
        return self._own is not None and event.stream == self._own

    async def _dealer_of(self, stream: str) -> str | None:
        if stream not in self._relay_dealer:
            first = await self.store.read_stream(stream)
            drafted = next((e.payload for e in first if isinstance(e.payload, OrderDrafted)), None)
            self._relay_dealer[stream] = drafted.dealer_id if drafted else None
        return self._relay_dealer[stream]


def frame(event: RecordedEvent, data: dict[str, Any] | None = None) -> bytes:
    """One SSE frame for ``event`` (``data``: its payload as sent, when rewritten)."""
    body: dict[str, Any] = {
        "position": event.position,
        "stream": event.stream,
        "type": event.type,
        "recorded_at": event.recorded_at,
        "conversation_id": (
            conversation_id(event.stream) if event.stream.startswith("conversation-") else None
        ),
        "data": data if data is not None else encode_payload(event.payload),
    }
    return f"id: {event.position}\nevent: {event.type}\ndata: {dumps(body)}\n\n".encode()


async def _addressed(event: RecordedEvent, store: EventStore) -> dict[str, Any] | None:
    """A queued reply names its recipient by the phone the dashboard knows, not by the
    pseudonymous person id it is stored under (``[erased]`` once the person is erased)."""
    if event.type != "conversation.reply_queued":
        return None
    data = encode_payload(event.payload)
    to = data.get("to")
    if isinstance(to, str) and is_person_id(to):
        data["to"] = await store.people.subject_of(to) or "[erased]"
    return data


async def _start(request: web.Request, store: EventStore) -> int:
    raw = request.headers.get("Last-Event-ID") or request.query.get("after")
    if raw is None:
        return await store.last_position()
    if not raw.strip().isdigit():
        raise ApiError(
            422, f"Last-Event-ID must be a global position (a whole number), got {raw!r}"
        )
    return int(raw)


async def stream(request: web.Request) -> web.StreamResponse:
    """``GET /api/stream`` (see the module docstring)."""
    only_params(request, ("after",))
    store = request.app[DEPS].store
    cursor = await _start(request, store)
    visible = Visibility(scope_of(request), store)
    options = request.app[STREAM_OPTIONS]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    stopping = request.app[SHUTTING_DOWN]
    try:
        await response.write(b"retry: 3000\n\n")
        while not stopping.is_set():
            announced = store.notifier.position  # read before the log, so no wake-up is lost
            batch = await store.read_all(cursor, options.batch)
            for event in batch:
                cursor = event.position
                if await visible.shows(event):
                    await response.write(frame(event, await _addressed(event, store)))
                    quiet_since = loop.time()
            if len(batch) == options.batch:
                continue
            left = options.heartbeat - (loop.time() - quiet_since)
            if left <= 0:
                await response.write(b": heartbeat\n\n")
                quiet_since = loop.time()
                continue
            # Everything announced before the read was read: wait for something newer.
            await store.notifier.wait(max(cursor, announced), left)
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away
    return response
