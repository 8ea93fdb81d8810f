"""A synthetic but realistic event log for the read-side benchmarks and tests.

Conversations as the service records them: each customer turn is a signed webhook
(``whatsapp.webhook_received`` in its delivery stream) with the message it carried, what
the assistant understood, the reply queued, the turn marker, the outbox's attempt and
outcome, and the three status webhooks Meta sends back (sent, delivered, read), each a
webhook record plus its status fact. About one conversation in ten orders: a priced cart
is proposed and confirmed and its relay runs in its own ``order-<id>`` stream (drafted,
confirmation requested, confirmed, market order created, relayed, accepted). A few ask
for a person (escalation) and a few sends fail. Conversations are interleaved in the
log, and everything is deterministic for a given seed.

:func:`write_log` appends through the store's bulk path (:meth:`EventStore.commit_units`,
``BULK`` events per transaction), not one append per event.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.store.event_store import EventStore
from adapters.store.types import AppendRequest, Expect
from events.base import Metadata, NewEvent
from events.conversation import (
    AssistantTraceRecord,
    CartConfirmed,
    CartProposed,
    ConversationEscalated,
    ConversationStarted,
    MessageUnderstood,
    OutboundFailed,
    OutboundSent,
    PartyKind,
    PricedLine,
    ReplyKind,
    ReplyQueued,
    UnderstoodLine,
)
from events.engine import TurnProcessed
from events.orders import (
    MarketOrderCreated,
    OrderAccepted,
    OrderConfirmationRequested,
    OrderConfirmed,
    OrderDrafted,
    OrderRelayedToDealer,
)
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived, StatusReceived, WebhookReceived

BULK = 2000  # events per transaction when writing
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TRACE = AssistantTraceRecord(engine="offline", model=None, prompt_version="offline-1", latency_ms=3)
NAMESPACE = uuid.UUID("5d0c7b1e-8a55-4c9e-a1f2-3b7e9c4d2a10")
TEXTS = (
    "Buongiorno, avete crocchette per cani di taglia piccola?",
    "Vorrei sapere gli orari di apertura di sabato",
    "Ciao! Quanto costa la consegna in centro?",
    "Il profumo alla rosa è disponibile?",
    "Grazie mille, a presto",
    "Posso pagare alla consegna?",
    "Mi servono 2 sacchi di lettiera per gatti",
    "A che ora arriva il rider?",
)
REPLIES = (
    "Ciao! Sono l'assistente di Dloop. Cosa posso fare per te?",
    "Sì, lo trovi nel catalogo: vuoi che lo aggiunga al carrello?",
    "La consegna in centro costa 2,90 €.",
    "Siamo aperti dalle 9 alle 19, sabato compreso.",
)
DEALERS = (("d-pet", "+393330000001"), ("d-perfume", "+393330000002"))


@dataclass(frozen=True, slots=True)
class Shape:
    """How the generated traffic looks (fractions of conversations)."""

    max_turns: int = 6
    order_share: float = 0.10
    escalation_share: float = 0.02
    failure_share: float = 0.01
    window: int = 500  # conversations interleaved at once


def phone_of(n: int) -> str:
    """The E.164 phone of synthetic customer ``n``."""
    return f"+3932{n:08d}"


def _id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def _new(stream: str, payload: Any, key: tuple[object, ...]) -> tuple[str, NewEvent]:
    return stream, NewEvent(event_id=_id(*key), payload=payload, metadata=Metadata())


def _webhook(body: dict[str, Any], at: datetime) -> tuple[str, NewEvent]:
    text = json.dumps(body, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    received = WebhookReceived(
        body=text,
        body_b64=None,
        body_sha256=digest,
        content_type="application/json",
        received_at=at,
    )
    return _new(f"delivery-{digest[:32]}", received, ("webhook", digest))


class _Conversation:
    """One customer's conversation; :meth:`turn` yields the events of its next turn."""

    def __init__(self, n: int, rng: random.Random, shape: Shape) -> None:
        self.n, self.phone = n, phone_of(n)
        self.stream = f"conversation-{self.phone}"
        self.turns = rng.randint(1, shape.max_turns)
        self.orders = rng.random() < shape.order_share
        self.escalates = rng.random() < shape.escalation_share
        self.fails = rng.random() < shape.failure_share
        self.done = 0

    def turn(self, rng: random.Random, at: datetime) -> Iterator[tuple[str, NewEvent]]:
        t, stream, phone = self.done, self.stream, self.phone
        self.done += 1
        wamid = f"wamid.SYN{_id('in', self.n, t).hex}"
        text = "Confermo" if self.orders and t == 2 else rng.choice(TEXTS)
        yield _webhook(_message_body(phone, wamid, text, at), at)
        message = MessageReceived(
            wamid=wamid,
            wa_id=phone[1:],
            phone=phone,
            bsuid=None,
            profile_name=f"Cliente {self.n}",
            kind="text",
            text=text,
            sent_at=at,
        )
        yield _new(stream, message, ("msg", wamid))
        intent = "order_request" if self.orders and t == 1 else "general_chat"
        cart: tuple[UnderstoodLine, ...] = ()
        if intent == "order_request":
            cart = (UnderstoodLine(product_id="p-pet-1", quantity=2),)
        understood = MessageUnderstood(
            wamids=(wamid,), intent=intent, confidence=0.9, cart=cart, trace=TRACE
        )
        yield _new(stream, understood, ("und", wamid))
        if t == 0:
            yield _new(
                stream, ConversationStarted(key=phone, kind=PartyKind.CUSTOMER), ("st", self.n)
            )
        if self.escalates and t == self.turns - 1:
            yield _new(stream, ConversationEscalated(reason="support_request"), ("esc", wamid))
            yield _new(stream, TurnProcessed(fact_ids=(wamid,), decisions=1), ("tp", wamid))
            return
        yield from self._order_steps(t, wamid, at)
        oid = str(_id("out", wamid))
        reply = ReplyQueued(
            outbound_id=oid,
            to=phone,
            kind=ReplyKind.TEXT,
            text=rng.choice(REPLIES),
            in_reply_to=wamid,
        )
        yield _new(stream, reply, ("rq", oid))
        yield _new(stream, TurnProcessed(fact_ids=(wamid,), decisions=2), ("tp", wamid))
        yield _new(stream, OutboundAttempted(outbound_id=oid, attempt=1), ("att", oid))
        if self.fails and t == 0:
            failed = OutboundFailed(
                outbound_id=oid, code=131026, title="Message undeliverable", retryable=False
            )
            yield _new(stream, failed, ("fail", oid))
            return
        out_wamid = f"wamid.OUT{_id('o', oid).hex}"
        yield _new(stream, OutboundSent(outbound_id=oid, wamid=out_wamid), ("sent", oid))
        for k, status in enumerate(("sent", "delivered", "read")):
            when = at + timedelta(seconds=2 + 3 * k)
            yield _webhook(_status_body(phone, out_wamid, status, oid, when), when)
            fact = StatusReceived(
                wamid=out_wamid,
                status=status,
                recipient_id=phone[1:],
                phone=phone,
                bsuid=None,
                timestamp=when,
                biz_opaque_callback_data=oid,
            )
            yield _new(stream, fact, ("status", oid, status))

    def _order_steps(self, t: int, wamid: str, at: datetime) -> Iterator[tuple[str, NewEvent]]:
        if not self.orders or t not in (1, 2):
            return
        cart_id = str(_id("cart", self.n))
        dealer_id, dealer_phone = DEALERS[self.n % len(DEALERS)]
        line = PricedLine(
            product_id="p-pet-1",
            dealer_id=dealer_id,
            name="Crocchette per cane",
            quantity=2,
            unit_price=Decimal("18.90"),
            line_total=Decimal("37.80"),
        )
        relay = str(_id("relay", self.n))
        order = f"order-{relay}"
        if t == 1:
            proposed = CartProposed(
                cart_id=cart_id, lines=(line,), total=Decimal("37.80"), wamids=(wamid,)
            )
            yield _new(self.stream, proposed, ("cp", cart_id))
            drafted = OrderDrafted(
                relay_id=relay,
                customer_key=self.phone,
                cart_id=cart_id,
                dealer_id=dealer_id,
                dealer_phone=dealer_phone,
                lines=(line,),
                total=Decimal("37.80"),
            )
            yield _new(order, drafted, ("od", relay))
            asked = OrderConfirmationRequested(relay_id=relay, requested_at=at)
            yield _new(order, asked, ("ocr", relay))
            return
        yield _new(self.stream, CartConfirmed(cart_id=cart_id, wamid=wamid), ("cc", cart_id))
        steps: list[Any] = [
            OrderConfirmed(relay_id=relay, confirmed_at=at),
            MarketOrderCreated(relay_id=relay, market_order_id=f"MO-{self.n}"),
            OrderRelayedToDealer(relay_id=relay, outbound_id=str(_id("dr", relay)), relayed_at=at),
            OrderAccepted(relay_id=relay, accepted_at=at + timedelta(minutes=3)),
        ]
        for k, step in enumerate(steps):
            yield _new(order, step, ("order", relay, k))


