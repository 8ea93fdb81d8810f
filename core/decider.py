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
class Decision(Generic[E, R]):
    """What one ``decide`` call wants: events to append, or first some outside work."""

    events: tuple[E, ...] = ()
    requests: tuple[R, ...] = ()

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
