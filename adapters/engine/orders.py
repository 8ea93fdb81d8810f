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
from adapters.engine.checkout_relays import CheckoutRelays
from adapters.engine.conflicts import until_settled
from adapters.engine.market_statuses import market_status
from adapters.engine.relay_answers import answer_relay
from adapters.engine.relay_drive import RelayDrive
from adapters.engine.relay_timers import RelayTimers, relay_stream
from adapters.engine.relay_writes import (
    did,
    new,
    relay_request,
    timer_effects,
)
from adapters.market.live import CATALOG_STREAM, CONTACTS_STREAM, LiveMarket
from adapters.store.event_store import EventStore
from adapters.store.types import AppendRequest, Expect
from core.market import RelayExtras, fold_extras
from core.order_relay import (
    RelayState,
    RelayTimeouts,
    decide_timers,
    fold_relay,
    start_relays,
)
from core.ports import MarketOrders
from core.relay_decider import CartAnswered
from events.base import RecordedEvent
from events.checkout import CheckoutCompleted
from events.conversation import CartCancelled, CartConfirmed, CartProposed
from events.market import (
    MarketOrderStatusReceived,
    RelayTimerFired,
)
from events.whatsapp import MessageReceived


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
        self.drive = RelayDrive(self)

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
        await self.drive.advance(rid, market=market)

    # -- market statuses -----------------------------------------------------------------

    # -- timers --------------------------------------------------------------------------

    async def _timer(self, fired: RelayTimerFired) -> None:
        rid = fired.relay_id
        if fired.timer == "market_retry":
            await self.advance(rid, market=True)
            return

        async def attempt() -> None:
            # Loaded and decided again on a conflict: another writer (the dealer, the
            # customer, a second worker firing the same timer) may have moved the relay.
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

        await until_settled(attempt, f"relay {rid} timer {fired.timer}")
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
