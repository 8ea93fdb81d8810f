"""The dealer desk: a dealer's WhatsApp messages read as commands and answered.

Each message runs on the one runner (:mod:`adapters.engine.runner`) with the pure
:data:`~core.dealer_desk.DEALER_DESK` decider: it skips answered messages (kept state of
the dealer's stream), answers the commands that need no lookup, and asks this module to
carry out the others. Commands are parsed by the pure :mod:`core.dealer_commands`; this
module looks orders up
(``order-numbers`` stream and ``whatsapp_order_relays``), checks that the order or the
product belongs to the writing dealer (others' orders read as "not found"), moves relays
through :class:`~adapters.engine.orders.OrderRelayReactor` and records stock changes and
product aliases in the ``catalog`` stream. The reply, the ``DealerCommandHandled`` marker
and any relay change are appended as one unit, so a dealer message is handled exactly once;
when conflicts exhaust the one policy the dispatcher parks the message (never dropped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import assert_never

from sqlalchemy import select

from adapters.engine.conflicts import DEFAULT_POLICY, ConflictPolicy
from adapters.engine.orders import OrderRelayReactor
from adapters.engine.relay_timers import relay_stream
from adapters.engine.relay_writes import NUMBERS_STREAM, customer_notice, new, push
from adapters.engine.runner import Process, run
from adapters.engine.stream_cache import Folding, StreamCache
from adapters.market.live import CATALOG_STREAM
from adapters.readmodel.tables import whatsapp_order_relays
from adapters.store.types import AppendRequest, Expect
from core import dealer_commands as dc
from core import delivery
from core import market as mk
from core.dealer_desk import (
    DEALER_DESK,
    Carried,
    CarryOut,
    DealerMessage,
    DeskEvent,
    DeskView,
    evolve_desk,
)
from core.order_relay import RelayStage, decide_dealer_answer, decide_ready
from events.base import NewEvent, RecordedEvent
from events.conversation import ReplyQueued
from events.market import (
    DealerCommandHandled,
    OrderNumberAssigned,
    ProductAliasAdded,
    StockChanged,
)
from events.orders import OrderAccepted

DESK_NAMESPACE = uuid.UUID("9b3e6f10-7c2d-4a85-b1e4-5f0a8d2c6e97")
LISTED = ("confirmed", "market_order_created", "relayed_to_dealer", "accepted", "ready")
CLOSED = ("rejected", "failed", "cancelled", "expired", "delivered")
MAX_LISTED = 10
READY_WHICH = "Hai più ordini accettati: scrivi «pronto <numero>». Scrivi «ordini» per vederli."


@dataclass(slots=True)
class Outcome:
    """What one command does: the reply, relay changes and what the marker records."""

    text: str
    requests: list[AppendRequest] = field(default_factory=list)
    relay_id: str | None = None
    ok: bool = True
    refresh: bool = False


def _reply_id(_stream: str, _view: DeskView, msg: DealerMessage) -> Iterator[str]:
    """The answer's outbound id, derived from the message: the same on every re-decision."""
    yield str(uuid.uuid5(DESK_NAMESPACE, f"{msg.fact_id}:reply"))


