"""The dealer desk: a dealer's WhatsApp messages read as commands and answered.

Each message runs on the one runner (:mod:`adapters.engine.runner`) with the pure
:data:`~core.dealer_desk.DEALER_DESK` decider: it skips answered messages (kept state of
the dealer's stream), answers the commands that need no lookup, and asks this module to
carry out the others. Carrying out is reads and writes only: this module reads what
:func:`core.dealer_carry.needs` names (the relay a number or a button points at, through
the ``order-numbers`` stream; the dealer's open relays, indexed by
``whatsapp_order_relays`` and read from their streams; the dealer's products), the pure
:func:`core.dealer_carry.carry_out` decides the answer and the relay or catalogue events,
and this module names them and turns them into appends. The reply, the
``DealerCommandHandled`` marker and any relay change are appended as one unit, so a dealer
message is handled exactly once; when conflicts exhaust the one policy the dispatcher parks
the message (never dropped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
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
from core.dealer_carry import Carry, DeskReads, RelayRead, carry_out, needs
from core.dealer_desk import (
    DEALER_DESK,
    Carried,
    CarryOut,
    DealerMessage,
    DeskEvent,
    DeskView,
    evolve_desk,
)
from events.base import NewEvent, RecordedEvent
from events.conversation import ReplyQueued
from events.market import (
    DealerCommandHandled,
    OrderNumberAssigned,
    StockChanged,
)

DESK_NAMESPACE = uuid.UUID("9b3e6f10-7c2d-4a85-b1e4-5f0a8d2c6e97")
CLOSED = ("rejected", "failed", "cancelled", "expired", "delivered")


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
        """Read what the command needs, decide with :func:`~core.dealer_carry.carry_out`."""
        reads = await self._read(request.command, request.dealer_id)
        carry = carry_out(request.command, request.dealer_id, request.phone, request.at, reads)
        carried = Carried(
            text=carry.text,
            ok=carry.ok,
            relay_id=carry.relay_id,
            refresh=carry.catalog is not None,
            writes=tuple(_writes(carry, request.fact_id)),
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

    async def _read(self, cmd: dc.DealerCommand, dealer_id: str) -> DeskReads:
        """What :func:`~core.dealer_carry.needs` names, read from the relay streams."""
        need = needs(cmd)
        named = None
        if need.named:
            rid = cmd.relay_id or await self._relay_by_number(cmd.number)
            named = await self._relay(rid) if rid else None
        relays: tuple[RelayRead, ...] = ()
        if need.open:
            relays = tuple([await self._relay(rid) for rid in await self._candidates(dealer_id)])
        catalog = self.live.catalog
        products = tuple(p for p in catalog.products if p.dealer_id == dealer_id)
        dealer = catalog.dealer(dealer_id)
        return DeskReads(
            named=named,
            open=relays,
            products=products if need.products else (),
            dealer_name=dealer.name if dealer is not None else dealer_id,
        )

    async def _relay(self, rid: str) -> RelayRead:
        history, state, extras = await self.relays.load(rid)
        return RelayRead(state, extras, len(history))

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


def _writes(carry: Carry, fid: str) -> list[AppendRequest]:
    """The appends a carried command stands for, named after the relay or the message."""
    change = carry.change
    if change is not None:
        state, alert = change.relay, change.alert
        events = list(change.events)
        if alert is not None:
            events.append(push(state, "rider", alert.reason, alert.title, alert.body))
        batch = [new((state.relay_id, change.step, i), ev) for i, ev in enumerate(events)]
        return [
            AppendRequest(relay_stream(state.relay_id), change.version, batch),
            customer_notice(state, change.step, change.notice),
        ]
    if carry.catalog is not None:
        key = (fid, "stock" if isinstance(carry.catalog, StockChanged) else "alias")
        return [AppendRequest(CATALOG_STREAM, Expect.ANY, [new(key, carry.catalog)])]
    return []
