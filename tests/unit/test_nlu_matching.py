"""Catalogue matching: typos, plurals, accents, abbreviations, tags and descriptions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Catalog, Dealer, Product
from core.nlu.matching import CatalogIndex, mentions_product, score


def _p(pid: str, name: str, tags: tuple[str, ...] = (), description: str = "") -> Product:
    return Product(
        id=pid,
        dealer_id="d",
        name=name,
        price=Decimal("1.00"),
        stock=5,
        tags=tags,
        description=description,
    )


INDEX = CatalogIndex.build(
    Catalog.of(
        [Dealer(id="d", name="Negozio", category="grocery", phone="+390000000")],
        [
            _p("mozzarella", "Mozzarella di bufala 250 g", ("formaggio",)),
            _p("parmigiano", "Parmigiano Reggiano 200 g", ("formaggio grattugiato",)),
            _p("caffe", "Caffè macinato per moka"),
            _p("shampoo", "Shampoo per cani", (), "Per pelo lungo e corto"),
            _p("rose", "Mazzo di rose rosse", ("fiori",)),
            _p("edp", "Eau de parfum Rosa", ("profumo",)),
            _p("lettiera", "Lettiera agglomerante", ("sabbia",)),
        ],
    )
)


def _best(*words: str) -> str:
    return INDEX.products[score(INDEX, words)[0].index].id


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("mozarella", "mozzarella"),
        ("parmiggiano", "parmigiano"),
        ("letiera", "lettiera"),
        ("shampo", "shampoo"),
    ],
)
def test_typos_match(word: str, expected: str) -> None:
    """One-letter typos still find the product."""
    assert _best(word) == expected


def test_plural_matches_singular_name() -> None:
    """``mozzarelle`` finds ``Mozzarella``."""
    assert _best("mozzarelle") == "mozzarella"


def test_unaccented_word_matches_accented_name() -> None:
    """``caffe`` finds ``Caffè``."""
    assert _best("caffe") == "caffe"


def test_abbreviation_matches_by_prefix() -> None:
    """``parmig`` is short for ``parmigiano``."""
    assert _best("parmig") == "parmigiano"


def test_tag_matches() -> None:
    """A tag word finds its product."""
    assert _best("sabbia") == "lettiera"


def test_exact_word_beats_shared_stem() -> None:
    """``rose`` prefers the roses over the perfume called Rosa."""
    ranked = score(INDEX, ("rose",))
    assert INDEX.products[ranked[0].index].id == "rose"
    assert ranked[1].score < ranked[0].score


def test_name_outranks_description() -> None:
    """Description words count, but less than a name."""
    ranked = score(INDEX, ("shampoo", "lungo"))
    assert INDEX.products[ranked[0].index].id == "shampoo"
    assert score(INDEX, ("lungo",))[0].score < 0.5


def test_unknown_words_do_not_match() -> None:
    """Words the catalogue never uses give no results."""
    assert score(INDEX, ("astronave",)) == []


def test_short_words_are_not_fuzzed() -> None:
    """Three-letter stems never match by similarity alone."""
    assert INDEX.resolve("sab") == ()


def test_description_alone_is_not_a_mention() -> None:
    """Only names and tags count as mentioning a product."""
    assert not mentions_product(INDEX, ("lungo",))
    assert mentions_product(INDEX, ("mozzarella",))


SAUCES = CatalogIndex.build(
    Catalog.of(
        [Dealer(id="d", name="Negozio", category="grocery", phone="+390000000")],
        [
            _p("passata", "Passata di pomodoro 700 g"),
            _p("pasta", "Spaghetti di pasta 500 g"),
        ],
    )
)


@pytest.mark.parametrize(("word", "expected"), [("pasate", "passata"), ("pasata", "passata")])
def test_a_misspelt_word_with_a_stem_too_short_to_compare_still_matches(
    word: str, expected: str
) -> None:
    """``pasate`` stems to ``pas``, too short to fuzz: its singular is compared with the
    catalogue's own words instead, strictly, and finds the passata (not the pasta)."""
    assert SAUCES.products[score(SAUCES, (word,))[0].index].id == expected


@pytest.mark.parametrize("word", ["potete", "volete", "sapete", "pagate", "parate"])
def test_verbs_with_short_stems_stay_unknown(word: str) -> None:
    """Verbs whose stems come out short are not pulled towards a product."""
    assert SAUCES.resolve(word) == ()
