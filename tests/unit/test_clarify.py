"""An unsure understanding asks one short question instead of guessing (issue 19, item 5)."""

from __future__ import annotations

import pytest

from core.nlu import understand
from core.nlu.replies import CLARIFY
from core.ports import AssistantTrace, Understood
from core.recorded_reading import understanding_event, understanding_of
from core.understanding import UNSURE_BELOW, CartLine, Intent, Understanding
from events.conversation import CartProposed, ConversationEscalated, ReplyQueued
from tests.unit.test_conversation_machine import CATALOG, given, msg

UNSURE_ORDER = Understanding(
    intent=Intent.ORDER_REQUEST,
    confidence=UNSURE_BELOW - 0.01,
    cart=(CartLine(product_id=CATALOG.products[0].id, quantity=1),),
)


def test_unsure_order_asks_instead_of_proposing_a_cart() -> None:
    """Two readings too close: one question, no cart, no escalation."""
    out = given().when(msg("boh le crocchette"), understanding=UNSURE_ORDER)
    assert [type(e) for e in out.events] == [ReplyQueued]
    assert out.replies()[0].text == CLARIFY
    assert not any(isinstance(e, CartProposed | ConversationEscalated) for e in out.events)


def test_sure_order_still_proposes_its_cart() -> None:
    """At the threshold the reading is acted on as before."""
    sure = Understanding(
        intent=Intent.ORDER_REQUEST, confidence=UNSURE_BELOW, cart=UNSURE_ORDER.cart
    )
    out = given().when(msg("vorrei le crocchette"), understanding=sure)
    assert any(isinstance(e, CartProposed) for e in out.events)


def test_the_question_follows_from_the_recorded_confidence() -> None:
    """Replay reads the recorded event: the same confidence asks the same question."""
    trace = AssistantTrace(engine="offline", model=None, prompt_version="v1", latency_ms=1)
    recorded = understanding_event(("w1",), Understood(understanding=UNSURE_ORDER, trace=trace))
    assert understanding_of(recorded).clarify


@pytest.mark.parametrize("text", ["", "👍", "ciao", "ok grazie"])
def test_small_talk_is_never_a_reason_to_ask(text: str) -> None:
    """Nothing to hesitate between: the offline reading is sure enough."""
    assert not understand(text, CATALOG).clarify


def test_close_intents_offline_are_unsure() -> None:
    """Reorder or question? Evidence for both weighs the same: the reading says so."""
    result = understand("le crocchette di ieri, ne vorrei altre?", CATALOG)
    assert result.clarify