def _message_body(phone: str, wamid: str, text: str, at: datetime) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390000000000", "phone_number_id": "SYN"},
        "contacts": [{"profile": {"name": "Cliente"}, "wa_id": phone[1:]}],
        "messages": [
            {
                "from": phone[1:],
                "id": wamid,
                "timestamp": str(int(at.timestamp())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    return _envelope(value)


def _status_body(phone: str, wamid: str, status: str, oid: str, at: datetime) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390000000000", "phone_number_id": "SYN"},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": str(int(at.timestamp())),
                "recipient_id": phone[1:],
                "biz_opaque_callback_data": oid,
            }
        ],
    }
    return _envelope(value)


def _envelope(value: dict[str, Any]) -> dict[str, Any]:
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [change]}]}


def events(
    total: int, *, seed: int = 7, shape: Shape | None = None
) -> Iterator[tuple[str, NewEvent]]:
    """About ``total`` (stream, event) pairs; ``shape.window`` conversations interleaved."""
    shape = shape or Shape()
    rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets
    made, n, second = 0, 0, 0
    active: list[_Conversation] = []
    while made < total:
        while len(active) < shape.window:
            active.append(_Conversation(n, rng, shape))
            n += 1
        convo = active[rng.randrange(len(active))]
        second += 1
        for item in convo.turn(rng, START + timedelta(seconds=second)):
            yield item
            made += 1
            if made >= total:
                return
        if convo.done >= convo.turns:
            active.remove(convo)


async def write_log(
    store: EventStore, total: int, *, seed: int = 7, shape: Shape | None = None
) -> int:
    """Append :func:`events` in bulk (``BULK`` events per transaction); the number written."""
    written = 0
    pending: list[AppendRequest] = []
    for stream, new in events(total, seed=seed, shape=shape):
        pending.append(AppendRequest(stream, Expect.ANY, [new]))
        if len(pending) >= BULK:
            written += await _commit(store, pending)
            pending = []
    written += await _commit(store, pending)
    return written


async def _commit(store: EventStore, requests: list[AppendRequest]) -> int:
    if not requests:
        return 0
    [outcome] = await store.commit_units([requests])
    if isinstance(outcome, BaseException):
        raise outcome
    return sum(len(r.appended) for r in outcome)
