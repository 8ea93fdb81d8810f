"""The customer's latest order, looked up for "dov'è il mio ordine?" (read-only).

The relays of a cart have ids derived from the cart (``did(cart_id, "relay", i)``), so
the latest confirmed cart in the customer's own stream names them; each relay stream is
folded with the pure core (stage, number, delivery terms). Called by the conversation
reactor only when the turn asks about an order.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.engine.relay_timers import relay_stream
from adapters.engine.relay_writes import did
from adapters.store.event_store import EventStore
from core.catalog import Catalog
from core.delivery import fold_terms
from core.market import fold_extras
from core.order_relay import RelayState, fold_relay
from core.order_status import OrderView
from events.base import RecordedEvent
from events.conversation import CartConfirmed, CartProposed


async def latest_orders(
    store: EventStore,
    catalog: Catalog,
    history: Sequence[RecordedEvent],
    *,
    before: int | None = None,
) -> tuple[OrderView, ...]:
    """One view per shop of the latest confirmed cart (empty when there is none).

    ``before``: only relay events recorded before that position (``what-if`` looks the
    orders up as they stood when the turn was decided).
    """
    cart_id = next(
        (e.payload.cart_id for e in reversed(history) if isinstance(e.payload, CartConfirmed)),
        None,
    )
    proposal = next(
        (
            e.payload
            for e in reversed(history)
            if isinstance(e.payload, CartProposed) and e.payload.cart_id == cart_id
        ),
        None,
    )
    if cart_id is None or proposal is None:
        return ()
    dealers = len(dict.fromkeys(line.dealer_id for line in proposal.lines))
    views = []
    for i in range(1, dealers + 1):
        rid = str(did(cart_id, "relay", i))
        stored = await store.read_stream(relay_stream(rid))
        events = [h.payload for h in stored if before is None or h.position < before]
        if not events:
            continue
        state = fold_relay(RelayState(relay_id=rid), events)
        terms = fold_terms(events)
        dealer = catalog.dealer(state.dealer_id)
        views.append(
            OrderView(
                number=fold_extras(events).number,
                shop=dealer.name if dealer is not None else state.dealer_id,
                stage=state.stage.value,
                total=terms.total if terms is not None else state.total,
                when_text=terms.when_text if terms is not None else None,
            )
        )
    return tuple(views)
