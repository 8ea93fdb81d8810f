"""The per-stream dispatcher: order, concurrency, debounce, parking, checkpoints."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest

from adapters.engine.dispatch import DispatchOptions, StreamDispatcher
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent, RecordedEvent
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


async def put(store: EventStore, stream: str, *texts: str) -> None:
    """Append one event per text to ``stream``."""
    for t in texts:
        await store.append(
            stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=Noted(text=t))]
        )


def notes(event: RecordedEvent) -> bool:
    """Select the sample events only."""
    return event.type == Noted.TYPE


async def test_events_of_one_stream_are_handled_in_order(store: EventStore) -> None:
    """Within a stream the handler sees events in stream order."""
    seen: list[str] = []

    async def handle(_stream: str, events: Sequence[RecordedEvent]) -> None:
        seen.extend(e.payload.text for e in events)
        await asyncio.sleep(0.001)

    await put(store, "a", *(str(i) for i in range(20)))
    await StreamDispatcher(store, "t", notes, handle).run_until_idle()
    assert seen == [str(i) for i in range(20)]


async def test_a_slow_stream_does_not_hold_up_others(store: EventStore) -> None:
    """Streams run concurrently: a stream blocked on I/O lets the next one finish first."""
    finished: list[str] = []
    gate = asyncio.Event()

    async def handle(stream: str, _events: Sequence[RecordedEvent]) -> None:
        if stream == "slow":
            await asyncio.wait_for(gate.wait(), 5)
        finished.append(stream)
        if stream == "fast":
            gate.set()

    await put(store, "slow", "x")
    await put(store, "fast", "y")
    await StreamDispatcher(store, "t", notes, handle).run_until_idle()
    assert finished == ["fast", "slow"]


async def test_debounce_hands_a_burst_over_as_one_turn(store: EventStore) -> None:
    """Events arriving within the window are handled together."""
    turns: list[list[str]] = []

    async def handle(_stream: str, events: Sequence[RecordedEvent]) -> None:
        turns.append([e.payload.text for e in events])

    dispatcher = StreamDispatcher(
        store, "t", notes, handle, DispatchOptions(debounce=0.3, poll_interval=0.05)
    )
    dispatcher.start()
    try:
        await put(store, "a", "ciao")
        await asyncio.sleep(0.1)
        await put(store, "a", "vorrei", "una pizza")
        for _ in range(100):
            if turns:
                break
            await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop()
    assert turns == [["ciao", "vorrei", "una pizza"]]


async def test_failing_handler_parks_after_bounded_retries_and_the_stream_goes_on(
    store: EventStore,
) -> None:
    """Three failures park the event; the next event of the stream is still handled."""
    calls: list[str] = []

    async def handle(_stream: str, events: Sequence[RecordedEvent]) -> None:
        calls.extend(e.payload.text for e in events)
        if any(e.payload.text == "poison" for e in events):
            raise RuntimeError("cannot handle poison")

    await put(store, "a", "poison")
    dispatcher = StreamDispatcher(store, "t", notes, handle, DispatchOptions(retry_delay=0.01))
    await dispatcher.run_until_idle()
    await put(store, "a", "fine")
    await dispatcher.run_until_idle()
    assert calls == ["poison", "poison", "poison", "fine"]
    [parked] = await store.read_stream("parked-t")
    assert parked.payload.event_type == Noted.TYPE
    assert "cannot handle poison" in parked.payload.error


async def test_checkpoint_never_passes_an_unhandled_event(store: EventStore) -> None:
    """While a stream's event is in flight the saved position stays before it."""
    gate = asyncio.Event()

    async def handle(stream: str, _events: Sequence[RecordedEvent]) -> None:
        if stream == "held":
            await gate.wait()

    await put(store, "held", "x")
    await put(store, "free", "y", "z")
    dispatcher = StreamDispatcher(store, "t", notes, handle, DispatchOptions(poll_interval=0.05))
    dispatcher.start()
    await asyncio.sleep(0.3)
    assert dispatcher.safe_position() == 0
    gate.set()
    await dispatcher.stop()
    assert await store.load_checkpoint("reactor:t") == await store.last_position()


async def test_restart_redelivers_only_what_was_not_handled(store: EventStore) -> None:
    """A new dispatcher with the same name resumes after the saved checkpoint."""
    seen: list[str] = []

    async def handle(_stream: str, events: Sequence[RecordedEvent]) -> None:
        seen.extend(e.payload.text for e in events)

    await put(store, "a", "1", "2")
    await StreamDispatcher(store, "t", notes, handle).run_until_idle()
    await put(store, "a", "3")
    await StreamDispatcher(store, "t", notes, handle).run_until_idle()
    assert seen == ["1", "2", "3"]
