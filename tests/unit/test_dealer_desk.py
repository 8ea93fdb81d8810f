"""The dealer desk decider (pure): once per message, quick answers, carried-out commands."""

from __future__ import annotations

from datetime import UTC, datetime

from core import dealer_commands as dc
from core.dealer_desk import (
    DEALER_DESK,
    Carried,
    CarryOut,
    DealerMessage,
    DeskEvent,
    DeskView,
)
from core.decider import Decision
from events.conversation import ReplyKind, ReplyQueued
from events.market import DealerCommandHandled
from tests.unit.test_conversation_machine import msg

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
PHONE = "+39328185464"


def dealer_says(text: str, *, dealer: str | None = "d-pet", fact: str = "f1") -> DealerMessage:
    """A stored dealer message, as the desk's input."""
    return DealerMessage(fact_id=fact, message=msg(text, at=T0), phone=PHONE, dealer_id=dealer)


def decide(
    text: str,
    recorded: tuple[DeskEvent, ...] = (),
    *,
    view: DeskView | None = None,
    dealer: str | None = "d-pet",
) -> Decision[DeskEvent, CarryOut]:
    """One decision of the desk with the given recorded outcomes."""
    state = view or DEALER_DESK.initial("conversation-x")
    return DEALER_DESK.decide(state, dealer_says(text, dealer=dealer), recorded, T0, iter(["o1"]))


def test_a_command_needing_orders_asks_the_shell_to_carry_it_out() -> None:
    """``accetta 3`` needs the relay: a ``CarryOut`` request, nothing appended yet."""
    decision = decide("accetta 3")
    assert decision.events == ()
    [request] = decision.requests
    assert isinstance(request, CarryOut)
    assert (request.command.verb, request.command.number, request.dealer_id) == (
        "accetta",
        3,
        "d-pet",
    )
    assert (request.fact_id, request.at, request.phone) == ("f1", T0, PHONE)


def test_the_carried_outcome_becomes_the_reply_and_the_marker() -> None:
    """What the shell did is answered to the dealer and marked as handled."""
    carried = Carried(text="Ordine n. 3 accettato.", relay_id="r-3")
    decision = decide("accetta 3", (carried,))
    assert decision.requests == ()
    reply, marker = decision.events
    assert isinstance(reply, ReplyQueued)
    assert (reply.outbound_id, reply.to, reply.text) == ("o1", PHONE, "Ordine n. 3 accettato.")
    assert marker == DealerCommandHandled(fact_id="f1", command="accetta", relay_id="r-3")


def answered(text: str) -> tuple[str, bool]:
    """The reply's text and the marker's ``ok`` of a decision settled at once."""
    reply, marker = decide(text).events
    assert isinstance(reply, ReplyQueued)
    assert isinstance(marker, DealerCommandHandled)
    return reply.text, marker.ok


def test_help_and_unknown_words_are_answered_without_a_lookup() -> None:
    """``aiuto`` and an unknown verb settle at once, the unknown one marked not ok."""
    assert answered("aiuto") == (dc.HELP_TEXT, True)
    assert answered("buongiorno") == (dc.UNKNOWN_TEXT, False)


def test_a_malformed_command_gets_its_usage() -> None:
    """``esaurito`` without a product: the usage text, not ok, no lookup."""
    assert answered("esaurito") == (dc.USAGE["prodotto"], False)


def test_an_answered_message_is_never_answered_again() -> None:
    """The marker folded into the view: the same message decides nothing."""
    reply = ReplyQueued(outbound_id="o0", to=PHONE, kind=ReplyKind.TEXT, text="x")
    view = DEALER_DESK.fold(
        DeskView(), [DealerCommandHandled(fact_id="f1", command="aiuto"), reply]
    )
    assert decide("aiuto", view=view) == Decision()


def test_someone_who_is_not_a_dealer_and_opt_outs_get_nothing() -> None:
    """No dealer id, or a STOP keyword: nothing is decided."""
    assert decide("ordini", dealer=None) == Decision()
    assert decide("STOP") == Decision()
