"""Single messages as people type them (third held-out set of session 7), read as a shop would.

Each rule is shown on a small catalogue of its own, with products that no data set uses.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Catalog, Dealer, Product
from core.nlu import understand
from core.nlu.budget import price_cap
from core.nlu.normalize import tokenize
from core.understanding import Intent


def _p(pid: str, name: str, price: str = "1", tags: tuple[str, ...] = ()) -> Product:
    return Product(id=pid, dealer_id="d", name=name, price=Decimal(price), stock=9, tags=tags)


CATALOG = Catalog.of(
    [Dealer(id="d", name="Bottega", category="grocery", phone="+390000000")],
    [
        _p("gnocchi", "Gnocchi di patate 500 g", "2.40", tags=("pasta",)),
        _p("ricotta", "Ricotta fresca 250 g", "2.10", tags=("formaggio",)),
        _p("pecorino", "Pecorino romano 300 g", "6.90", tags=("formaggio",)),
        _p("balsamo", "Balsamo per capelli 200 ml", "4.50"),
        _p("candela", "Candela profumata alla vaniglia", "12", tags=("regalo",)),
        _p("crema-corpo", "Crema corpo idratante 400 ml", "9.80", tags=("pelle secca",)),
    ],
)


def _read(text: str) -> tuple[Intent, dict[str, int]]:
    result = understand(text, CATALOG)
    return result.intent, {line.product_id: line.quantity for line in result.cart}


def _asked(text: str) -> tuple[Intent, list[str]]:
    result = understand(text, CATALOG)
    return result.intent, [hit.product_id for hit in result.products]


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("un chilo e mezzo di gnocchi", {"gnocchi": 3}),
        ("1 kg e mezzo di gnocchi", {"gnocchi": 3}),
        ("mezzo chilo di ricotta", {"ricotta": 2}),
    ],
)
def test_half_a_unit_said_before_or_after_it(text: str, cart: dict[str, int]) -> None:
    """``un chilo e mezzo`` of a 500 g pack is three packs, ``mezzo chilo`` of a 250 g one two."""
    assert _read(text) == (Intent.ORDER_REQUEST, cart)


def test_x_before_a_count_of_people_is_for_whom() -> None:
    """``gnocchi x 6 persone, diciamo 3 pacchi``: six people eat, three packs are ordered."""
    assert "per" in tokenize("gnocchi x 6 persone")
    assert tokenize("gnocchi x 3") == ("gnocchi", "x", "3")
    assert _read("gnocchi x 6 persone, diciamo 3 pacchi") == (Intent.ORDER_REQUEST, {"gnocchi": 3})


def test_eh_niente_is_a_filler_not_an_exclusion() -> None:
    """``eh niente volevo ordinare ...``: "well then", not "nothing"; ``niente pecorino``
    still leaves the cheese out."""
    text = "eh niente volevo ordinare la ricotta e il pecorino"
    assert _read(text) == (Intent.ORDER_REQUEST, {"ricotta": 1, "pecorino": 1})
    assert _read("niente pecorino, solo la ricotta")[1] == {"ricotta": 1}


def test_a_story_told_in_a_relative_clause_keeps_its_lead_wanted() -> None:
    """``il balsamo che il vecchio l ha svuotato mio marito``: the balm is wanted, the story
    is about the old one."""
    text = "mi serve la candela e poi il balsamo che il vecchio l ha svuotato mio marito"
    assert _read(text) == (Intent.ORDER_REQUEST, {"candela": 1, "balsamo": 1})


def test_a_gift_is_what_an_item_is_for_never_an_item() -> None:
    """``2 balsami? uno e un regalo``: two balms; the candle tagged ``regalo`` is not ordered."""
    assert _read("potete portarmi 2 balsami? uno e un regalo") == (
        Intent.ORDER_REQUEST,
        {"balsamo": 2},
    )


def test_praise_for_the_rider_is_chat_and_a_complaint_stays_one() -> None:
    """``il fattorino e stato gentilissimo`` thanks; ``e stato maleducato`` complains."""
    assert understand("il fattorino e stato gentilissimo", CATALOG).intent is Intent.GENERAL_CHAT
    assert understand("il rider e stato bravissimo", CATALOG).intent is Intent.GENERAL_CHAT
    assert understand("il rider e stato maleducato", CATALOG).intent is Intent.SUPPORT_REQUEST


def test_what_one_needs_for_something_is_a_question() -> None:
    """``cosa mi serve per la pelle secca?`` asks what to buy; ``mi serve la crema`` orders."""
    assert _asked("cosa mi serve per la pelle secca?") == (
        Intent.PRODUCT_INQUIRY,
        ["crema-corpo"],
    )
    assert _read("mi serve la crema corpo") == (Intent.ORDER_REQUEST, {"crema-corpo": 1})


def test_delivered_but_the_customer_has_another_need_is_a_complaint() -> None:
    """``mi avete mandato il balsamo ma io sono calvo``: what came does not fit the customer."""
    text = "mi avete mandato il balsamo ma io sono calvo"
    assert understand(text, CATALOG).intent is Intent.SUPPORT_REQUEST


def test_a_request_after_the_question_orders() -> None:
    """``avete la ricotta senza lattosio? allora prendo 2 pecorini``: asked, then ordered."""
    text = "avete la ricotta senza lattosio? allora prendo 2 pecorini"
    assert _read(text) == (Intent.ORDER_REQUEST, {"pecorino": 2})
    assert _read("avete la ricotta senza lattosio? non voglio il pecorino")[0] is (
        Intent.PRODUCT_INQUIRY
    )


@pytest.mark.parametrize(
    ("text", "cap"),
    [
        ("cosa avete sotto i 5 euro?", Decimal(5)),
        ("qualcosa x lei, max 20 euro", Decimal(20)),
        ("meno di 7,50 euro", Decimal("7.50")),
        ("non piu di dieci euro", Decimal(10)),
        ("costa piu di 10 euro?", None),
        ("sotto casa alle 5", None),
    ],
)
def test_a_price_limit_is_a_cap_word_and_an_amount(text: str, cap: Decimal | None) -> None:
    """``sotto i 5 euro``, ``max 20 euro``; ``piu di`` alone and ``sotto casa`` set no limit."""
    assert price_cap(tokenize(text)) == cap


def test_a_price_limit_keeps_the_products_within_it() -> None:
    """A question naming only a price lists what it buys; one naming products keeps those
    within it, and all of them when none is."""
    intent, found = _asked("cosa avete sotto i 5 euro?")
    assert intent is Intent.PRODUCT_INQUIRY
    assert found == ["balsamo", "gnocchi", "ricotta"]  # in stock, the dearest first
    assert _asked("che formaggi avete sotto i 5 euro?")[1] == ["ricotta"]
    assert _asked("avete candele sotto i 5 euro?")[1] == ["candela"]