class DealerDesk:
    """Answers dealer commands (see the module docstring)."""

    def __init__(
        self, relays: OrderRelayReactor, *, policy: ConflictPolicy = DEFAULT_POLICY
    ) -> None:
        self.relays = relays
        self.store = relays.store
        self.live = relays.live
        relays.desk = self
        folding: Folding[DeskView] = Folding(
            DEALER_DESK.initial, lambda view, e: evolve_desk(view, e.payload)
        )
        self.views = StreamCache(self.store, folding, capacity=1_000)
        self.process: Process[DeskView, DealerMessage, DeskEvent, CarryOut] = Process(
            name="dealer-desk",
            decider=DEALER_DESK,
            load=self.views.load,
            append=self._append,
            perform=self._carry_out,
            ids=_reply_id,
            policy=policy,
        )

    async def handle(self, stream: str, fact: RecordedEvent) -> None:
        """Handle one dealer message, once, on the runner.

        A conflict (a relay or the stream changed meanwhile) re-decides it under the one
        conflict policy; when that is exhausted ``ConflictsExhaustedError`` reaches the
        dispatcher, which retries and then parks the message: it is never dropped.
        """
        phone = self.store.people.known_subject(stream.removeprefix("conversation-"))
        msg = DealerMessage(
            fact_id=str(fact.event_id),
            message=fact.payload,
            phone=phone,
            dealer_id=self.live.dealer_id(phone),
        )
        ran = await run(self.process, stream, msg)
        for carried in (e for e in ran.events if isinstance(e, Carried)):
            if carried.refresh:
                await self.live.refresh()
            if carried.relay_id is not None:
                history, _, _ = await self.relays.load(carried.relay_id)
                self.relays.timers.track(carried.relay_id, [h.payload for h in history])

    async def _carry_out(self, _stream: str, request: CarryOut) -> list[DeskEvent]:
        out = await self._run(
            request.command, request.dealer_id, request.phone, request.at, request.fact_id
        )
        carried = Carried(
            text=out.text,
            ok=out.ok,
            relay_id=out.relay_id,
            refresh=out.refresh,
            writes=tuple(out.requests),
        )
        return [carried]

    async def _append(self, stream: str, version: int, events: tuple[DeskEvent, ...]) -> None:
        """The carried writes and the reply with its marker, as one unit.

        The dealer's own stream takes ``Expect.ANY``: the reply and the marker have ids
        derived from the message, so a second answer is a no-op, and the relay writes carry
        their own expected versions (a conflict there re-decides the whole message).
        """
        fid = next(e.fact_id for e in events if isinstance(e, DealerCommandHandled))
        writes: list[AppendRequest] = []
        own: list[NewEvent] = []
        for event in events:
            match event:
                case Carried():
                    writes.extend(event.writes)
                case ReplyQueued():
                    own.append(new((fid, "reply"), event))
                case DealerCommandHandled():
                    own.append(new((fid, "done"), event))
                case _:
                    assert_never(event)
        await self.relays.commit([*writes, AppendRequest(stream, Expect.ANY, own)])

    async def _run(
        self, cmd: dc.DealerCommand, dealer_id: str, phone: str, at: datetime, fid: str
    ) -> Outcome:
        if cmd.verb == "ordini":
            return Outcome(text=dc.orders_text(await self._open_orders(dealer_id)))
        if cmd.verb == "stato":
            return await self._status(cmd, dealer_id)
        if cmd.verb in ("accetta", "rifiuta"):
            return await self._answer(cmd, dealer_id, at)
        if cmd.verb == "pronto":
            return await self._ready(cmd, dealer_id, at)
        if cmd.verb in ("disponibile", "esaurito"):
            return self._stock(cmd, dealer_id, phone, fid)
        if cmd.verb == "alias":
            return self._alias(cmd, dealer_id, phone, fid)
        return Outcome(text=dc.UNKNOWN_TEXT, ok=False)

    async def _status(self, cmd: dc.DealerCommand, dealer_id: str) -> Outcome:
        rid = await self._relay_by_number(cmd.number)
        if rid is None:
            return Outcome(text=dc.not_found_text(cmd.number), ok=False)
        _, state, _ = await self.relays.load(rid)
        if state.dealer_id != dealer_id or cmd.number is None:
            return Outcome(text=dc.not_found_text(cmd.number), ok=False)
        return Outcome(text=dc.status_text(cmd.number, state.stage), relay_id=rid)

    async def _answer(self, cmd: dc.DealerCommand, dealer_id: str, at: datetime) -> Outcome:
        rid = cmd.relay_id or await self._relay_by_number(cmd.number)
        if rid is None and cmd.number is None:
            waiting = await self._waiting(dealer_id)
            if len(waiting) != 1:
                return Outcome(text=dc.WHICH_ORDER if waiting else dc.NO_OPEN_ORDERS, ok=False)
            rid = waiting[0]
        if rid is None:
            return Outcome(text=dc.not_found_text(cmd.number), ok=False)
        history, state, extras = await self.relays.load(rid)
        if not history or state.dealer_id != dealer_id:
            return Outcome(text=dc.not_found_text(cmd.number), ok=False)
        accept = cmd.verb == "accetta"
        decided = decide_dealer_answer(state, accept=accept, reason=cmd.reason, now=at)
        if not decided:
            return Outcome(
                text=dc.too_late_text(extras.number, state.stage), relay_id=rid, ok=False
            )
        dealer = self.live.catalog.dealer(dealer_id)
        name = dealer.name if dealer is not None else dealer_id
        events = list(decided)
        if isinstance(decided[0], OrderAccepted):
            body = f"Ordine n. {extras.number} da ritirare presso {name}"
            events.append(push(state, "rider", "new_order", "Nuovo ordine", body))
            notice = mk.accepted_text(extras.number, name)
        else:
            notice = mk.rejected_text(extras.number, name, cmd.reason)
        batch = [new((rid, "answer", i), ev) for i, ev in enumerate(events)]
        return Outcome(
            text=dc.answered_text(extras.number, accept),
            requests=[
                AppendRequest(relay_stream(rid), len(history), batch),
                customer_notice(state, "answer", notice),
            ],
            relay_id=rid,
        )

    async def _ready(self, cmd: dc.DealerCommand, dealer_id: str, at: datetime) -> Outcome:
        """``pronto N``: an accepted order is ready; the customer and the riders are told."""
        rid = await self._relay_by_number(cmd.number)
        if rid is None and cmd.number is None:
            accepted = await self._in_stage(dealer_id, RelayStage.ACCEPTED)
            if len(accepted) != 1:
                return Outcome(text=READY_WHICH if accepted else dc.NO_OPEN_ORDERS, ok=False)
            rid = accepted[0]
        history, state, extras = await self.relays.load(rid) if rid else ([], None, None)
        if not history or state is None or extras is None or state.dealer_id != dealer_id:
            return Outcome(text=dc.not_found_text(cmd.number), ok=False)
        decided = decide_ready(state, at)
        if not decided:
            words = dc.STAGE_NAMES[state.stage]
            return Outcome(
                text=delivery.not_ready_text(extras.number, words), relay_id=rid, ok=False
            )
        dealer = self.live.catalog.dealer(dealer_id)
        name = dealer.name if dealer is not None else dealer_id
        body = f"Ordine n. {extras.number} pronto da ritirare presso {name}"
        events = [*decided, push(state, "rider", "order_ready", "Ordine pronto", body)]
        batch = [new((state.relay_id, "ready", i), ev) for i, ev in enumerate(events)]
        notice = delivery.ready_text(extras.number, name)
        return Outcome(
            text=delivery.ready_ack_text(extras.number),
            requests=[
                AppendRequest(relay_stream(state.relay_id), len(history), batch),
                customer_notice(state, "ready", notice),
            ],
            relay_id=state.relay_id,
        )

    def _stock(self, cmd: dc.DealerCommand, dealer_id: str, phone: str, fid: str) -> Outcome:
        own = [p for p in self.live.catalog.products if p.dealer_id == dealer_id]
        found = dc.match_product(cmd.product or "", own)
        if not found:
            return Outcome(text=dc.product_unknown_text(cmd.product or ""), ok=False)
        if len(found) > 1:
            return Outcome(text=dc.product_ambiguous_text(found), ok=False)
        product = found[0]
        stock = cmd.quantity if cmd.verb == "disponibile" and cmd.quantity is not None else 0
        changed = StockChanged(product_id=product.id, dealer_id=dealer_id, stock=stock, by=phone)
        key = (fid, "stock")
        return Outcome(
            text=dc.stock_text(product, stock),
            requests=[AppendRequest(CATALOG_STREAM, Expect.ANY, [new(key, changed)])],
            refresh=True,
        )

    def _alias(self, cmd: dc.DealerCommand, dealer_id: str, phone: str, fid: str) -> Outcome:
        own = [p for p in self.live.catalog.products if p.dealer_id == dealer_id]
        found = dc.match_product(cmd.product or "", own)
        if not found:
            return Outcome(text=dc.product_unknown_text(cmd.product or ""), ok=False)
        if len(found) > 1:
            return Outcome(text=dc.product_ambiguous_text(found), ok=False)
        product, alias = found[0], cmd.alias or ""
        if alias.casefold() in (a.casefold() for a in product.aliases):
            return Outcome(text=dc.alias_text(product, alias, known=True))
        added = ProductAliasAdded(product_id=product.id, dealer_id=dealer_id, alias=alias, by=phone)
        return Outcome(
            text=dc.alias_text(product, alias, known=False),
            requests=[AppendRequest(CATALOG_STREAM, Expect.ANY, [new((fid, "alias"), added)])],
            refresh=True,
        )

    async def _relay_by_number(self, number: int | None) -> str | None:
        if number is None:
            return None
        found = await self.store.read_stream(NUMBERS_STREAM, after_version=number - 1)
        first = found[0].payload if found else None
        if isinstance(first, OrderNumberAssigned) and first.number == number:
            return first.relay_id
        return None

    async def _candidates(self, dealer_id: str) -> list[str]:
        """The dealer's relays the read model does not show as closed (an index only)."""
        t = whatsapp_order_relays
        stmt = (
            select(t.c.id)
            .where(t.c.dealer_id == dealer_id, t.c.stage.not_in(CLOSED))
            .order_by(t.c.created_at)
        )
        async with self.store.engines.reader.connect() as conn:
            return [str(r) for r in (await conn.execute(stmt)).scalars()]

    async def _open_orders(
        self, dealer_id: str
    ) -> list[tuple[int | None, RelayStage, Decimal, str]]:
        """Open orders, their stage read from the relay streams (the read model may lag)."""
        rows = []
        for rid in await self._candidates(dealer_id):
            _, state, extras = await self.relays.load(rid)
            if state.dealer_id == dealer_id and state.stage.value in LISTED:
                first = state.lines[0].name + (" e altro" if len(state.lines) > 1 else "")
                rows.append((extras.number, state.stage, state.total, first))
        return rows[-MAX_LISTED:]

    async def _waiting(self, dealer_id: str) -> list[str]:
        """Relays waiting for this dealer's answer, from their streams."""
        return await self._in_stage(dealer_id, RelayStage.RELAYED_TO_DEALER)

    async def _in_stage(self, dealer_id: str, stage: RelayStage) -> list[str]:
        """This dealer's relays in ``stage``, read from their streams."""
        found = []
        for rid in await self._candidates(dealer_id):
            _, state, _ = await self.relays.load(rid)
            if state.dealer_id == dealer_id and state.stage is stage:
                found.append(rid)
        return found
