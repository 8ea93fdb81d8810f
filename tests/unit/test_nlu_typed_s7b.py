"""Single messages as people type them (second held-out set of session 7), read as a shop would.

Each rule is shown on a small catalogue of its own, with products that no data set uses.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Catalog, Dealer, Product
from core.nlu import understand
from core.nlu.normalize import tokenize
from core.understanding import Intent


def _p(pid: str, name: str, tags: tuple[str, ...] = ()) -> Product:
    return Product(id=pid, dealer_id="d", name=name, price=Decimal(1), stock=9, tags=tags)


CATALOG = Catalog.of(
    [Dealer(id="d", name="Bottega", category="grocery", phone="+390000000")],
    [
        _p("birra", "Birra chiara 6 x 33 cl"),
        _p("aranciata", "Aranciata 1,5 L", tags=("bibita",)),
        _p("gnocchi", "Gnocchi di patate 500 g", tags=("pasta",)),
        _p("ricotta", "Ricotta fresca 250 g", tags=("formaggio",)),
        _p("pecorino", "Pecorino romano 300 g", tags=("formaggio",)),
        _p("balsamo", "Balsamo per capelli 200 ml"),
        _p("candela", "Candela profumata alla vaniglia", tags=("regalo",)),
        _p("crema-corpo", "Crema corpo idratante 400 ml", tags=("pelle secca",)),
    ],
)


def _read(text: str) -> tuple[Intent, dict[str, int]]:
    result = understand(text, CATALOG)
    return result.intent, {line.product_id: line.quantity for line in result.cart}


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("birra 3 casse", {"birra": 3}),
        ("aranciata 2 fardelli", {"aranciata": 2}),
        ("gnocchi, 4 sacchetti", {"gnocchi": 4}),
    ],
)
def test_crates_bundles_and_bags_are_packaging(text: str, cart: dict[str, int]) -> None:
    """``3 casse``, ``2 fardelli``, ``4 sacchetti``: their count is the quantity."""
    assert _read(text) == (Intent.ORDER_REQUEST, cart)


def test_words_leading_in_do_not_hide_numbers_said_after_each_product() -> None:
    """``allora ci servono i gnocchi 3 pacchi la ricotta 2 ...``: each number follows its
    product, though the message opens with words that name nothing."""
    text = "allora ci servono i gnocchi 3 pacchi la ricotta 2 e il pecorino uno"
    assert _read(text) == (Intent.ORDER_REQUEST, {"gnocchi": 3, "ricotta": 2, "pecorino": 1})


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("4 ricotte no scusa 3", {"ricotta": 3}),
        ("mi porti la ricotta no scusate il pecorino", {"pecorino": 1}),
    ],
)
def test_no_with_an_apology_corrects_what_was_just_said(text: str, cart: dict[str, int]) -> None:
    """``no scusa`` after a number or a product takes it back, like ``anzi``."""
    assert _read(text) == (Intent.ORDER_REQUEST, cart)


def test_no_scusa_opening_a_message_stays_a_no() -> None:
    """Said first, ``no scusa`` answers a question: nothing is corrected."""
    assert tokenize("4 ricotte no scusa 3") == ("4", "ricotte", "anzi", "3")
    assert tokenize("no scusa, ho sbagliato") == ("no", "scusa", ",", "ho", "sbagliato")


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("la candela di che profumo e", "candela"),
        ("che marca e il balsamo", "balsamo"),
        ("quanti grammi sono i gnocchi", "gnocchi"),
    ],
)
def test_a_question_word_asks_without_a_question_mark(text: str, product: str) -> None:
    """``di che profumo e``: a product question, though typed without its mark."""
    result = understand(text, CATALOG)
    assert result.intent is Intent.PRODUCT_INQUIRY
    assert product in [hit.product_id for hit in result.products[:3]]


def test_a_question_word_about_no_product_stays_chat_and_orders_stay_orders() -> None:
    """``che giorno e oggi``, ``che cos e``: no product named, no product question; the
    question orders nothing, and ``mi dai 2 candele`` still does."""
    assert understand("che giorno e oggi", CATALOG).intent is Intent.GENERAL_CHAT
    assert understand("che cos e la bottega", CATALOG).intent is Intent.GENERAL_CHAT
    assert understand("la candela di che profumo e", CATALOG).cart == ()
    assert _read("mi dai 2 candele") == (Intent.ORDER_REQUEST, {"candela": 2})


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("c e qualcosa x la pelle secca", Intent.PRODUCT_INQUIRY),
        ("posso avere info sul balsamo?", Intent.PRODUCT_INQUIRY),
        ("mi dai qualche info sulla candela", Intent.PRODUCT_INQUIRY),
        ("ho chiamato 4 volte e nessuno mi risponde", Intent.SUPPORT_REQUEST),
        ("nessuno risponde al telefono", Intent.SUPPORT_REQUEST),
    ],
)
def test_asking_for_something_for_a_need_or_for_info_and_nobody_answering(
    text: str, intent: Intent
) -> None:
    """``c e qualcosa per`` and ``info sul`` ask; ``nessuno risponde`` complains."""
    assert understand(text, CATALOG).intent is intent
