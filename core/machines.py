"""What the life cycles share: :class:`DomainError` (the web layer answers 409) and the
``transitions`` table helpers.

Each aggregate builds one static, synchronous table at import (``model=None``, no auto
transitions, no callbacks): :func:`build_table` from its :class:`Move` list, consulted by
:func:`lookup` when deciding and drawn by :func:`mermaid`; replay sets the stage a stored
event records and never consults it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transitions import Machine


class DomainError(Exception):
    """A person's request does not fit the current state; the web layer answers 409."""


class IllegalTransitionError(DomainError):
    """The requested move is not in the life cycle's transition table."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    """One row of a transition table: ``trigger`` leads from any of ``sources`` to ``dest``."""

    trigger: str
    sources: tuple[str, ...]
    dest: str


def build_table(states: tuple[str, ...], moves: tuple[Move, ...], *, initial: str) -> Any:
    """A static ``transitions`` machine: no model, no auto transitions, no callbacks."""
    rows = [{"trigger": m.trigger, "source": list(m.sources), "dest": m.dest} for m in moves]
    return Machine(
        model=None, states=list(states), transitions=rows, initial=initial, auto_transitions=False
    )


def lookup(table: Any, current: str, trigger: str) -> str:
    """The destination of ``trigger`` from ``current``; raises :class:`IllegalTransitionError`."""
    moves = table.get_transitions(trigger=trigger, source=current)
    if not moves:
        raise IllegalTransitionError(f"{trigger!r} is not allowed from {current}")
    return str(moves[0].dest)


def mermaid(moves: tuple[Move, ...], *, initial: str) -> str:
    """A Mermaid ``stateDiagram-v2`` of ``moves``."""
    rows = [f"    [*] --> {initial}"]
    rows += [f"    {src} --> {m.dest}: {m.trigger}" for m in moves for src in m.sources]
    return "\n".join(["stateDiagram-v2", *rows])
