"""The one runner: outcomes recorded with the decision, re-decided on conflict, never dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from adapters.engine.conflicts import ConflictPolicy, ConflictsExhaustedError
from adapters.engine.dispatch import DispatchOptions, StreamDispatcher
from adapters.engine.runner import EndlessRequestsError, Process, Written, run
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.decider import Decider, Decision, RecordFirst
from events.base import NewEvent, RecordedEvent
from events.conversation import AgentTookOver, AssistantFailed

pytestmark = pytest.mark.integration
STREAM = "conversation-runner-test"
FAST = ConflictPolicy(tries=3, first=0.0, cap=0.0)
Counted = AgentTookOver | AssistantFailed


@dataclass(frozen=True, slots=True)
class Ask:
    """A request for outside work: ``question`` goes out, an ``AssistantFailed`` comes back."""

    question: str


def _evolve(state: int, event: Counted) -> int:
    return state + 1 if isinstance(event, AgentTookOver) else state


def _decide(
    state: int, asks: int, recorded: tuple[Counted, ...], _now: datetime, ids: Iterator[str]
) -> Decision[Counted, Ask]:
    """Ask ``asks`` questions one at a time, then take over as agent number ``state``."""
    if len(recorded) < asks:
        return Decision(requests=(Ask(f"q{len(recorded)}"),))
    return Decision(events=(AgentTookOver(agent=f"{state}:{next(ids)}"),))


COUNTER: Decider[int, int, Counted, Ask] = Decider(lambda _s: 0, _evolve, _decide)


def _process(
    store: EventStore, *, meddle: int = 0, endless: bool = False
) -> Process[int, int, Counted, Ask]:
    """The counter process on ``store``; ``meddle`` appends that many rival events mid-run."""
    rivals = [meddle]

    async def load(stream: str) -> tuple[int, int]:
        history = await store.read_stream(stream)
        return COUNTER.fold(0, [e.payload for e in history]), len(history)

    async def perform(_stream: str, ask: Ask) -> Sequence[Counted]:
        if rivals[0] > 0:  # another writer gets in between the load and the append
            rivals[0] -= 1
            await store.append(STREAM, Expect.ANY, [_new(AgentTookOver(agent="rival"))])
        return [AssistantFailed(operation="understand", error=ask.question)]

    async def append(stream: str, version: int, events: tuple[Counted, ...]) -> None:
        await store.append(stream, version, [_new(e) for e in events])

    decider: Decider[int, int, Counted, Ask] = COUNTER
    if endless:
        decider = Decider(COUNTER.initial, COUNTER.evolve, _always_asks)
    return Process(
        name="counter",
        decider=decider,
        load=load,
        append=append,
        perform=perform,
        ids=lambda stream, _state, asks: iter([f"{stream}:{asks}"]),
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        policy=FAST,
    )


def _always_asks(*_args: object) -> Decision[Counted, Ask]:
    return Decision(requests=(Ask("again"),))


def _new(payload: Counted) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), payload=payload)


async def _payloads(store: EventStore) -> list[object]:
    return [e.payload for e in await store.read_stream(STREAM)]


async def test_outcomes_are_appended_with_the_decision_that_used_them(store: EventStore) -> None:
    """Two asked questions are recorded first, in the same append as the decided event."""
    ran = await run(_process(store), STREAM, 2)
    stored = await store.read_stream(STREAM)
    assert [e.payload for e in stored] == [
        AssistantFailed(operation="understand", error="q0"),
        AssistantFailed(operation="understand", error="q1"),
        AgentTookOver(agent=f"0:{STREAM}:2"),
    ]
    assert len({e.position for e in stored}) == 3
    assert (ran.version, ran.after(COUNTER.evolve)) == (0, 1)


async def test_a_settled_decision_is_appended_at_the_loaded_version(store: EventStore) -> None:
    """The second run decides from the first one's state and appends after it."""
    await run(_process(store), STREAM, 0)
    ran = await run(_process(store), STREAM, 0)
    assert ran.version == 1
    assert await _payloads(store) == [
        AgentTookOver(agent=f"0:{STREAM}:0"),
        AgentTookOver(agent=f"1:{STREAM}:0"),
    ]


async def test_a_conflict_reloads_and_decides_again(store: EventStore) -> None:
    """A rival write between load and append: the runner re-decides on the rival's state."""
    ran = await run(_process(store, meddle=1), STREAM, 1)
    stored = await _payloads(store)
    assert stored[0] == AgentTookOver(agent="rival")
    assert stored[-1] == AgentTookOver(agent=f"1:{STREAM}:1")  # decided after the rival
    assert ran.version == 1
    assert stored.count(AssistantFailed(operation="understand", error="q0")) == 1


async def test_exhausted_conflicts_raise_for_the_park_and_write_nothing_of_ours(
    store: EventStore,
) -> None:
    """A rival on every try: the policy's tries, then ``ConflictsExhaustedError``."""
    with pytest.raises(ConflictsExhaustedError, match="counter"):
        await run(_process(store, meddle=FAST.tries), STREAM, 1)
    assert await _payloads(store) == [AgentTookOver(agent="rival")] * FAST.tries


