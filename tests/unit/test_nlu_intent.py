"""Intent phrase rules, including where stems collide (ordine vs ordinare)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Catalog, Dealer, Product
from core.nlu import understand
from core.understanding import Intent

CATALOG = Catalog.of(
    [Dealer(id="d", name="Alimentari", category="grocery", phone="+390000000")],
    [
        Product(id="pane", dealer_id="d", name="Pane casereccio 500 g", price=Decimal(2), stock=5),
        Product(id="latte", dealer_id="d", name="Latte intero 1 L", price=Decimal(1), stock=0),
    ],
)


def _intent(text: str) -> Intent:
    return understand(text, CATALOG).intent


@pytest.mark.parametrize(
    "text",
    ["dov'è il mio ordine?", "il mio ordine non è arrivato", "annullate l'ordine n. 42"],
)
def test_my_order_is_support(text: str) -> None:
    """``ordine`` as a placed order is a support request."""
    assert _intent(text) is Intent.SUPPORT_REQUEST


@pytest.mark.parametrize(
    "text", ["vorrei ordinare del pane", "ordino un latte", "vorrei fare un ordine: 2 pane"]
)
def test_ordering_verbs_are_orders(text: str) -> None:
    """``ordinare``/``ordino``/``un ordine`` start a new order."""
    assert _intent(text) is Intent.ORDER_REQUEST


@pytest.mark.parametrize("text", ["avete il pane?", "quanto costa il latte?", "c'è il latte?"])
def test_product_questions_are_inquiries(text: str) -> None:
    """Questions about products are product inquiries."""
    assert _intent(text) is Intent.PRODUCT_INQUIRY


def test_question_with_order_verb_is_order() -> None:
    """A polite question that asks to bring something is an order."""
    assert _intent("mi porti 2 pane?") is Intent.ORDER_REQUEST


def test_wanting_to_talk_to_a_person_is_support() -> None:
    """``voglio`` followed by a support request does not count as ordering."""
    assert _intent("voglio parlare con un operatore") is Intent.SUPPORT_REQUEST


def test_refund_question_is_support() -> None:
    """``posso avere un rimborso`` is support even though ``posso avere`` orders."""
    assert _intent("posso avere un rimborso?") is Intent.SUPPORT_REQUEST


@pytest.mark.parametrize(
    "text", ["consegnate in centro?", "quanto costa la consegna?", "a che ora aprite?"]
)
def test_service_questions_are_chat(text: str) -> None:
    """Delivery zones, fees and hours are general chat, not product questions."""
    assert _intent(text) is Intent.GENERAL_CHAT


def test_misspelt_order_verb_is_understood() -> None:
    """``vorei`` is read as ``vorrei``."""
    assert _intent("vorei il pane") is Intent.ORDER_REQUEST


def test_empty_text_is_chat_with_nothing_to_hesitate_about() -> None:
    """Nothing to go on: general chat, sure enough not to ask a clarifying question."""
    result = understand("", CATALOG)
    assert (result.intent, result.confidence, result.clarify) == (Intent.GENERAL_CHAT, 0.6, False)


def test_clear_message_has_high_confidence() -> None:
    """A message with strong, one-sided evidence is confident."""
    assert understand("voglio un rimborso, il pane era scaduto", CATALOG).confidence > 0.8
