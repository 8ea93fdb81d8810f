"""How a conversation's :class:`~core.turn_memory.TurnMemory` is stored as a snapshot.

Only a memory between two turns is stored (no pending fact, hence no pending answer):
what remains is the folded state and the last lines of chat, both plain dataclasses the
events codec encodes. A turn's own facts are always read from the log after the
snapshot's version, so a snapshot never stands in for an unanswered message.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.store.engine import Engines
from adapters.store.snapshots import Codec, Snapshots
from core.conversation import ConversationState
from core.ports import Turn
from core.turn_memory import TurnMemory


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTurnMemory:
    """The stored part of a memory between turns (its schema is fingerprinted)."""

    state: ConversationState
    history: tuple[Turn, ...]


def _to_stored(memory: TurnMemory) -> StoredTurnMemory | None:
    if memory.pending or memory.answers:
        return None
    return StoredTurnMemory(state=memory.state, history=memory.history)


def _from_stored(_stream: str, stored: StoredTurnMemory) -> TurnMemory:
    return TurnMemory(state=stored.state, history=stored.history)


TURN_CODEC: Codec[TurnMemory] = Codec("conversation", StoredTurnMemory, _to_stored, _from_stored)


def turn_snapshots(engines: Engines) -> Snapshots[TurnMemory]:
    """The conversation reactor's snapshot store."""
    return Snapshots(engines, TURN_CODEC)
