"""The customer's answer on a cart, carried to its relays on the one runner.

``CartConfirmed`` / ``CartCancelled`` and ``CheckoutCompleted`` are decided per relay by
the pure :data:`~core.relay_decider.RELAY_ANSWERS`; this shell loads the relay stream,
names the events after the relay and the fact that caused them (a replay writes the same
ids) and appends at the loaded version. A conflict re-decides under the one policy of
:mod:`adapters.engine.conflicts`; exhausted, the error reaches the dispatcher, which parks
the fact on the review queue (the old five tries gave up silently).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Never
from uuid import UUID

from adapters.engine.relay_timers import relay_stream
from adapters.engine.relay_writes import new
from adapters.engine.runner import Process, run
from core.order_relay import RelayState
from core.relay_decider import RELAY_ANSWERS, RelayEvent, RelayInput

if TYPE_CHECKING:
    from adapters.engine.orders import OrderRelayReactor


async def answer_relay(
    reactor: OrderRelayReactor, rid: str, given: RelayInput, fact_id: UUID
) -> None:
    """Decide ``given`` on relay ``rid`` and append what it decided (nothing for a relay
    that does not exist, a foreign cart or a stage that no longer allows it)."""

    async def load(_stream: str) -> tuple[RelayState, int]:
        history, state, _extras = await reactor.load(rid)
        return state, len(history)

    async def append(stream: str, version: int, events: tuple[RelayEvent, ...]) -> None:
        batch = [new((rid, fact_id, i), event) for i, event in enumerate(events)]
        await reactor.store.append(stream, version, batch)

    process: Process[RelayState, RelayInput, RelayEvent, Never] = Process(
        name="order-relay", decider=RELAY_ANSWERS, load=load, append=append
    )
    await run(process, relay_stream(rid), given)
