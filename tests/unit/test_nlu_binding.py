"""Quantity binding and exclusions in carts, on a small catalogue of its own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Catalog, Dealer, Product
from core.nlu import understand
from core.understanding import Intent


def _p(pid: str, name: str, tags: tuple[str, ...] = (), aliases: tuple[str, ...] = ()) -> Product:
    return Product(
        id=pid, dealer_id="d", name=name, price=Decimal(1), stock=9, tags=tags, aliases=aliases
    )


CATALOG = Catalog.of(
    [Dealer(id="d", name="Bottega", category="grocery", phone="+390000000")],
    [
        _p("miele", "Miele di acacia 250 g"),
        _p("zucchero", "Zucchero semolato 1 kg"),
        _p("biscotti", "Biscotti al burro 350 g", tags=("frollini",)),
        _p("ciotola", "Ciotola in acciaio per cane", tags=("ciotole",)),
        _p("pappa-cane", "Crocchette per cane 2 kg"),
        _p("pappa-gatto", "Crocchette per gatto 2 kg"),
        _p("sapone", "Sapone liquido 500 ml"),
        _p("uova", "Uova bio 6 pezzi"),
        _p("aspirina", "Acido acetilsalicilico 20 compresse", aliases=("aspirina",)),
        _p("bustine", "Cibo umido per gatto 12 buste", tags=("bustine",)),
    ],
)


def _cart(text: str) -> dict[str, int]:
    result = understand(text, CATALOG)
    assert result.intent is Intent.ORDER_REQUEST, result
    return {line.product_id: line.quantity for line in result.cart}


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("miele, mandamene due", {"miele": 2}),
        ("me ne dai tre di zucchero?", {"zucchero": 3}),
        ("ci metti pure due miele?", {"miele": 2}),
        ("dei biscotti me ne porti quattro pacchi?", {"biscotti": 4}),
        ("zucchero, diciamo 3", {"zucchero": 3}),
        ("tre o quattro saponi", {"sapone": 3}),
        ("2-3 vasetti di miele", {"miele": 2}),
        ("unpaio di saponi", {"sapone": 2}),
        ("3miele e 2x zucchero", {"miele": 3, "zucchero": 2}),
        ("crocchette x i miei due gatti, 4 sacchi", {"pappa-gatto": 4}),
        ("una ciotola x ciascun cane", {"ciotola": 1}),
        ("2 saponi, uno x me e uno x mia sorella", {"sapone": 2}),
        ("il miele portamelo entro le 11", {"miele": 1}),
        ("un sapone, quello da 500 ml", {"sapone": 1}),
        ("diciotto uova", {"uova": 3}),
        ("2 bustine x il gatto", {"bustine": 2}),
        ("aspirina x2", {"aspirina": 2}),
        ("x il gatto: crocchette 2 sacchi", {"pappa-gatto": 2}),
        ("4 mieli... anzi 2", {"miele": 2}),
        ("2 saponi, anzi no, un vasetto di miele", {"miele": 1}),
    ],
)
def test_quantities_bind_as_a_reader_binds_them(text: str, cart: dict[str, int]) -> None:
    """Pronoun forms, ranges, glued digits, ``per`` phrases, times and packs."""
    assert _cart(text) == cart


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        ("miele e biscotti ma niente zucchero", {"miele": 1, "biscotti": 1}),
        ("il sapone, senza la ciotola che ce l ho", {"sapone": 1}),
        ("2 mieli, lo zucchero no che ne ho gia tre", {"miele": 2}),
        ("portami i biscotti, il miele invece non serve", {"biscotti": 1}),
        ("non ho piu zucchero, mandamene 2", {"zucchero": 2}),
        ("il cane ha rotto la ciotola, me ne porti una nuova?", {"ciotola": 1}),
        ("mi mandi miele e zucchero? lo zucchero no", {"miele": 1}),
        ("sapone, biscotti e miele, tranne i biscotti", {"sapone": 1, "miele": 1}),
        ("2 mieli ma senza la scatola frollini", {"miele": 2}),
    ],
)
def test_excluded_and_told_products_stay_out_of_the_cart(text: str, cart: dict[str, int]) -> None:
    """Excluded products are not added; a story names the product a request then binds to."""
    assert _cart(text) == cart


def test_excluded_product_adds_no_unresolved_item() -> None:
    """Nothing is asked about a product the customer refused."""
    result = understand("miele ma senza biscotti", CATALOG)
    assert result.unresolved == ()


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        # its own "per" phrase: the packaging names another product (a tag), not a count
        (
            "crocchette per il cane e un paio di bustine per il gatto",
            {"pappa-cane": 1, "bustine": 2},
        ),
        ("2 kg di crocchette x il cane e 3 bustine x il gatto", {"pappa-cane": 1, "bustine": 3}),
        # no phrase of its own, or the same one: the count is the item before's
        ("del miele, 2 vasetti", {"miele": 2}),
        ("x il cane: crocchette 2 sacchi", {"pappa-cane": 2}),
    ],
)
def test_a_count_with_packaging_and_its_own_purpose_is_another_product(
    text: str, cart: dict[str, int]
) -> None:
    assert _cart(text) == cart
