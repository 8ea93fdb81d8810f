"""The order relay's drive on the one runner: market order, order number, dealer message.

Decided by the pure :data:`~core.relay_drive.RELAY_DRIVE`, one step per run; this shell
performs what a step asks (the customer's phone, the checkout's address, the market API,
the last order number, the dealer's 24-hour window and shop name) and appends each step
as one unit: the relay's events at the loaded version, an order number also on the
``order-numbers`` stream at the version it was read at (so two relays never share one),
the customer's notice and the dealer's message in their conversation streams. Event ids
are derived from the relay and the step, as before the runner, so a repeated step writes
the same ids. A conflict re-decides the step under the one policy of
:mod:`adapters.engine.conflicts`; exhausted, the error reaches the dispatcher, which parks
the fact (the old ten tries gave up silently).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, assert_never

from adapters.engine.relay_timers import relay_stream
from adapters.engine.relay_writes import NUMBERS_STREAM, conversation_stream, did, new
from adapters.engine.runner import Process, run
from adapters.store.types import AppendRequest, Expect
from core import relay_requests as rq
from core.ports import PermanentError, TransientError
from core.relay_drive import NAMES, RELAY_DRIVE, Drive, DriveEvent, DriveView, Stored, Told
from events.market import MarketOrderDeferred, OrderNumberAssigned
from events.notify import PushRequested
from events.orders import MarketOrderCreated, OrderFailed, OrderRelayedToDealer
from events.whatsapp import MessageReceived

if TYPE_CHECKING:
    from adapters.engine.orders import OrderRelayReactor

MAX_STEPS = 4  # market order, number, dealer message, then a run that finds nothing to do


class RelayDrive:
    """Drives one relay as far as it can go now (see the module docstring)."""

    def __init__(self, reactor: OrderRelayReactor) -> None:
        self.r = reactor
        self.process: Process[DriveView, Drive, DriveEvent, rq.DriveRequest] = Process(
            name="relay-drive",
            decider=RELAY_DRIVE,
            load=self._load,
            append=self._append,
            perform=self._perform,
            ids=_ids,
            clock=reactor.clock,
        )

    async def advance(self, rid: str, *, market: bool = False) -> None:
        """Take relay ``rid`` through every step it can do now, one run per step."""
        for _ in range(MAX_STEPS):
            given = Drive(market=market, attempts=self.r.market_attempts, retry=self.r.market_retry)
            ran = await run(self.process, relay_stream(rid), given)
            if not any(isinstance(e, Stored) for e in ran.events):
                return
            market = False

    async def _load(self, stream: str) -> tuple[DriveView, int]:
        rid = stream.removeprefix("order-")
        payloads = [h.payload for h in await self.r.store.read_stream(stream)]
        self.r.timers.track(rid, payloads)
        return RELAY_DRIVE.fold(RELAY_DRIVE.initial(stream), payloads), len(payloads)

    async def _perform(self, _stream: str, request: rq.DriveRequest) -> Sequence[DriveEvent]:
        match request:
            case rq.ResolveCustomer():
                return [
                    rq.CustomerResolved(await self.r.store.people.subject_of(request.customer_key))
                ]
            case rq.FindAddress():
                found = await self.r.checkout.address(request.customer_key, request.cart_id)
                return [rq.AddressFound(found)]
            case rq.CreateMarketOrder():
                return [await self._create(request)]
            case rq.TakeNumber():
                return [rq.NumberTaken(await self.r.store.stream_version(NUMBERS_STREAM))]
            case rq.SeeDealer():
                return [await self._see(request)]
            case _:
                assert_never(request)

    async def _create(self, request: rq.CreateMarketOrder) -> rq.MarketAnswered:
        try:
            return rq.MarketAnswered(market_order_id=await self.r.market.create(request.order))
        except TransientError as exc:
            return rq.MarketAnswered(error=str(exc), transient=True)
        except PermanentError as exc:
            return rq.MarketAnswered(error=str(exc))

    async def _see(self, request: rq.SeeDealer) -> rq.DealerSeen:
        people = self.r.store.people
        history = await self.r.store.read_stream(
            await people.stream_of(conversation_stream(request.phone))
        )
        times = [e.payload.sent_at for e in history if isinstance(e.payload, MessageReceived)]
        dealer = self.r.live.catalog.dealer(request.dealer_id)
        name = dealer.name if dealer is not None else request.dealer_id
        return rq.DealerSeen(max(times, default=None), name)

    async def _append(self, stream: str, version: int, events: tuple[DriveEvent, ...]) -> None:
        rid = stream.removeprefix("order-")
        own: list[Stored] = []
        unit: list[AppendRequest] = []
        for e in events:
            match e:
                case OrderNumberAssigned():
                    unit.append(
                        AppendRequest(NUMBERS_STREAM, e.number - 1, [new((rid, "number"), e)])
                    )
                    unit.append(AppendRequest(stream, version, [new((rid, "number", "relay"), e)]))
                case Told():
                    told = [new((e.message.outbound_id,), e.message)]
                    key = conversation_stream(e.key)
                    unit.append(AppendRequest(key, Expect.ANY, told, sealed_with=e.sealed_with))
                case (
                    MarketOrderCreated()
                    | MarketOrderDeferred()
                    | OrderFailed()
                    | PushRequested()
                    | OrderRelayedToDealer()
                ):
                    own.append(e)
                case (
                    rq.CustomerResolved()
                    | rq.AddressFound()
                    | rq.MarketAnswered()
                    | rq.NumberTaken()
                ):
                    continue  # recorded by the events decided from them, or reads of the log
                case rq.DealerSeen():
                    continue
                case _:
                    assert_never(e)
        if own:
            step = _step(own[0])
            batch = [new((rid, step, i), ev) for i, ev in enumerate(own)]
            unit.insert(0, AppendRequest(stream, version, batch))
        await self.r.commit(unit)


def _step(first: Stored) -> str:
    """The step a relay's events belong to, as their ids have always named it."""
    match first:
        case MarketOrderCreated():
            return "market"
        case MarketOrderDeferred():
            return f"deferred-{first.attempt}"
        case OrderFailed():
            return "market-failed" if first.step == "market_order" else "relay-failed"
        case OrderRelayedToDealer():
            return "relayed"
        case OrderNumberAssigned() | PushRequested():
            return "drive"
        case _:
            assert_never(first)


def _ids(stream: str, _view: DriveView, _given: Drive) -> Iterator[str]:
    """One id per :data:`~core.relay_drive.NAMES` entry, derived as before the runner."""
    rid = stream.removeprefix("order-")
    for name in NAMES:
        if name.startswith("push:"):
            yield str(did(rid, "push", name.removeprefix("push:")))
        elif name == "dealer-message":
            yield str(did(rid, name))
        else:
            yield str(did(rid, name, "customer"))
