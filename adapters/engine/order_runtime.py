"""Wiring of the order relay at run time: the selector, the dispatcher with its timers,
and the notify sender, built from plain settings and the ports the composition root
(:mod:`adapters.bootstrap`) picked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from adapters.engine.dealer_commands import DealerDesk
from adapters.engine.dispatch import StreamDispatcher
from adapters.engine.lease import Leases, leases_for
from adapters.engine.orders import OrderRelayReactor
from adapters.engine.relay_timers import RelayTimers
from adapters.market.live import CATALOG_STREAM, CONTACTS_STREAM, LiveMarket
from adapters.notify.devices import DeviceRegistry
from adapters.notify.sender import NotifySender, is_push_requested
from adapters.settings import Settings
from adapters.store.event_store import EventStore
from core.business_facts import ShopFacts
from core.order_relay import RelayTimeouts
from core.ports import MarketOrders, PushClient
from events.base import RecordedEvent
from events.checkout import CheckoutCompleted
from events.conversation import CartCancelled, CartConfirmed, CartProposed
from events.market import MarketOrderStatusReceived, RelayTimerFired
from events.whatsapp import MessageReceived

log = structlog.get_logger(__name__)


def order_selector(live: LiveMarket) -> Callable[[RecordedEvent], bool]:
    """Which events the order reactor handles (dealers are looked up live)."""

    def select(event: RecordedEvent) -> bool:
        stream, p = event.stream, event.payload
        if stream in (CATALOG_STREAM, CONTACTS_STREAM):
            return True
        if stream.startswith("order-"):
            return isinstance(p, RelayTimerFired | MarketOrderStatusReceived)
        if not stream.startswith("conversation-"):
            return False
        if isinstance(p, CartProposed | CartConfirmed | CartCancelled | CheckoutCompleted):
            return True
        if isinstance(p, MessageReceived):
            return p.kind == "order" or live.is_dealer(stream.removeprefix("conversation-"))
        return False

    return select


class OrderRelayDispatcher(StreamDispatcher):
    """The order reactor's dispatcher; it also runs the relay timers while started."""

    def __init__(self, reactor: OrderRelayReactor, *, leases: Leases | None = None) -> None:
        select = order_selector(reactor.live)
        super().__init__(reactor.store, "orders", select, reactor.handle, leases=leases)
        self.reactor = reactor
        self._timers_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start reading the log and the timer loop."""
        super().start()
        self._timers_task = asyncio.create_task(self._timers(), name="relay-timers")

    async def _timers(self) -> None:
        await self.reactor.live.refresh()
        try:
            await self.reactor.timers.load_open()
        except Exception as exc:  # the read table may not exist in odd test setups
            log.warning("timers.load_failed", error=str(exc)[:200])
        await self.reactor.timers.run()

    async def stop(self) -> None:
        """Stop the timers, then the dispatcher."""
        if self._timers_task is not None:
            self._timers_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timers_task
            self._timers_task = None
        await super().stop()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPorts:
    """The outside systems the order relay and the notify sender reach, built by bootstrap."""

    market: MarketOrders
    devices: DeviceRegistry
    push: PushClient | None  # None: notifications are recorded only (no FCM credentials)


def order_dispatchers(
    settings: Settings,
    store: EventStore,
    live: LiveMarket,
    ports: OrderPorts,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[StreamDispatcher]:
    """The order reactor (with timers and the dealer desk) and the notify sender.

    ``clock`` is the reactor's (timers keep the real one: their deadlines come from
    recording times).
    """
    reminder = timedelta(minutes=settings.dealer_reminder_minutes)
    timeouts = RelayTimeouts(
        confirmation=timedelta(minutes=settings.order_confirmation_minutes),
        dealer_reminder=reminder,
        dealer_escalation=reminder,
    )
    shortest = min(
        timeouts.confirmation, reminder, timedelta(seconds=settings.market_retry_seconds)
    )
    timers = RelayTimers(store, timeouts, tick=max(0.02, min(1.0, shortest.total_seconds() / 10)))
    reactor = OrderRelayReactor(
        store,
        ports.market,
        live,
        timers,
        market_retry=timedelta(seconds=settings.market_retry_seconds),
        clock=clock,
    )
    DealerDesk(reactor)
    sender = NotifySender(store, ports.devices, ports.push)
    notify = StreamDispatcher(
        store,
        "notify",
        is_push_requested,
        sender.handle,
        leases=leases_for(store.engines, "notify"),
    )
    return [OrderRelayDispatcher(reactor, leases=leases_for(store.engines, "orders")), notify]


def shop_facts(settings: Settings) -> ShopFacts:
    """The business facts the checkout applies and the offline assistant tells."""
    return ShopFacts.of(settings.opening_hours, settings.delivery_zones, settings.delivery_fee)


def business_facts(settings: Settings) -> dict[str, str]:
    """Opening hours, delivery zones and fee from configuration, for chat replies."""
    return {
        "orari di apertura": settings.opening_hours,
        "zone di consegna": settings.delivery_zones,
        "costo di consegna": settings.delivery_fee,
    }
