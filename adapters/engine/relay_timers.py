"""Relay timers: a small in-process scheduler that turns due deadlines into facts.

The order reactor tells the scheduler each relay's next deadline (pure
``core.market.next_deadline``). When one comes due the scheduler appends
``RelayTimerFired`` to the relay's stream, with an event id derived from the relay, the
timer and the deadline (so two processes, or a restart, fire it once); the reactor then
decides from the recorded ``fired_at``. Replay therefore never depends on the clock.
On start, open relays are found in ``whatsapp_order_relays`` and their streams folded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import select

from adapters.readmodel.tables import whatsapp_order_relays
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.market import fold_extras, next_deadline
from core.order_relay import RelayStage, RelayState, RelayTimeouts, fold_relay
from events.base import Metadata, NewEvent
from events.market import RelayTimerFired

log = structlog.get_logger(__name__)
TIMER_NAMESPACE = uuid.UUID("c2d9a6e4-1f7b-4e38-8b05-3a6d9e2f7c41")
OPEN_STAGES = tuple(
    s.value
    for s in (
        RelayStage.DRAFT,
        RelayStage.AWAITING_CONFIRMATION,
        RelayStage.CONFIRMED,
        RelayStage.MARKET_ORDER_CREATED,
        RelayStage.RELAYED_TO_DEALER,
    )
)


def relay_stream(relay_id: str) -> str:
    """``order-<relay_id>``."""
    return f"order-{relay_id}"


class RelayTimers:
    """Deadlines by relay, fired as ``RelayTimerFired`` facts (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        timeouts: RelayTimeouts,
        *,
        tick: float = 0.2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.timeouts, self.tick = store, timeouts, tick
        self._clock = clock
        self._due: dict[str, tuple[str, datetime]] = {}

    def track(self, relay_id: str, events: list[object]) -> None:
        """Schedule the next deadline of a relay from its folded stream."""
        state = fold_relay(RelayState(relay_id=relay_id), events)
        deadline = next_deadline(state, fold_extras(events), self.timeouts)
        if deadline is None:
            self._due.pop(relay_id, None)
        else:
            self._due[relay_id] = deadline

    def pending(self) -> dict[str, tuple[str, datetime]]:
        """The scheduled deadlines (a copy)."""
        return dict(self._due)

    async def fire_due(self) -> int:
        """Append a timer fact for every deadline at or before now; returns how many."""
        now = self._clock()
        due = [(rid, t) for rid, t in self._due.items() if t[1] <= now]
        for relay_id, (timer, at) in due:
            fired = RelayTimerFired(relay_id=relay_id, timer=timer, fired_at=now)
            new = NewEvent(
                event_id=uuid.uuid5(TIMER_NAMESPACE, f"{relay_id}:{timer}:{at.isoformat()}"),
                payload=fired,
                metadata=Metadata(source="timer"),
            )
            await self.store.append(relay_stream(relay_id), Expect.ANY, [new])
            if self._due.get(relay_id) == (timer, at):
                del self._due[relay_id]
        return len(due)

    async def load_open(self) -> int:
        """Track every relay the read model shows as still open; returns how many."""
        stmt = select(whatsapp_order_relays.c.id).where(
            whatsapp_order_relays.c.stage.in_(OPEN_STAGES)
        )
        async with self.store.engines.reader.connect() as conn:
            ids = list((await conn.execute(stmt)).scalars())
        for relay_id in ids:
            history = await self.store.read_stream(relay_stream(str(relay_id)))
            self.track(str(relay_id), [e.payload for e in history])
        return len(ids)

    async def run(self) -> None:
        """Fire due timers every ``tick`` seconds until cancelled."""
        while True:
            try:
                await self.fire_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("timers.fire_failed", error=str(exc)[:200])
            await asyncio.sleep(self.tick)
