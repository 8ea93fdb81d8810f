"""The order relay's side of the checkout (ADR 0010): relays wait for it, then carry it.

A ``CartConfirmed`` whose checkout started in the same turn no longer confirms its
relays; ``CheckoutCompleted`` does, recording ``DeliveryScheduled`` beside
``OrderConfirmed`` (the first relay carries the one delivery fee), decided on the runner
by :mod:`adapters.engine.relay_answers`. The address is read from the customer's own
stream, where it is sealed with their key, whenever the market order or the dealer's
message needs it. The market's ``picked_up`` is :mod:`adapters.engine.market_statuses`'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.engine.relay_answers import answer_relay
from core import delivery
from core.relay_decider import CheckoutDone
from events.base import RecordedEvent
from events.checkout import CheckoutCompleted, CheckoutStarted

if TYPE_CHECKING:
    from adapters.engine.orders import OrderRelayReactor


class CheckoutRelays:
    """Checkout steps of :class:`~adapters.engine.orders.OrderRelayReactor`."""

    def __init__(self, reactor: OrderRelayReactor) -> None:
        self.r = reactor

    async def pending(self, stream: str, cart_id: str) -> bool:
        """True when ``cart_id`` entered a checkout (its relays wait for the completion)."""
        history = await self.r.store.read_stream(stream)
        return any(
            isinstance(e.payload, CheckoutStarted) and e.payload.cart_id == cart_id for e in history
        )

    async def completed(self, stream: str, e: RecordedEvent, p: CheckoutCompleted) -> None:
        """Confirm every relay of the cart with its delivery terms, then drive them."""
        rids = await self.r.relays_of(stream, p.cart_id)
        shares = delivery.fee_shares(len(rids), p.fee)
        for rid, fee in zip(rids, shares, strict=True):
            done = CheckoutDone(completed=p, fee=fee, at=e.recorded_at)
            await answer_relay(self.r, rid, done, e.event_id)
            await self.r.advance(rid, market=True)

    async def address(self, customer_key: str, cart_id: str) -> str | None:
        """The delivery address, from the customer's completed checkout of ``cart_id``."""
        stream = f"conversation-{customer_key}"
        for h in reversed(await self.r.store.read_stream(stream)):
            p = h.payload
            if isinstance(p, CheckoutCompleted) and p.cart_id == cart_id:
                return p.address
        return None
