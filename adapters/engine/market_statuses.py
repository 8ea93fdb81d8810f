"""The market's ``picked_up`` and ``delivered`` on a relay, on the one runner.

Decided by the pure :data:`~core.relay_status.RELAY_STATUS`. This shell reads what the
decision needs from other streams (the customer's conversation: opted out, last message;
the dealer's name from the catalogue), names the events after the relay and the step (a
repeated callback writes the same ids) and appends the relay's events at the loaded
version with the customer's message, as one unit. A conflict re-decides under the one
policy; exhausted, the dispatcher parks the callback (the old five tries gave up silently).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Never

from adapters.engine.relay_timers import relay_stream
from adapters.engine.relay_writes import conversation_stream, did, new
from adapters.engine.runner import Process, run
from adapters.store.types import AppendRequest, Expect
from core.conversation import ConversationState, fold
from core.relay_status import RELAY_STATUS, MarketReported, RelayView, StatusEvent
from events.conversation import ReplyQueued
from events.market import MarketOrderStatusReceived

if TYPE_CHECKING:
    from adapters.engine.orders import OrderRelayReactor


async def market_status(reactor: OrderRelayReactor, fact: MarketOrderStatusReceived) -> None:
    """Record a pick-up or a delivery on its relay and tell the customer, once."""
    rid = fact.relay_id
    step = "picked-up" if fact.status == "picked_up" else "delivered"

    async def load(_stream: str) -> tuple[RelayView, int]:
        history, state, extras = await reactor.load(rid)
        return RelayView(state, extras), len(history)

    def ids(_stream: str, _view: RelayView, _given: MarketReported) -> Iterator[str]:
        yield str(did(rid, "push", "delivered"))
        yield str(did(rid, step, "customer"))

    async def append(stream: str, version: int, events: tuple[StatusEvent, ...]) -> None:
        own = [e for e in events if not isinstance(e, ReplyQueued)]
        unit = [AppendRequest(stream, version, [new((rid, step, i), e) for i, e in enumerate(own)])]
        told = [e for e in events if isinstance(e, ReplyQueued)]
        if told:
            unit.append(
                AppendRequest(customer_stream, Expect.ANY, [new((e.outbound_id,), e) for e in told])
            )
        await reactor.commit(unit)

    history, state, _extras = await reactor.load(rid)
    if not history:
        return
    customer_stream = conversation_stream(state.customer_key)
    customer = fold(
        ConversationState(key=state.customer_key),
        [e.payload for e in await reactor.store.read_stream(customer_stream)],
    )
    dealer = reactor.live.catalog.dealer(state.dealer_id)
    given = MarketReported(
        status=fact.status,
        at=fact.occurred_at,
        dealer_name=dealer.name if dealer is not None else state.dealer_id,
        opted_out=customer.opted_out,
        last_customer_message_at=customer.last_customer_message_at,
    )
    process: Process[RelayView, MarketReported, StatusEvent, Never] = Process(
        name="market-status",
        decider=RELAY_STATUS,
        load=load,
        append=append,
        ids=ids,
        clock=reactor.clock,
    )
    await run(process, relay_stream(rid), given)
