"""The order relay's side of the checkout (ADR 0010): relays wait for it, then carry it.

A ``CartConfirmed`` whose checkout started in the same turn no longer confirms its
relays; ``CheckoutCompleted`` does, recording ``DeliveryScheduled`` beside
``OrderConfirmed`` (the first relay carries the one delivery fee), decided on the runner
by :mod:`adapters.engine.relay_answers`. The address is read from the customer's own
stream, where it is sealed with their key, whenever the market order or the dealer's
message needs it. The market's ``picked_up`` is :mod:`adapters.engine.market_statuses`'.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.engine.relay_answers import answer_relay
from adapters.engine.relay_timers import relay_stream
from core import delivery
from core.market import MarketDelivery
from core.order_relay import RelayState
from core.phones import is_person_id
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

    async def terms(self, state: RelayState) -> delivery.DeliveryTerms | None:
        """The relay's delivery terms (None for a relay from before checkout existed)."""
        history = await self.r.store.read_stream(relay_stream(state.relay_id))
        return delivery.fold_terms(h.payload for h in history)

    async def address(self, state: RelayState) -> str | None:
        """The delivery address, from the customer's completed checkout of this cart."""
        stream = f"conversation-{state.customer_key}"
        for h in reversed(await self.r.store.read_stream(stream)):
            p = h.payload
            if isinstance(p, CheckoutCompleted) and p.cart_id == state.cart_id:
                return p.address
        return None

    async def market_delivery(self, state: RelayState) -> MarketDelivery | None:
        """What the market order carries about the delivery."""
        terms = await self.terms(state)
        if terms is None:
            return None
        return MarketDelivery(
            address=await self.address(state) or "",
            when_text=terms.when_text,
            deliver_at=terms.deliver_at,
            payment=terms.payment,
            fee=terms.fee,
        )

    async def total_with_fee(self, state: RelayState) -> Decimal:
        """The relay's total with its share of the delivery fee."""
        terms = await self.terms(state)
        return terms.total if terms is not None else state.total

    async def dealer_block(self, state: RelayState) -> str | None:
        """The delivery lines of the dealer's message (None without a checkout)."""
        terms = await self.terms(state)
        if terms is None:
            return None
        return delivery.dealer_delivery_text(await self.address(state), terms)


def customer_seal(state: RelayState) -> tuple[str, ...]:
    """Whose key must also seal the dealer's message: the customer's, whose address it holds.

    Erasing the customer then hides that message as it hides their own stream (ADR 0017).
    A customer key that is no person id (a log from before pseudonyms) adds nobody.
    """
    return (state.customer_key,) if is_person_id(state.customer_key) else ()
