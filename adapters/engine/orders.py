"""The order-relay reactor: confirmed carts become market orders relayed to dealers.

Run by a :class:`OrderRelayDispatcher` (a :class:`StreamDispatcher` that also runs the
relay timers). It reacts to:

* ``CartProposed`` in a customer's stream: one relay per dealer (``order-<relay_id>``),
  drafted and awaiting confirmation (relay ids derive from the cart, so a retry or a
  replay makes the same ones);
* ``CartConfirmed`` / ``CartCancelled``: the relays follow; a confirmed relay is then
  driven step by step (:meth:`OrderRelayReactor.advance`): market order through the
  :class:`~core.ports.MarketOrders` port (parked and retried while the market is down),
  a short order number, the dealer's message with Accetta / Rifiuta buttons queued in
  the DEALER's conversation stream, and the customer's notice with the order number;
* ``RelayTimerFired``: confirmation expiry, dealer reminder, escalation to support,
  market retry, decided from the recorded ``fired_at``;
* ``MarketOrderStatusReceived`` (the market's signed callback): ``delivered`` records
  ``OrderDelivered`` and tells the customer on WhatsApp (a template outside the 24-hour
  window, nothing after an opt-out) and by push on the customer's own devices;
* dealer messages and WhatsApp catalog ``order`` messages, handed to
  :mod:`adapters.engine.dealer_commands`.

Each step reads the relay stream, decides with the pure core and appends one unit across
the streams it touches (all or nothing, the relay stream at its expected version), so a
crash or a concurrent writer at worst repeats a step that then finds nothing to do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.engine.catalog_orders import CatalogOrderDesk
from adapters.engine.checkout_relays import CheckoutRelays, customer_seal
from adapters.engine.market_statuses import market_status
from adapters.engine.relay_answers import answer_relay
from adapters.engine.relay_timers import RelayTimers, relay_stream
from adapters.engine.relay_writes import (
    conversation_stream,
    customer_notice,
    did,
    new,
    push,
    relay_request,
    timer_effects,
)
from adapters.market.live import CATALOG_STREAM, CONTACTS_STREAM, LiveMarket
from adapters.store.event_store import EventStore
from adapters.store.types import AppendRequest, Expect, StreamVersionConflictError
from core import market as mk
from core.dealer_commands import answer_buttons, relay_text
from core.delivery import template_params
from core.market import MarketOrderRequest, RelayExtras, fold_extras
from core.order_relay import (
    RelayStage,
    RelayState,
    RelayTimeouts,
    decide_timers,
    fold_relay,
    record_market_order,
    record_relayed,
    start_relays,
)
from core.phones import normalize_phone
from core.ports import MarketOrders, PermanentError, TransientError
from core.relay_decider import CartAnswered
from core.window import within_service_window
from events.base import ERASED, RecordedEvent
from events.checkout import CheckoutCompleted
from events.conversation import CartCancelled, CartConfirmed, CartProposed, ReplyKind, ReplyQueued
from events.market import (
    MarketOrderDeferred,
    MarketOrderStatusReceived,
    OrderNumberAssigned,
    RelayTimerFired,
)
from events.orders import OrderFailed
from events.whatsapp import MessageReceived

NUMBERS_STREAM = "order-numbers"
DEALER_TEMPLATE = "dloop_nuovo_ordine"  # approved template for dealers outside 24 h


class OrderRelayReactor:
    """Drives order relays (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        market: MarketOrders,
        live: LiveMarket,
        timers: RelayTimers,
        *,
        market_retry: timedelta = timedelta(seconds=30),
        market_attempts: int = 6,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.market, self.live, self.timers = store, market, live, timers
        self.market_retry, self.market_attempts = market_retry, market_attempts
        self.clock = clock
        self.desk: Any = None  # the dealer desk, set by adapters.engine.dealer_commands
        self.catalog_orders = CatalogOrderDesk(store, live.current)
        self.checkout = CheckoutRelays(self)

    @property
    def timeouts(self) -> RelayTimeouts:
        """The relay timeouts in force."""
        return self.timers.timeouts

    async def handle(self, stream: str, events: Sequence[RecordedEvent]) -> None:
        """Handle one stream's selected events in order."""
        await self.live.refresh()
        if stream in (CATALOG_STREAM, CONTACTS_STREAM):
            return
        for e in events:
            p = e.payload
            if isinstance(p, CartProposed):
                await self._proposed(stream, e, p)
            elif isinstance(p, CartConfirmed | CartCancelled):
                await self._cart_outcome(stream, e, p)
            elif isinstance(p, CheckoutCompleted):
                await self.checkout.completed(stream, e, p)
            elif isinstance(p, RelayTimerFired):
                await self._timer(p)
            elif isinstance(p, MarketOrderStatusReceived):
                await market_status(self, p)
            elif isinstance(p, MessageReceived) and p.kind == "order" and p.order is not None:
                await self.catalog_orders.handle(stream, e)
            elif isinstance(p, MessageReceived) and self.desk is not None:
                await self.desk.handle(stream, e)

    # -- cart ----------------------------------------------------------------------------

    async def _proposed(self, stream: str, e: RecordedEvent, p: CartProposed) -> None:
        key = stream.removeprefix("conversation-")
        ids = (str(did(p.cart_id, "relay", i)) for i in range(1, 100))
        for start in start_relays(p, key, self.live.catalog, e.recorded_at, ids):
            rid = start.relay_id
            batch = [new((rid, "start", i), ev) for i, ev in enumerate(start.events)]
            await self.store.append(relay_stream(rid), Expect.ANY, batch)
            self.timers.track(rid, list(start.events))

    async def _cart_outcome(
        self, stream: str, e: RecordedEvent, p: CartConfirmed | CartCancelled
    ) -> None:
        if isinstance(p, CartConfirmed) and await self.checkout.pending(stream, p.cart_id):
            return  # the relay waits for the checkout (ADR 0010)
        for rid in await self.relays_of(stream, p.cart_id):
            await answer_relay(self, rid, CartAnswered(outcome=p, at=e.recorded_at), e.event_id)
            if isinstance(p, CartConfirmed):
                await self.advance(rid, market=True)

    async def relays_of(self, stream: str, cart_id: str) -> list[str]:
        """The relay ids of one cart (one per dealer, in order of first appearance)."""
        history = await self.store.read_stream(stream)
        for e in reversed(history):
            if isinstance(e.payload, CartProposed) and e.payload.cart_id == cart_id:
                dealers = dict.fromkeys(line.dealer_id for line in e.payload.lines)
                return [str(did(cart_id, "relay", i)) for i in range(1, len(dealers) + 1)]
        return []

    async def load(self, rid: str) -> tuple[list[RecordedEvent], RelayState, RelayExtras]:
        """A relay's stream, folded state and extras."""
        history = await self.store.read_stream(relay_stream(rid))
        payloads = [h.payload for h in history]
        return history, fold_relay(RelayState(relay_id=rid), payloads), fold_extras(payloads)

    # -- driving -------------------------------------------------------------------------

    async def advance(self, rid: str, *, market: bool = False) -> None:
        """Take a relay through every step it can do now (market, number, dealer message)."""
        for _ in range(10):
            history, state, extras = await self.load(rid)
            self.timers.track(rid, [h.payload for h in history])
            try:
                if state.stage is RelayStage.CONFIRMED and (market or extras.deferrals == 0):
                    market = False
                    await self._market_step(state, extras, len(history))
                elif state.stage is RelayStage.MARKET_ORDER_CREATED and extras.number is None:
                    await self._number(rid, len(history))
                elif state.stage is RelayStage.MARKET_ORDER_CREATED:
                    await self._relay_step(state, extras, len(history))
                else:
                    return
            except StreamVersionConflictError:
                continue

    async def _market_step(self, state: RelayState, extras: RelayExtras, version: int) -> None:
        # The market delivers to a number, not to our pseudonym (ADR 0007).
        customer = await self.store.people.subject_of(state.customer_key)
        request = MarketOrderRequest(
            relay_id=state.relay_id,
            customer=customer if customer is not None else ERASED,
            dealer_id=state.dealer_id,
            lines=state.lines,
            total=state.total,
            delivery=await self.checkout.market_delivery(state),
        )
        try:
            market_id = await self.market.create(request)
        except TransientError as exc:
            await self._market_down(state, extras, version, str(exc))
            return
        except PermanentError as exc:
            await self._market_failed(state, version, str(exc))
            return
        decided = record_market_order(state, market_order_id=market_id)
        await self.commit([relay_request(state, version, "market", decided)])

    async def _market_down(
        self, state: RelayState, extras: RelayExtras, version: int, error: str
    ) -> None:
        attempt = extras.deferrals + 1
        if attempt >= self.market_attempts:
            await self._market_failed(state, version, error)
            return
        retry_at = self.clock() + mk.retry_delay(attempt, self.market_retry)
        deferred = MarketOrderDeferred(
            relay_id=state.relay_id, attempt=attempt, error=error[:300], retry_at=retry_at
        )
        units = [relay_request(state, version, f"deferred-{attempt}", [deferred])]
        units.append(customer_notice(state, "market-down", mk.MARKET_DOWN_TEXT))
        await self.commit(units)

    async def _market_failed(self, state: RelayState, version: int, error: str) -> None:
        failed = record_market_order(state, market_order_id=None, error=error[:300])
        alert = push(state, "support", "market_order_failed", "Ordine non registrato", error)
        await self.commit(
            [
                relay_request(state, version, "market-failed", [*failed, alert]),
                customer_notice(state, "market-failed", mk.MARKET_FAILED_TEXT),
            ]
        )

    async def _number(self, rid: str, version: int) -> None:
        numbers = await self.store.stream_version(NUMBERS_STREAM)
        assigned = OrderNumberAssigned(relay_id=rid, number=numbers + 1)
        await self.commit(
            [
                AppendRequest(NUMBERS_STREAM, numbers, [new((rid, "number"), assigned)]),
                AppendRequest(
                    relay_stream(rid), version, [new((rid, "number", "relay"), assigned)]
                ),
            ]
        )

    async def _relay_step(self, state: RelayState, extras: RelayExtras, version: int) -> None:
        phone = normalize_phone(state.dealer_phone) if state.dealer_phone else None
        if phone is None:
            failed = OrderFailed(relay_id=state.relay_id, step="relay", error="dealer has no phone")
            alert = push(
                state, "support", "relay_failed", "Negozio senza telefono", state.dealer_id
            )
            await self.commit(
                [
                    relay_request(state, version, "relay-failed", [failed, alert]),
                    customer_notice(state, "relay-failed", mk.MARKET_FAILED_TEXT),
                ]
            )
            return
        dealer_stream = conversation_stream(phone)
        outbound_id = str(did(state.relay_id, "dealer-message"))
        message = await self._dealer_message(
            dealer_stream, phone, state, extras.number, outbound_id
        )
        relayed = record_relayed(state, outbound_id, self.clock())
        dealer = self.live.catalog.dealer(state.dealer_id)
        name = dealer.name if dealer is not None else state.dealer_id
        total = await self.checkout.total_with_fee(state)
        await self.commit(
            [
                relay_request(state, version, "relayed", relayed),
                AppendRequest(
                    dealer_stream,
                    Expect.ANY,
                    [new((outbound_id,), message)],
                    sealed_with=customer_seal(state),  # it carries their address (ADR 0017)
                ),
                customer_notice(state, "relayed", mk.relayed_text(extras.number, name, total)),
            ]
        )

    async def _dealer_message(
        self, stream: str, phone: str, state: RelayState, number: int | None, outbound_id: str
    ) -> ReplyQueued:
        history = await self.store.read_stream(await self.store.people.stream_of(stream))
        times = [e.payload.sent_at for e in history if isinstance(e.payload, MessageReceived)]
        total = await self.checkout.total_with_fee(state)
        if not within_service_window(max(times, default=None), self.clock()):
            return ReplyQueued(
                outbound_id=outbound_id,
                to=phone,
                kind=ReplyKind.TEMPLATE,
                text=DEALER_TEMPLATE,
                template_params=template_params(number, state.lines, total),
            )
        text = relay_text(number, state.lines, state.total)
        extra = await self.checkout.dealer_block(state)
        return ReplyQueued(
            outbound_id=outbound_id,
            to=phone,
            kind=ReplyKind.BUTTONS,
            text=f"{text}\n{extra}" if extra else text,
            buttons=answer_buttons(state.relay_id),
        )

    # -- market statuses -----------------------------------------------------------------

    # -- timers --------------------------------------------------------------------------

    async def _timer(self, fired: RelayTimerFired) -> None:
        rid = fired.relay_id
        if fired.timer == "market_retry":
            await self.advance(rid, market=True)
            return
        history, state, extras = await self.load(rid)
        ids = (str(did(rid, fired.timer, fired.fired_at.isoformat(), i)) for i in range(1, 9))
        decided = decide_timers(state, fired.fired_at, ids, self.timeouts)
        relay_events: list[object] = list(decided)
        units: list[AppendRequest] = []
        for ev in decided:
            extra, requests = timer_effects(state, extras, ev)
            relay_events += extra
            units += requests
        step = f"timer-{fired.fired_at.isoformat()}"
        await self.commit([relay_request(state, len(history), step, relay_events), *units])
        history, _, _ = await self.load(rid)
        self.timers.track(rid, [h.payload for h in history])

    async def commit(self, unit: list[AppendRequest]) -> None:
        """Append ``unit`` all or nothing (empty requests dropped); raises its conflict."""
        unit = [u for u in unit if u.events]
        if not unit:
            return
        people = self.store.people  # a dealer's stream is derived from their phone
        unit = [dataclasses.replace(u, stream=await people.stream_of(u.stream)) for u in unit]
        [outcome] = await self.store.commit_units([unit])
        if isinstance(outcome, BaseException):
            raise outcome
