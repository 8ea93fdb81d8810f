"""Order status questions from customers, answered from the latest order's relays."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.order_status import OrderView, is_status_question, status_text


@pytest.mark.parametrize(
    "text",
    [
        "dov'è il mio ordine?",
        "a che punto è?",
        "qnd arriva?",
        "dov'è la mia spesa?",
        "a che punto è l'ordine?",
        "quando arriva?",
        "ok grazie, e più o meno quando arriva?",
        "a che ora arriva la spesa?",
        "quanto manca?",
        "dov'è arrivato il mio ordine?",
        "dove sta la mia spesa?",
        "l'hanno accettato l'ordine?",
        "avete già spedito il mio ordine?",
        "me l'avete già spedito?",
        "l'hanno preparato?",
        "è già in consegna?",
        "quando me la portate la spesa?",
    ],
)
def test_status_questions_are_recognised(text: str) -> None:
    """The many ways of asking where an order is."""
    assert is_status_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "il mio ordine non è ancora arrivato, è in ritardo di un'ora",
        "dov'è il mio ordine? voglio un rimborso",
        "vorrei due mozzarelle",
        "a che ora aprite?",
        "hanno annullato il mio ordine?",
        "quando portate a Monza?",
    ],
)
def test_complaints_and_other_messages_are_not_status_questions(text: str) -> None:
    """Complaints stay with support; orders and opening hours are not about an order."""
    assert not is_status_question(text)


def test_the_answer_names_number_shop_stage_and_delivery_time() -> None:
    """One shop: one sentence; several: one bullet each."""
    accepted = OrderView(
        number=7,
        shop="Fioreria Rosa",
        stage="accepted",
        total=Decimal("27.90"),
        when_text="domani alle 10:00",
    )
    text = status_text([accepted])
    for part in ("n. 7", "Fioreria Rosa", "accettato", "preparazione", "27,90", "domani alle"):
        assert part in text
    waiting = OrderView(number=8, shop="Farmacia", stage="relayed_to_dealer", total=Decimal(5))
    both = status_text([accepted, waiting])
    assert both.startswith("Ecco i tuoi ordini:")
    assert "inviato al negozio, in attesa" in both
