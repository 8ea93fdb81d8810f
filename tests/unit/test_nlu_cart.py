"""Cart extraction: items, quantities, sizes, packaging and ambiguity."""

from __future__ import annotations

from decimal import Decimal

from core.catalog import Catalog, Dealer, Product
from core.nlu import understand
from core.understanding import Intent


def _p(pid: str, name: str, tags: tuple[str, ...] = ()) -> Product:
    return Product(id=pid, dealer_id="d", name=name, price=Decimal("1.00"), stock=5, tags=tags)


CATALOG = Catalog.of(
    [Dealer(id="d", name="Negozio", category="grocery", phone="+390000000")],
    [
        _p("rose", "Mazzo di 12 rose rosse", ("fiori",)),
        _p("tulipani", "Tulipani gialli", ("fiori",)),
        _p("uova", "Uova fresche 6 pezzi"),
        _p("spaghetti", "Spaghetti 500 g", ("pasta",)),
        _p("crocc-cane", "Crocchette per cane 3 kg"),
        _p("crocc-gatto", "Crocchette per gatto 1,5 kg"),
        _p("acqua", "Acqua naturale 6 x 1,5 L"),
        _p("umido", "Bocconcini umidi per gatto 4x85 g"),
        _p("paracetamolo", "Paracetamolo 500 mg", ("tachipirina",)),
    ],
)


def _cart(text: str) -> dict[str, int]:
    result = understand(text, CATALOG)
    assert result.intent is Intent.ORDER_REQUEST
    return {line.product_id: line.quantity for line in result.cart}


def test_items_split_on_commas_and_e() -> None:
    """Commas and ``e`` separate items, each with its quantity."""
    assert _cart("vorrei 2 spaghetti, 3 uova e un'acqua") == {
        "spaghetti": 2,
        "uova": 3,
        "acqua": 1,
    }


def test_items_split_on_piu_and_poi() -> None:
    """``più`` and ``poi`` also separate items."""
    assert _cart("vorrei 2 spaghetti più una acqua poi tre uova") == {
        "spaghetti": 2,
        "acqua": 1,
        "uova": 3,
    }


def test_number_word_quantity() -> None:
    """Number words are quantities."""
    assert _cart("ordino quattro spaghetti") == {"spaghetti": 4}


def test_number_in_product_name_is_not_a_quantity() -> None:
    """``12 rose rosse`` is one bunch of twelve."""
    assert _cart("mi servono 12 rose rosse") == {"rose": 1}


def test_sei_uova_is_one_six_pack() -> None:
    """``sei uova`` names the six-pack."""
    assert _cart("prendo sei uova") == {"uova": 1}


def test_dozzina_counts_packs() -> None:
    """Twelve eggs are two packs of six."""
    assert _cart("vorrei una dozzina di uova") == {"uova": 2}


def test_packaging_count_is_the_quantity() -> None:
    """``3 pacchi di spaghetti`` orders three, and ``pacchi`` is not matched."""
    assert _cart("vorrei 3 pacchi di spaghetti") == {"spaghetti": 3}


def test_packaging_count_is_not_divided_by_pack_size() -> None:
    """``12 confezioni di uova`` is twelve packs, not two."""
    assert _cart("vorrei 12 confezioni di uova") == {"uova": 12}


def test_size_is_not_a_quantity() -> None:
    """``3 kg`` picks the size and leaves the quantity at one."""
    assert _cart("vorrei le crocchette 3 kg") == {"crocc-cane": 1}


def test_decimal_size_picks_the_variant() -> None:
    """``1,5 kg`` tells the cat food from the dog food."""
    assert _cart("vorrei 2 crocchette da 1,5 kg") == {"crocc-gatto": 2}


def test_multiplied_size_in_name_is_not_a_quantity() -> None:
    """``4x85 g`` said back by the customer is a size, the leading number the quantity."""
    assert _cart("ordino 3 bocconcini umidi 4x85 g") == {"umido": 3}


def test_trailing_x_quantity() -> None:
    """``spaghetti x3`` orders three."""
    assert _cart("vorrei spaghetti x3") == {"spaghetti": 3}


def test_same_product_twice_adds_up() -> None:
    """Repeated items are merged into one line."""
    assert _cart("vorrei 2 spaghetti e 1 spaghetti") == {"spaghetti": 3}


def test_ambiguous_item_is_unresolved_with_candidates() -> None:
    """``crocchette`` fits dog and cat food: ask, never guess."""
    result = understand("vorrei ordinare delle crocchette", CATALOG)
    assert result.cart == ()
    assert [(u.text, set(u.candidates)) for u in result.unresolved] == [
        ("crocchette", {"crocc-cane", "crocc-gatto"})
    ]


def test_unknown_item_is_unresolved_without_candidates() -> None:
    """A product the shop does not sell is reported with its quantity."""
    result = understand("vorrei 2 pizze", CATALOG)
    assert [(u.text, u.quantity, u.candidates) for u in result.unresolved] == [("pizze", 2, ())]


def test_resolved_and_unresolved_items_coexist() -> None:
    """One clear item is carted while the unclear one is asked about."""
    result = understand("vorrei 2 spaghetti e dei fiori", CATALOG)
    assert [(c.product_id, c.quantity) for c in result.cart] == [("spaghetti", 2)]
    assert {c for u in result.unresolved for c in u.candidates} == {"rose", "tulipani"}


def test_tag_names_a_product() -> None:
    """A tag such as a brand name is enough to match."""
    assert _cart("vorrei la tachipirina") == {"paracetamolo": 1}


def test_amount_in_units_of_the_product_size_counts_packs() -> None:
    """``1 kg di spaghetti`` is two 500 g packs."""
    assert _cart("vorrei 1 kg di spaghetti") == {"spaghetti": 2}


def test_amount_is_not_divided_for_multipacks() -> None:
    """``3 litri di acqua`` does not split a pack of six bottles."""
    assert _cart("vorrei 3 litri di acqua") == {"acqua": 1}
