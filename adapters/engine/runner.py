"""The one runner: load, decide, perform and record, append at the version, settle conflicts.

Every process (the conversation turn, the dealer desk, agent actions, ...) is a pure
:class:`~core.decider.Decider`; :func:`run` is the only loop that drives one:

1. load the stream's state and version (``Process.load``: kept state in a
   :class:`~adapters.engine.stream_cache.StreamCache`, which starts a miss from a snapshot
   or folds the log);
2. ``decide(state, inputs, recorded, now, ids)``; while the decision asks for outside work
   (``requests``), perform each request and add what came back (outcome events) to
   ``recorded``, then decide again: non-determinism is in hand before anything uses it;
3. append the outcomes and the decided events together, at the loaded version
   (``Process.append``: an exact version, ``ExpectAfterFacts``, or a unit over several
   streams), so the outcomes reach the log in the same commit as what acts on them;
4. on a version conflict, reload and decide again under the ONE policy of
   :mod:`adapters.engine.conflicts` (bounded, with backoff). When it is exhausted,
   :class:`~adapters.engine.conflicts.ConflictsExhaustedError` is raised: under the
   stream dispatcher that parks the input on the review queue; a web handler answers 409.
   Nothing is dropped silently.

Replay and ``what-if`` run the same function with a :class:`Process` whose ``perform``
answers from the log (or asks today's assistant and records the question) and whose
``append`` keeps the events instead of storing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from adapters.engine.conflicts import DEFAULT_POLICY, ConflictPolicy, until_settled
from core.decider import Decider, Decision

S = TypeVar("S")
I = TypeVar("I")  # noqa: E741 - named as in core.decider
E = TypeVar("E")
R = TypeVar("R")
MAX_ROUNDS = 8  # decide/perform rounds in one attempt: a decider that keeps asking is a bug


class EndlessRequestsError(RuntimeError):
    """A decider asked for outside work :data:`MAX_ROUNDS` times without settling."""


def _no_ids(_stream: str, _state: object, _inputs: object) -> Iterator[str]:
    """For deciders that name nothing: an id asked of it stops the decision (StopIteration)."""
    return iter(())


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Process(Generic[S, I, E, R]):
    """A decider and the shell parts the runner needs to drive it for real (or dry).

    ``load(stream)`` gives the state and the version it was folded to; ``perform(stream, request)``
    does one outside call and returns its outcome as events to record; ``append(stream,
    version, events)`` stores them expecting ``version`` and raises
    ``StreamVersionConflictError`` when another writer got in first. ``ids(stream, state,
    inputs)`` gives each ``decide`` call the same id sequence, so a re-decision (the next
    round, or after a conflict) names its events as the first one did.
    """

    name: str
    decider: Decider[S, I, E, R]
    load: Callable[[str], Awaitable[tuple[S, int]]]
    append: Callable[[str, int, tuple[E, ...]], Awaitable[None]]
    perform: Callable[[str, R], Awaitable[Sequence[E]]] | None = None
    ids: Callable[[str, S, I], Iterator[str]] = _no_ids
    clock: Callable[[], datetime] = _utc_now
    policy: ConflictPolicy = DEFAULT_POLICY


@dataclass(frozen=True, slots=True)
class Ran(Generic[S, E]):
    """What one run decided: the state it decided from, its version, what it appended."""

    state: S
    version: int
    events: tuple[E, ...] = field(default=())

    def after(self, evolve: Callable[[S, E], S]) -> S:
        """The state once the appended events are folded in."""
        state = self.state
        for event in self.events:
            state = evolve(state, event)
        return state


async def run(process: Process[S, I, E, R], stream: str, inputs: I) -> Ran[S, E]:
    """Decide ``inputs`` on ``stream`` and append the result (see the module docstring)."""
    return await until_settled(
        lambda: _attempt(process, stream, inputs), process.name, process.policy
    )


async def _attempt(process: Process[S, I, E, R], stream: str, inputs: I) -> Ran[S, E]:
    state, version = await process.load(stream)
    events = await settle(process, stream, state, inputs)
    if events:
        await process.append(stream, version, events)
    return Ran(state, version, events)


async def settle(process: Process[S, I, E, R], stream: str, state: S, inputs: I) -> tuple[E, ...]:
    """Decide, performing requests until the decision is settled: outcomes, then events."""
    recorded: list[E] = []
    now = process.clock()
    for _ in range(MAX_ROUNDS):
        decision: Decision[E, R] = process.decider.decide(
            state, inputs, tuple(recorded), now, process.ids(stream, state, inputs)
        )
        if decision.settled:
            return (*recorded, *decision.events)
        if process.perform is None:
            raise EndlessRequestsError(f"{process.name}: asked for work it cannot have done")
        for request in decision.requests:
            recorded.extend(await process.perform(stream, request))
    raise EndlessRequestsError(f"{process.name}: still asking after {MAX_ROUNDS} rounds")
