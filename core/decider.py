"""The decider: the shape every process of the relay has, whatever it decides.

A process is three pure functions (the Decider pattern: Chassaing; Equinox's
``initial``/``evolve``/``decide``): where a stream starts, how one stored event changes
its state, and what to do about some inputs. ``decide`` returns a :class:`Decision`:
events to append and requests for work the core cannot do itself (ask the assistant,
look an order up). The shell's runner (:mod:`adapters.engine.runner`) performs the
requests, records what came back and decides again with those outcomes in ``recorded``,
until a decision asks for nothing more; then it appends the outcomes and the events
together, at the version it loaded. So nothing acts on an outside answer that is not
in the log, and a replay that feeds the recorded outcomes back never calls out.

Some work must be in the log BEFORE it is done: a message sent to Meta, which has no
idempotency key, is recorded as an attempt first, so a crash after the call is never
sent again blindly. A decision asks for that with :class:`RecordFirst`: the runner
appends its ``intent`` (with what the decision decided ahead of it) and performs the
work only when that write is new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

S = TypeVar("S")  # the folded state of one stream
I = TypeVar("I")  # noqa: E741 - the inputs of one decision, as in the pattern's papers
E = TypeVar("E")  # the events it appends (a union of frozen dataclasses)
R = TypeVar("R")  # the requests for outside work (a union of frozen dataclasses)


@dataclass(frozen=True, slots=True)
class RecordFirst(Generic[E, R]):
    """Outside work whose ``intent`` must be in the log before it is done.

    The runner appends, in one write at the version it holds, what it has not written
    yet (outcomes of earlier requests, then the events the decision lists ahead of this
    request) and ``intent``; only then does it perform ``request``. A write that
    conflicts performs nothing (the run reloads and decides again). When any event of
    ``intent`` was already stored (its ids are derived, and another handling recorded it
    and owns the work) the request is not performed either: ``skipped`` is recorded in
    place of its outcome, so the next ``decide`` knows. An empty ``intent`` still writes
    what the decision decided so far before the work (a wait, say) starts.
    """

    request: R
    intent: tuple[E, ...] = ()
    skipped: tuple[E, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision(Generic[E, R]):
    """What one ``decide`` call wants: events to append, or first some outside work.

    With a :class:`RecordFirst` among ``requests``, ``events`` are the events decided
    ahead of it: the runner writes them before the work, so every later decision of the
    same run must list them again, first and in the same order.
    """

    events: tuple[E, ...] = ()
    requests: tuple[R | RecordFirst[E, R], ...] = ()

    @property
    def settled(self) -> bool:
        """True when nothing more must be asked before the events can be appended."""
        return not self.requests


Decide = Callable[[S, I, tuple[E, ...], datetime, Iterator[str]], Decision[E, R]]


@dataclass(frozen=True, slots=True)
class Decider(Generic[S, I, E, R]):
    """One process: ``initial(stream)``, ``evolve(state, event)`` and ``decide``.

    ``decide(state, inputs, recorded, now, ids)`` is pure: ``recorded`` holds the outcomes
    of the requests it made earlier in the same run, ``now`` and ``ids`` are handed in.
    ``evolve`` is total: a stored event never makes it raise.
    """

    initial: Callable[[str], S]
    evolve: Callable[[S, E], S]
    decide: Decide[S, I, E, R]

    def fold(self, state: S, events: tuple[E, ...] | list[E]) -> S:
        """``state`` after ``events``, in order."""
        for event in events:
            state = self.evolve(state, event)
        return state
