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
   streams), so the outcomes reach the log in the same commit as what acts on them.
   **Record first**: a :class:`~core.decider.RecordFirst` request is work whose intent (a
   send attempt) must be in the log BEFORE it is done. In step 2 the runner first writes,
   in one ``Process.record(stream, version, ahead, intent)`` at the version it holds,
   the outcomes it holds unwritten, the events the decision decided ahead of the request
   and the intent; it performs the request only when that write is new: a conflicting
   write raises before any work (step 4), and an intent already stored (another handling
   recorded it and owns the work) records the request's ``skipped`` events instead. Its
   outcome is then recorded like any other; later decisions must list the events
   written ahead first and unchanged (else :class:`AheadChangedError`); the final append
   holds only what is left unwritten, at the version the last write reached (ADR 0032);
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
from core.decider import Decider, Decision, RecordFirst

S = TypeVar("S")
I = TypeVar("I")  # noqa: E741 - named as in core.decider
E = TypeVar("E")
R = TypeVar("R")
MAX_ROUNDS = 8  # decide/perform rounds in one attempt: a decider that keeps asking is a bug


class EndlessRequestsError(RuntimeError):
    """A decider asked for outside work more rounds than its process allows."""


class AheadChangedError(RuntimeError):
    """A decision dropped or changed events an earlier one decided ahead (already written)."""


@dataclass(frozen=True, slots=True)
class Written:
    """What ``Process.record`` did: the stream's version after it, and whether the intent
    was new (False: at least one of its events was already stored)."""

    version: int
    fresh: bool


def _max_rounds(_state: object, _inputs: object) -> int:
    return MAX_ROUNDS


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
    ``record(stream, version, ahead, intent)`` is the write before a
    :class:`~core.decider.RecordFirst` request (``ahead``: outcomes and decided events not
    yet written), needed only by deciders that ask for one; ``max_rounds(state, inputs)`` bounds
    the decide/perform rounds of one attempt.
    """

    name: str
    decider: Decider[S, I, E, R]
    load: Callable[[str], Awaitable[tuple[S, int]]]
    append: Callable[[str, int, tuple[E, ...]], Awaitable[None]]
    perform: Callable[[str, R], Awaitable[Sequence[E]]] | None = None
    ids: Callable[[str, S, I], Iterator[str]] = _no_ids
    clock: Callable[[], datetime] = _utc_now
    policy: ConflictPolicy = DEFAULT_POLICY
    record: Callable[[str, int, tuple[E, ...], tuple[E, ...]], Awaitable[Written]] | None = None
    max_rounds: Callable[[S, I], int] = _max_rounds


@dataclass(frozen=True, slots=True)
class Ran(Generic[S, E]):
    """What one run decided: the state it decided from, its version, what it appended
    (every write of the run, in order)."""

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
    tally: _Tally[E] = _Tally(version)
    rest = await settle(process, stream, state, inputs, tally)
    if rest:
        await process.append(stream, tally.version, rest)
        tally.written.extend(rest)
    return Ran(state, version, tuple(tally.written))


@dataclass(slots=True)
class _Tally(Generic[E]):
    """One attempt's bookkeeping: outcomes so far, what is written, the version reached."""

    version: int
    recorded: list[E] = field(default_factory=list)  # outcomes of performed requests
    outcomes_written: int = 0  # of ``recorded``
    ahead: tuple[E, ...] = ()  # decided events written before a RecordFirst request
    written: list[E] = field(default_factory=list)  # every event appended, in order


async def settle(
    process: Process[S, I, E, R],
    stream: str,
    state: S,
    inputs: I,
    tally: _Tally[E] | None = None,
) -> tuple[E, ...]:
    """Decide, performing requests until the decision is settled; the events not yet
    written (outcomes, then decided events) come back for the final append."""
    tally = tally if tally is not None else _Tally[E](0)
    now = process.clock()
    rounds = process.max_rounds(state, inputs)
    for _ in range(rounds):
        decision: Decision[E, R] = process.decider.decide(
            state, inputs, tuple(tally.recorded), now, process.ids(stream, state, inputs)
        )
        decided = _after_ahead(process.name, decision.events, tally.ahead)
        if decision.settled:
            return (*tally.recorded[tally.outcomes_written :], *decided)
        if process.perform is None:
            raise EndlessRequestsError(f"{process.name}: asked for work it cannot have done")
        for request in decision.requests:
            if isinstance(request, RecordFirst):
                if not await _record_first(process, stream, request, decision.events, tally):
                    continue
                request = request.request  # noqa: PLW2901 - the work behind the intent
            tally.recorded.extend(await process.perform(stream, request))
    raise EndlessRequestsError(f"{process.name}: still asking after {rounds} rounds")


def _after_ahead(name: str, events: tuple[E, ...], ahead: tuple[E, ...]) -> tuple[E, ...]:
    """``events`` without the ones already written ahead (which must lead them, unchanged)."""
    if events[: len(ahead)] != ahead:
        raise AheadChangedError(f"{name}: a decision changed events already written")
    return events[len(ahead) :]


async def _record_first(
    process: Process[S, I, E, R],
    stream: str,
    request: RecordFirst[E, R],
    events: tuple[E, ...],
    tally: _Tally[E],
) -> bool:
    """Write what is unwritten and ``request``'s intent; True when the work may be done."""
    if process.record is None:
        raise EndlessRequestsError(f"{process.name}: asked to record first without a writer")
    ahead = (
        *tally.recorded[tally.outcomes_written :],
        *_after_ahead(process.name, events, tally.ahead),
    )
    written = await process.record(stream, tally.version, ahead, request.intent)
    tally.version = written.version
    tally.outcomes_written = len(tally.recorded)
    tally.ahead = events
    tally.written.extend((*ahead, *request.intent))
    if written.fresh:
        return True
    tally.recorded.extend(request.skipped)
    return False