async def test_a_decider_that_never_settles_is_stopped(store: EventStore) -> None:
    """Endless requests are a bug, raised rather than looped on; nothing is written."""
    with pytest.raises(EndlessRequestsError, match="counter"):
        await run(_process(store, endless=True), STREAM, 1)
    assert await _payloads(store) == []


async def test_under_the_dispatcher_an_exhausted_input_is_parked_not_dropped(
    store: EventStore,
) -> None:
    """A rival on every try of every retry: the input lands on the review queue, named."""
    await store.append("inputs", Expect.ANY, [_new(AssistantFailed(operation="x", error="go"))])
    process = _process(store, meddle=FAST.tries * 3)

    async def handle(_stream: str, _events: Sequence[RecordedEvent]) -> None:
        await run(process, STREAM, 1)

    dispatcher = StreamDispatcher(
        store, "runner-test", lambda e: e.stream == "inputs", handle, DispatchOptions(retry_delay=0)
    )
    await dispatcher.run_until_idle()
    [parked] = await store.read_stream("parked-runner-test")
    assert "kept conflicting" in parked.payload.error
    assert AgentTookOver(agent=f"1:{STREAM}:1") not in await _payloads(store)


# -- record first: the intent is stored before the work, the work only when it is new --


def _decide_first(
    state: int, asks: int, recorded: tuple[Counted, ...], _now: datetime, _ids: Iterator[str]
) -> Decision[Counted, Ask]:
    """Ask ``asks`` questions, each recorded first as an intent; then take over."""
    if len(recorded) < asks:
        q = f"q{len(recorded)}"
        intent = (AgentTookOver(agent=f"intent:{q}"),)
        skipped = (AssistantFailed(operation="skipped", error=q),)
        return Decision(requests=(RecordFirst(Ask(q), intent, skipped),))
    return Decision(events=(AgentTookOver(agent=f"done:{state}"),))


def _derived(payload: Counted) -> NewEvent:
    """An event whose id derives from its content: a second write of it is a duplicate."""
    return NewEvent(event_id=uuid.uuid5(uuid.NAMESPACE_URL, repr(payload)), payload=payload)


def _recording(
    store: EventStore, calls: list[str], *, stale: bool = False
) -> Process[int, int, Counted, Ask]:
    """The record-first counter; ``stale`` loads an empty state and writes at any version."""

    async def load(stream: str) -> tuple[int, int]:
        if stale:
            return 0, 0
        history = await store.read_stream(stream)
        return COUNTER.fold(0, [e.payload for e in history]), len(history)

    async def record(
        stream: str, version: int, ahead: tuple[Counted, ...], intent: tuple[Counted, ...]
    ) -> Written:
        expect: int | Expect = Expect.ANY if stale else version
        done = await store.append(stream, expect, [_derived(e) for e in (*ahead, *intent)])
        ids = {_derived(e).event_id for e in intent}
        return Written(version=done.version, fresh=not ids & set(done.duplicates))

    async def append(stream: str, version: int, events: tuple[Counted, ...]) -> None:
        await store.append(stream, Expect.ANY if stale else version, [_derived(e) for e in events])

    async def perform(_stream: str, ask: Ask) -> Sequence[Counted]:
        calls.append(ask.question)
        return [AssistantFailed(operation="understand", error=ask.question)]

    return Process(
        name="record-first",
        decider=Decider(COUNTER.initial, COUNTER.evolve, _decide_first),
        load=load,
        append=append,
        perform=perform,
        record=record,
        policy=FAST,
    )


async def test_record_first_stores_each_intent_before_its_call(store: EventStore) -> None:
    """Intent, call, outcome: each attempt is in the log before the work, in order."""
    calls: list[str] = []
    ran = await run(_recording(store, calls), STREAM, 2)
    assert calls == ["q0", "q1"]
    assert await _payloads(store) == [
        AgentTookOver(agent="intent:q0"),
        AssistantFailed(operation="understand", error="q0"),
        AgentTookOver(agent="intent:q1"),
        AssistantFailed(operation="understand", error="q1"),
        AgentTookOver(agent="done:0"),
    ]
    assert ran.events == tuple(await _payloads(store))


async def test_record_first_never_performs_an_intent_already_stored(store: EventStore) -> None:
    """A second handling from stale state finds the intent stored: no call, ``skipped``."""
    first: list[str] = []
    await run(_recording(store, first), STREAM, 1)
    again: list[str] = []
    await run(_recording(store, again, stale=True), STREAM, 1)
    assert (first, again) == (["q0"], [])
    stored = await _payloads(store)
    assert stored.count(AgentTookOver(agent="intent:q0")) == 1
    assert AssistantFailed(operation="skipped", error="q0") in stored
