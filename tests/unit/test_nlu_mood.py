"""Intent from the whole message: mood, tense and phrasing, not the product words."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from core.catalog import Catalog, parse_catalog
from core.nlu import understand
from core.understanding import Intent

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def _demo() -> Catalog:
    raw = json.loads((ROOT / "adapters" / "data" / "catalog_demo.json").read_text("utf-8"))
    return parse_catalog(raw)


def _intent(text: str) -> Intent:
    return understand(text, _demo()).intent


@pytest.mark.parametrize(
    "text",
    [
        "me le mandi due passate?",
        "ce ne metti tre di latte?",
        "portamene 2 di spaghetti",
        "mi faresti avere una lettiera?",
        "fatemi avere il parmigiano x stasera",
        "mi fai un mazzo di rose? grz",
        "servono 6 uova x la torta",
        "dammene un paio, di mozzarelle",
    ],
)
def test_order_verbs_in_any_mood_are_orders(text: str) -> None:
    """Imperatives with pronouns, questions with a verb of giving, conditionals: orders."""
    assert _intent(text) is Intent.ORDER_REQUEST


@pytest.mark.parametrize(
    "text",
    [
        "il parmigiano sapeva di muffa, mi rimborsate?",
        "mi avete mandato il latte al posto delle uova",
        "ho pagato 3 passate e ne sono arrivate 2",
        "il caffe che mi è arrivato scade domani, lo posso rendere?",
        "la bottiglia d'olio era aperta, me la cambiate?",
        "ridatemi i soldi delle rose, erano appassite",
        "è un'ora che aspetto il fattorino",
    ],
)
def test_past_problems_refunds_and_exchanges_are_support(text: str) -> None:
    """Something went wrong with what was delivered or paid."""
    assert _intent(text) is Intent.SUPPORT_REQUEST


@pytest.mark.parametrize(
    "text",
    [
        "che buona la vostra pummarola, complimenti!",
        "scusate, messaggio partito per sbaglio",
        "ops ho sbagliato chat 🙈",
        "mio figlio ha finito la nutella in un giorno ahahah",
        "il gatto si è addormentato nella scatola delle crocchette 😂",
        "grazie x il caffe, era ottimo",
        "il vostro pane è il migliore della zona",
    ],
)
def test_compliments_anecdotes_and_mistakes_are_chat(text: str) -> None:
    """Stories told in the past, praise and wrong-chat messages order nothing."""
    assert _intent(text) is Intent.GENERAL_CHAT


@pytest.mark.parametrize(
    "text",
    [
        "quanto viene il caffe?",
        "la lettiera e profumata o inodore?",
        "ce l'avete il paracetamolo da 1000?",
        "vi sono rimaste delle orchidee?",
    ],
)
def test_price_and_availability_questions_are_inquiries(text: str) -> None:
    """Questions about price, features and availability."""
    assert _intent(text) is Intent.PRODUCT_INQUIRY


def test_a_bare_list_of_products_is_an_order() -> None:
    """``i cerotti e il termometro``: a list with no verb asks for the products."""
    assert _intent("i cerotti e il termometro") is Intent.ORDER_REQUEST


def test_an_order_beside_a_story_keeps_its_cart() -> None:
    """The told clause orders nothing; the request beside it does."""
    result = understand("ieri ho preso 2 latte, oggi mandami 3 pani", _demo())
    assert result.intent is Intent.ORDER_REQUEST
    assert [(line.product_id, line.quantity) for line in result.cart] == [("p-pane", 3)]
