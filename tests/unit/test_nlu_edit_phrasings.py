"""Cart edits as people type them: scaling a line in words, a replacement named by
``quelle per gatto``, cancels that look like a removal (pure)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from core.catalog import Catalog, parse_catalog
from core.nlu import index_for
from core.nlu.answers import Answer, read_answer
from core.nlu.edit_scale import scaled
from core.nlu.edits import read_edits
from events.conversation import UnderstoodLine

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"
CATALOG: Catalog = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))


def ops(text: str, **cart: int) -> list[tuple[str, str | None, int | None]]:
    """The operations read from ``text`` on a cart of ``p-<name>: quantity``."""
    lines = tuple(
        UnderstoodLine(product_id="p-" + k.replace("_", "-"), quantity=q) for k, q in cart.items()
    )
    reading = read_edits(text, index_for(CATALOG), lines)
    assert reading is not None, text
    return [(o.op.value, o.product_id, o.quantity) for o in reading.operations]


@pytest.mark.parametrize(
    ("text", "cart", "expected"),
    [
        ("raddoppia le crocchette", {"crocc_cane": 1, "snack_cane": 2},
         [("set", "p-crocc-cane", 2)]),
        ("anzi fai il doppio di latte", {"latte": 2, "pane": 1}, [("set", "p-latte", 4)]),
        ("dimezza l'acqua x favore", {"acqua": 4, "caffe": 2}, [("set", "p-acqua", 2)]),
        ("delle passate mettine la metà", {"passata": 6, "olio": 1}, [("set", "p-passata", 3)]),
        ("le uova dimezzale", {"uova": 4, "pane": 1}, [("set", "p-uova", 2)]),
        ("triplica", {"pane": 2}, [("set", "p-pane", 6)]),
        ("togli il pane e raddoppia l'acqua", {"acqua": 3, "pane": 1},
         [("remove", "p-pane", None), ("set", "p-acqua", 6)]),
    ],
)  # fmt: skip
def test_a_line_is_scaled_by_the_word_said(
    text: str, cart: dict[str, int], expected: list[tuple[str, str | None, int | None]]
) -> None:
    """``raddoppia``, ``il doppio``, ``dimezza``, ``la metà`` set a multiple of the line."""
    assert ops(text, **cart) == expected


def test_half_of_an_odd_count_rounds_down_and_never_to_zero() -> None:
    """Half of three is one; half of one stays one."""
    assert scaled(3, Fraction(1, 2)) == 1
    assert scaled(1, Fraction(1, 2)) == 1


def test_scaling_every_line_needs_tutto_or_a_one_line_cart() -> None:
    """``raddoppia tutto`` scales every line; ``raddoppia`` on two lines naming none is no edit."""
    two = (
        UnderstoodLine(product_id="p-pane", quantity=1),
        UnderstoodLine(product_id="p-latte", quantity=1),
    )
    everything = read_edits("raddoppia tutto", index_for(CATALOG), two)
    assert everything is not None
    assert [o.quantity for o in everything.operations] == [2, 2]
    assert read_edits("raddoppia", index_for(CATALOG), two) is None


def test_a_cancel_is_not_a_removal_of_unknown_words() -> None:
    """Words that name no line, in a message that cancels, leave it to the cancel; a removal
    of a product not in the cart (``togli il parmigiano``) is still reported."""
    cart = (UnderstoodLine(product_id="p-crema-mani", quantity=1),)
    for text in ("niente ci ho ripensato", "guarda lascia perdere nn mi serve piu"):
        assert read_edits(text, index_for(CATALOG), cart) is None, text
    reading = read_edits("togli il parmigiano", index_for(CATALOG), cart)
    assert reading is not None
    assert reading.missing == ("parmigiano",)


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        ("al posto delle crocchette per cane metti quelle per gatto", "p-crocc-cane",
         "p-crocc-gatto"),
        ("invece delle crocchette del gatto mettimi quelle del cane", "p-crocc-gatto",
         "p-crocc-cane"),
    ],
)  # fmt: skip
def test_a_replacement_named_by_quello_is_of_the_same_kind(text: str, old: str, new: str) -> None:
    """``metti quelle per gatto`` in place of the dog's kibble is the cat's kibble."""
    lines = (
        UnderstoodLine(product_id=old, quantity=1),
        UnderstoodLine(product_id="p-lettiera", quantity=1),
    )
    reading = read_edits(text, index_for(CATALOG), lines)
    assert reading is not None
    assert [(o.op.value, o.product_id, o.replacement_id) for o in reading.operations] == [
        ("replace", old, new)
    ]


@pytest.mark.parametrize(
    ("text", "answer"),
    [("vabbè dai mandalo così", Answer.CONFIRM), ("vabbe ok", Answer.CONFIRM),
     ("dai spediscimelo", Answer.CONFIRM), ("vabbè lascia stare", Answer.CANCEL),
     ("vabbè dai", Answer.OTHER)],
)  # fmt: skip
def test_a_yes_after_several_openers_confirms(text: str, answer: Answer) -> None:
    """``vabbè dai`` only stresses the yes that follows; alone it says nothing."""
    assert read_answer(text) is answer


@pytest.mark.parametrize(
    ("text", "cart", "expected"),
    [
        ("no aspetta rimettili a 2", {"termometro": 4}, [("set", "p-termometro", 2)]),
        ("togline una", {"mozzarella": 3}, [("remove", "p-mozzarella", 1)]),
        ("cmq togli pure il deo", {"deodorante": 1, "crema_mani": 1},
         [("remove", "p-deodorante", None)]),
        ("togli anche il pane", {"pane": 1, "latte": 1}, [("remove", "p-pane", None)]),
    ],
)  # fmt: skip
def test_verbs_said_the_way_people_type_them(
    text: str, cart: dict[str, int], expected: list[tuple[str, str | None, int | None]]
) -> None:
    """``rimettili a 2`` sets back, ``togline una`` on a one-line cart takes one away, and
    ``pure``/``anche`` right after a verb are its adverb, not a new addition."""
    assert ops(text, **cart) == expected


@pytest.mark.parametrize(
    ("text", "cart", "expected"),
    [
        ("togli il latte e anche il pane", {"latte": 1, "pane": 1, "olio": 1},
         [("remove", "p-latte", None), ("remove", "p-pane", None)]),
        ("togli le crocchette, anche un guinzaglio", {"crocc_cane": 1},
         [("remove", "p-crocc-cane", None), ("add", "p-guinzaglio", 1)]),
        ("metti 3 mozzarelle al posto di 2", {"mozzarella": 2, "parmigiano": 1},
         [("set", "p-mozzarella", 3)]),
    ],
)  # fmt: skip
def test_also_and_al_posto_di_read_by_what_follows(
    text: str, cart: dict[str, int], expected: list[tuple[str, str | None, int | None]]
) -> None:
    """``e anche il pane`` after a removal (a definite article: a line already there) goes on
    removing, ``anche un guinzaglio`` adds; ``al posto di 2`` names the old quantity."""
    assert ops(text, **cart) == expected


@pytest.mark.parametrize(
    ("text", "answer"),
    [("okok grazie mille", Answer.CONFIRM), ("sisisi", Answer.CONFIRM),
     ("nono annulla", Answer.CANCEL), ("nono", Answer.UNCLEAR)],
)  # fmt: skip
def test_a_repeated_yes_or_no_reads_as_one(text: str, answer: Answer) -> None:
    """``okok``, ``sisisi``, ``nono``: a word typed twice over means it once."""
    assert read_answer(text) is answer


def test_a_number_before_the_replaced_product_is_part_of_it() -> None:
    """``al posto dei 2 latte mettimi 1 olio``: a replacement, not "set to 2"."""
    assert ops("al posto dei 2 latte mettimi 1 olio evo", latte=2, pane=2) == [
        ("replace", "p-latte", 1)
    ]
    assert ops("invece dei 2 latte mettimi 1 olio evo", latte=2, pane=2) == [
        ("replace", "p-latte", 1)
    ]
