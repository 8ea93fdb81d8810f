"""Italian reply templates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Product
from core.nlu import replies
from core.understanding import Intent


def _p(stock: int, price: str = "18.90") -> Product:
    return Product(id="p", dealer_id="d", name="Crocchette", price=Decimal(price), stock=stock)


@pytest.mark.parametrize(
    ("price", "text"),
    [("18.9", "€ 18,90"), ("1234.5", "€ 1.234,50"), ("0.05", "€ 0,05"), ("1.795", "€ 1,80")],
)
def test_prices_are_formatted_the_italian_way(price: str, text: str) -> None:
    """Decimal comma, dot for thousands, euro sign first."""
    assert replies.format_price(Decimal(price)) == text


def test_product_list_shows_price_and_availability() -> None:
    """Each product line carries its price and whether it can be bought."""
    text = replies.product_list([_p(10), _p(0)])
    assert "Crocchette: € 18,90 (disponibile)" in text
    assert "(esaurito)" in text


def test_empty_product_list_says_nothing_was_found() -> None:
    """No products gives the not-found text."""
    assert replies.product_list([]) == replies.NOT_FOUND


def test_low_stock_is_flagged() -> None:
    """Few units left are announced as such."""
    assert replies.availability(_p(2)) == "ultimi pezzi"


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("grazie mille!", replies.THANKS),
        ("Buongiorno", replies.GREETING),
        ("boh", replies.FALLBACK),
        ("che buono il vostro miele, complimenti!", replies.WARM),
        ("ahahah 😂", replies.WARM),
        ("scusate, ho sbagliato chat", replies.NO_PROBLEM),
        # praise of the people and the service is warm, not "non ho capito"
        ("il fattorino è stato super gentile", replies.WARM),
        ("consegna velocissima, rider puntualissimo", replies.WARM),
        ("ragazzi siete stati fantastici", replies.WARM),
        # a request's adverb or a bad superlative is not praise
        ("è andata malissimo", replies.FALLBACK),
        ("gentilmente potete chiamarmi", replies.FALLBACK),
    ],
)
def test_chat_replies(text: str, reply: str) -> None:
    """Thanks, greetings and anything else get their own answer."""
    assert replies.chat_reply(text) == reply


def test_support_reply_promises_an_operator() -> None:
    """Support requests are told a person will answer."""
    assert "operatore" in replies.default_reply(Intent.SUPPORT_REQUEST, "aiuto")


def test_ask_which_lists_the_candidates() -> None:
    """An ambiguous item is asked about with its options."""
    assert "Quale preferisci?" in replies.ask_which("crocchette", [_p(3), _p(4)])
