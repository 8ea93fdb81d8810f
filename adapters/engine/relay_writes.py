"""What the order relay writes, built from a relay's state: ids, events, notices, pushes.

Every id is derived (:func:`did`) from the relay and the step, so a retried or replayed
step writes the same events and the store absorbs the duplicate. :func:`relay_request`
appends to the relay stream at its expected version; a customer's notice and a dealer's
reminder go to their conversation streams at any version (their ids make them once-only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from adapters.engine.relay_timers import relay_stream
from adapters.store.types import AppendRequest, Expect
from core import alerts
from core import market as mk
from core.conversation import recipient
from core.dealer_commands import answer_buttons, reminder_text
from core.market import RelayExtras
from core.order_relay import RelayState
from core.phones import normalize_phone
from events.base import Metadata, NewEvent
from events.conversation import CartCancelled, ReplyKind, ReplyQueued
from events.notify import PushRequested
from events.orders import DealerReminded, OrderEscalated, OrderExpired

NUMBERS_STREAM = "order-numbers"  # one event per order number handed out, in order
RELAY_NAMESPACE = uuid.UUID("5e7b1c93-0a4d-4c2f-b8e6-91d3f2a7c650")


def conversation_stream(key: str) -> str:
    """``conversation-<key>``."""
    return f"conversation-{key}"


def did(*parts: object) -> uuid.UUID:
    """A deterministic event id for one step of the relay machinery."""
    return uuid.uuid5(RELAY_NAMESPACE, ":".join(str(p) for p in parts))


def new(key: tuple[object, ...], payload: Any, source: str = "reactor:orders") -> NewEvent:
    """A new event with a deterministic id."""
    return NewEvent(event_id=did(*key), payload=payload, metadata=Metadata(source=source))


def relay_request(
    state: RelayState, version: int, step: str, events: Sequence[object]
) -> AppendRequest:
    """The relay's own events of one step, at the stream's expected version."""
    batch = [new((state.relay_id, step, i), ev) for i, ev in enumerate(events)]
    return AppendRequest(relay_stream(state.relay_id), version, batch)


def customer_notice(
    state: RelayState, step: str, text: str, *, key: str | None = None
) -> AppendRequest:
    """A text to the relay's customer, queued once per (relay or ``key``, step)."""
    outbound_id = str(did(key or state.relay_id, step, "customer"))
    reply = ReplyQueued(
        outbound_id=outbound_id,
        to=recipient(state.customer_key),
        kind=ReplyKind.TEXT,
        text=text,
    )
    return AppendRequest(
        conversation_stream(state.customer_key), Expect.ANY, [new((outbound_id,), reply)]
    )


def push(state: RelayState, audience: str, reason: str, title: str, body: str) -> PushRequested:
    """A push alert about this relay (the notify sender carries it out)."""
    return alerts.relay_alert(
        str(did(state.relay_id, "push", reason)),
        state.relay_id,
        state.dealer_id,
        audience=audience,
        reason=reason,
        title=title,
        body=body,
    )


def timer_effects(
    state: RelayState, extras: RelayExtras, ev: object
) -> tuple[list[object], list[AppendRequest]]:
    """What a timer decision means outside the relay stream (and pushes inside it)."""
    if isinstance(ev, OrderExpired):
        cancelled = CartCancelled(cart_id=state.cart_id, reason="expired")
        stream = conversation_stream(state.customer_key)
        return [], [
            AppendRequest(stream, Expect.ANY, [new((state.cart_id, "expired"), cancelled)]),
            customer_notice(state, "expired", mk.EXPIRED_TEXT, key=state.cart_id),
        ]
    if isinstance(ev, DealerReminded):
        phone = normalize_phone(state.dealer_phone) or state.dealer_phone
        reminder = ReplyQueued(
            outbound_id=ev.outbound_id,
            to=phone,
            kind=ReplyKind.BUTTONS,
            text=reminder_text(extras.number),
            buttons=answer_buttons(state.relay_id),
        )
        message = new((ev.outbound_id,), reminder)
        return [], [AppendRequest(conversation_stream(phone), Expect.ANY, [message])]
    if isinstance(ev, OrderEscalated):
        body = f"Il negozio {state.dealer_id} non risponde all'ordine n. {extras.number}"
        alert = push(state, "support", "dealer_silent", "Negozio silenzioso", body)
        return [alert], [customer_notice(state, "dealer-silent", mk.DEALER_SILENT_TEXT)]
    return [], []
