"""Single messages as people type them (held-out set of session 7), read as a shop would.

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
    [Dealer(id="d", name="Emporio", category="grocery", phone="+390000000")],
    [
        _p("magnesio", "Magnesio 375 mg 20 bustine"),
        _p("crema-viso", "Crema viso SPF 30 50 ml"),
        _p("sapone", "Sapone liquido 500 ml"),
        _p("balsamo", "Balsamo per capelli 200 ml"),
        _p("pecorino", "Pecorino romano 300 g", tags=("formaggio",)),
        _p("ricotta", "Ricotta fresca 250 g", tags=("formaggio",)),
        _p("gnocchi", "Gnocchi di patate 500 g", tags=("pasta",)),
        _p("candela", "Candela profumata alla vaniglia", tags=("regalo",)),
        _p("diffusore", "Diffusore di essenze per ambienti"),
        _p("taglio", "Taglio capelli uomo", tags=("barbiere",)),
        _p("profumo-donna", "Profumo donna fiori bianchi 50 ml"),
    ],
)


def _read(text: str) -> tuple[Intent, dict[str, int]]:
    result = understand(text, CATALOG)
    return result.intent, {line.product_id: line.quantity for line in result.cart}


def test_x_before_an_article_or_courtesy_word_reads_per() -> None:
    """``50 x i bimbi``, ``375 x favore``: nobody multiplies by an article."""
    assert tokenize("spf 50 x i bimbi") == ("spf", "50", "per", "i", "bimbi")
    assert tokenize("magnesio 375 x favore") == ("magnesio", "375", "per", "favore")
    assert tokenize("2 x sapone") == ("2", "x", "sapone")


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("magnesio 375 x favore due scatole", {"magnesio": 2}),
        ("crema viso spf 30 x la mamma, 3 pz", {"crema-viso": 3}),
    ],
)
def test_a_number_printed_in_the_name_then_a_count_of_packs(
    text: str, cart: dict[str, int]
) -> None:
    """The first number names the product (375 mg, SPF 30); the packs are the quantity."""
    assert _read(text) == (Intent.ORDER_REQUEST, cart)


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("magnesio 375 grazie", {"magnesio": 1}),
        ("mi porti il sapone 500 e 2 balsami", {"sapone": 1, "balsamo": 2}),
        ("magnesio 375, balsamo 3", {"magnesio": 1, "balsamo": 3}),
    ],
)
def test_a_number_printed_with_a_small_unit_names_the_product(
    text: str, cart: dict[str, int]
) -> None:
    """``magnesio 375`` is the 375 mg one, not 375 boxes; a small number stays a count."""
    assert _read(text) == (Intent.ORDER_REQUEST, cart)


def test_a_tie_is_settled_among_the_items_own_products_only() -> None:
    """``formaggio per la pasta``: the pasta says what the cheese is for, it is not ordered."""
    result = understand("vorrei del formaggio x la pasta", CATALOG)
    assert result.cart == ()
    assert {c for u in result.unresolved for c in u.candidates} == {"pecorino", "ricotta"}


def test_a_word_after_an_object_pronoun_is_a_verb() -> None:
    """``lo regalo a mia sorella``: I give it, not the product tagged ``regalo``."""
    text = "mi mandi il diffusore? lo regalo a mia sorella"
    assert _read(text) == (Intent.ORDER_REQUEST, {"diffusore": 1})


def test_booking_with_a_pronoun_is_an_order() -> None:
    """``mi prenoti un taglio?`` books the service: an order, not a question."""
    assert _read("mi prenoti un taglio x sabato?") == (Intent.ORDER_REQUEST, {"taglio": 1})


def test_sia_che_lists_both_products() -> None:
    """``sia il sapone che il balsamo``: one of each."""
    assert _read("prendo sia il sapone che il balsamo") == (
        Intent.ORDER_REQUEST,
        {"sapone": 1, "balsamo": 1},
    )


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("3 saponi anzi fanne 4", {"sapone": 4}),
        ("il balsamo, prendine 2", {"balsamo": 2}),
    ],
)
def test_an_imperative_with_ne_gives_the_number(text: str, cart: dict[str, int]) -> None:
    """``fanne 4``, ``prendine 2``: the verb is no product, its number binds."""
    assert _read(text) == (Intent.ORDER_REQUEST, cart)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("la candela quanto dura? serve un piattino?", Intent.PRODUCT_INQUIRY),
        ("mi avete mandato la ricotta ma io avevo scelto il pecorino", Intent.SUPPORT_REQUEST),
        ("mi avete portato i gnocchi ma io li avevo ordinati viola", Intent.SUPPORT_REQUEST),
        ("mamma mia che freddo stamattina", Intent.GENERAL_CHAT),
        ("accettate i buoni pasto?", Intent.GENERAL_CHAT),
    ],
)
def test_intent_of_questions_contrasts_and_set_phrases(text: str, intent: Intent) -> None:
    """``serve ...?`` asks; ``ma io avevo chiesto`` complains; ``mamma mia``, ``buoni pasto``."""
    assert understand(text, CATALOG).intent is intent
