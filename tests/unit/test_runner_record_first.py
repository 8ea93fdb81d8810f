"""The runner's record-first step, with a toy decider and an in-memory log (no database)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from adapters.engine.runner import AheadChangedError, Process, Written, run
from adapters.store.types import StreamVersionConflictError
from core.decider import Decider, Decision, RecordFirst

STREAM = "toy-1"


@dataclass(frozen=True, slots=True)
class Attempted:
    """The intent: ``charge`` is about to be carried out (its id is the event's key)."""

    charge: str


@dataclass(frozen=True, slots=True)
class Charged:
    """The outcome of carrying ``charge`` out."""

    charge: str


@dataclass(frozen=True, slots=True)
class Owned:
    """Recorded instead of an outcome: another handling recorded the intent first."""

    charge: str


@dataclass(frozen=True, slots=True)
class Noted:
    """A decided event, listed ahead of the next record-first request."""

    charge: str


Toy = Attempted | Charged | Owned | Noted


@dataclass(frozen=True, slots=True)
class Charge:
    """The outside work."""

    charge: str


def _evolve(state: frozenset[str], event: Toy) -> frozenset[str]:
    return state | {event.charge} if isinstance(event, Attempted) else state


def _decide(
    state: frozenset[str],
    charges: tuple[str, ...],
    recorded: tuple[Toy, ...],
    _now: datetime,
    _ids: Iterator[str],
) -> Decision[Toy, Charge]:
    """Charge each charge not attempted before, one at a time, noting each outcome."""
    events: list[Toy] = []
    answered = {r.charge for r in recorded}
    for charge in charges:
        if charge in state:
            continue
        if charge not in answered:
            request: RecordFirst[Toy, Charge] = RecordFirst(
                Charge(charge), (Attempted(charge),), (Owned(charge),)
            )
            return Decision(events=tuple(events), requests=(request,))
        events.append(Noted(charge))
    return Decision(events=tuple(events))


TOY: Decider[frozenset[str], tuple[str, ...], Toy, Charge] = Decider(
    lambda _s: frozenset(), _evolve, _decide
)


@dataclass
class Log:
    """One stream's events in memory, keyed as a store keys derived ids."""

    events: list[Toy] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # the outside work done, in order
    trace: list[str] = field(default_factory=list)  # writes and calls, interleaved
    rival: Toy | None = None  # written by "another process" before the next write
    any_version: bool = False  # append at whatever version (ids keep it idempotent)

    def process(self) -> Process[frozenset[str], tuple[str, ...], Toy, Charge]:
        """The toy process over this log: exact versions, duplicates reported by key."""
        return Process(
            name="toy",
            decider=TOY,
            load=self.load,
            append=self.append,
            perform=self.perform,
            record=self.record,
            clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
            max_rounds=lambda _state, charges: 2 * len(charges) + 1,
        )

    async def load(self, _stream: str) -> tuple[frozenset[str], int]:
        return TOY.fold(frozenset(), self.events), len(self.events)

    def _write(self, version: int, events: Sequence[Toy]) -> bool:
        if self.rival is not None:
            self.events.append(self.rival)
            self.rival = None
        if version != len(self.events) and not self.any_version:
            raise StreamVersionConflictError(STREAM, version, len(self.events))
        new = [e for e in events if e not in self.events]
        self.events.extend(new)
        self.trace.append(f"write {len(new)}")
        return len(new) == len(events)

    async def append(self, _stream: str, version: int, events: tuple[Toy, ...]) -> None:
        self._write(version, events)

    async def record(
        self, _stream: str, version: int, ahead: tuple[Toy, ...], intent: tuple[Toy, ...]
    ) -> Written:
        self._write(version, ahead)
        fresh = self._write(len(self.events), intent)
        return Written(version=len(self.events), fresh=fresh)

    async def perform(self, _stream: str, request: Charge) -> Sequence[Toy]:
        self.calls.append(request.charge)
        self.trace.append(f"call {request.charge}")
        return [Charged(request.charge)]


async def test_the_intent_is_written_before_the_work_is_done() -> None:
    """The attempt is in the log when the call happens; the outcome follows it."""
    log = Log()
    await run(log.process(), STREAM, ("a",))
    assert log.trace == ["write 0", "write 1", "call a", "write 2"]
    assert log.events == [Attempted("a"), Charged("a"), Noted("a")]


async def test_events_decided_ahead_are_written_before_the_next_work() -> None:
    """The first charge's outcome and note are in the log before the second call."""
    log = Log()
    ran = await run(log.process(), STREAM, ("a", "b"))
    assert log.events == [
        Attempted("a"), Charged("a"), Noted("a"), Attempted("b"), Charged("b"), Noted("b"),
    ]  # fmt: skip
    assert log.trace.index("call b") > log.trace.index("call a") + 1
    assert ran.events == tuple(log.events)


async def test_an_intent_already_stored_is_never_performed() -> None:
    """Another handling recorded the attempt: no call, ``skipped`` is recorded instead."""
    log = Log(rival=Attempted("a"), any_version=True)  # recorded after our load
    ran = await run(log.process(), STREAM, ("a",))
    assert log.calls == []
    assert Owned("a") in ran.events
    assert log.events.count(Attempted("a")) == 1


async def test_a_conflicting_intent_write_performs_nothing_and_decides_again() -> None:
    """A rival write moves the version: no call on the stale decision, one after reload."""
    log = Log(rival=Noted("rival"))
    await run(log.process(), STREAM, ("a",))
    assert log.calls == ["a"]
    assert log.events[0] == Noted("rival")
    assert log.events.count(Attempted("a")) == 1


async def test_a_decision_that_changes_what_was_written_ahead_is_refused() -> None:
    """Events written ahead must lead every later decision of the run, unchanged."""
    flips = iter(range(100))

    def fickle(
        state: frozenset[str], charges: tuple[str, ...], recorded: tuple[Toy, ...],
        now: datetime, ids: Iterator[str],
    ) -> Decision[Toy, Charge]:  # fmt: skip
        decision = _decide(state, charges, recorded, now, ids)
        return Decision(events=(Noted(str(next(flips))), *decision.events),
                        requests=decision.requests)  # fmt: skip

    log = Log()
    process = log.process()
    process = Process(
        name="fickle", decider=Decider(TOY.initial, TOY.evolve, fickle), load=process.load,
        append=process.append, perform=process.perform, record=process.record,
    )  # fmt: skip
    with pytest.raises(AheadChangedError, match="fickle"):
        await run(process, STREAM, ("a",))
    assert log.calls == ["a"]  # the first call happened; nothing after the changed decision
