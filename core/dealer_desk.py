"""The dealer desk as a decider: one dealer message, answered once.

State: which dealer messages were already answered (``DealerCommandHandled`` markers in
the dealer's conversation stream). Input: the message, who wrote it (the dealer id the
directory gives for the phone, None for anyone else). A message already answered, from
someone who is not a dealer, or an opt-out keyword gets nothing. Commands that need
nothing but their own words (a malformed one, ``aiuto``, an unknown verb) are answered at
once; the others ask the shell to :class:`CarryOut` the command (read the orders or the
catalogue, decided by the pure :func:`core.dealer_carry.carry_out`); what it did comes back as
:class:`Carried` and the reply and the marker are decided from it. The runner appends
the carried writes, the reply and the marker as one unit, so a dealer message is handled
exactly once, and a conflict re-decides the whole of it under the one conflict policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, assert_never

from core import dealer_commands as dc
from core.conversation import TurnMessage
from core.decider import Decider, Decision
from core.optout import opt_out_keyword
from events.conversation import ReplyKind, ReplyQueued
from events.market import DealerCommandHandled
from events.whatsapp import MessageReceived


@dataclass(frozen=True, slots=True)
class DeskView:
    """The dealer messages of one stream already answered (their fact ids)."""

    handled: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class DealerMessage:
    """The input: one stored dealer message and who wrote it."""

    fact_id: str
    message: MessageReceived
    phone: str  # where the answer goes
    dealer_id: str | None  # None: the writer is not a dealer (nothing is answered)


@dataclass(frozen=True, slots=True, kw_only=True)
class CarryOut:
    """A request: do ``command`` for the dealer (reads orders or the catalogue)."""

    command: dc.DealerCommand
    dealer_id: str
    phone: str
    fact_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Carried:
    """What the shell did for a :class:`CarryOut`: the dealer's answer and the writes.

    ``writes`` are the shell's appends to other streams (relay decisions, stock
    changes), opaque here and appended in the same unit as the reply; ``refresh`` says
    the catalogue changed.
    """

    text: str
    ok: bool = True
    relay_id: str | None = None
    refresh: bool = False
    writes: tuple[Any, ...] = field(default=())


DeskEvent = Carried | ReplyQueued | DealerCommandHandled
# Verbs the shell carries out: they read orders or the catalogue.
LOOKED_UP = frozenset(
    ("ordini", "stato", "accetta", "rifiuta", "pronto", "disponibile", "esaurito", "alias")
)


def evolve_desk(view: DeskView, event: object) -> DeskView:
    """Total: only ``DealerCommandHandled`` changes the view."""
    if isinstance(event, DealerCommandHandled):
        return replace(view, handled=view.handled | {event.fact_id})
    return view


def quick_answer(command: dc.DealerCommand) -> Carried | None:
    """The answer of a command that needs no lookup, or None."""
    if command.problem is not None:
        return Carried(text=dc.USAGE[command.problem], ok=False)
    if command.verb == "aiuto":
        return Carried(text=dc.HELP_TEXT)
    if command.verb not in LOOKED_UP:
        return Carried(text=dc.UNKNOWN_TEXT, ok=False)
    return None


def decide_desk(
    view: DeskView,
    msg: DealerMessage,
    recorded: tuple[DeskEvent, ...],
    _now: datetime,
    ids: Iterator[str],
) -> Decision[DeskEvent, CarryOut]:
    """Nothing, a request to carry the command out, or the reply and the marker."""
    turn = TurnMessage.from_fact(msg.message)
    if msg.fact_id in view.handled or msg.dealer_id is None or opt_out_keyword(turn.text):
        return Decision()
    command = dc.parse_command(turn.text, turn.button_id)
    carried = quick_answer(command) or _carried(recorded)
    if carried is None:
        at = msg.message.sent_at
        return Decision(
            requests=(
                CarryOut(
                    command=command,
                    dealer_id=msg.dealer_id,
                    phone=msg.phone,
                    fact_id=msg.fact_id,
                    at=at,
                ),
            )
        )
    reply = ReplyQueued(
        outbound_id=next(ids),
        to=msg.phone,
        kind=ReplyKind.TEXT,
        text=carried.text,
        in_reply_to=msg.message.wamid,
    )
    marker = DealerCommandHandled(
        fact_id=msg.fact_id, command=command.verb, relay_id=carried.relay_id, ok=carried.ok
    )
    return Decision(events=(reply, marker))


def _carried(recorded: tuple[DeskEvent, ...]) -> Carried | None:
    for event in recorded:
        match event:
            case Carried():
                return event
            case ReplyQueued() | DealerCommandHandled():
                continue
            case _:
                assert_never(event)
    return None


DEALER_DESK: Decider[DeskView, DealerMessage, DeskEvent, CarryOut] = Decider(
    initial=lambda _stream: DeskView(), evolve=evolve_desk, decide=decide_desk
)
