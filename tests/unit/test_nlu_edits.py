"""Reading cart edits, short answers and typed choices from Italian (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import choices
from core.catalog import Catalog, parse_catalog
from core.nlu import index_for
from core.nlu.answers import Answer, Merge, read_answer, read_merge
from core.nlu.edits import bad_quantity, read_edits
from core.typed_choice import read_typed, typed_quantity
from events.conversation import UnderstoodLine, UnresolvedLine

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"
CATALOG: Catalog = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))


def cart(*ids: str) -> tuple[UnderstoodLine, ...]:
    """A cart with two of each product."""
    return tuple(UnderstoodLine(product_id=pid, quantity=2) for pid in ids)


def ops(text: str, *in_cart: str) -> list[tuple[str, str | None, int | None, str | None]]:
    """The operations read from ``text`` on a cart of ``in_cart``."""
    reading = read_edits(text, index_for(CATALOG), cart(*in_cart))
    assert reading is not None, text
    return [(o.op.value, o.product_id, o.quantity, o.replacement_id) for o in reading.operations]


@pytest.mark.parametrize(
    ("text", "in_cart", "expected"),
    [
        ("aggiungimi anche 2 spaghetti", ("p-latte",), [("add", "p-spaghetti", 2, None)]),
        ("e pure un deodorante", ("p-latte",), [("add", "p-deodorante", 1, None)]),
        ("levami il guinzaglio", ("p-guinzaglio", "p-lettiera"),
         [("remove", "p-guinzaglio", None, None)]),
        ("elimina una lettiera", ("p-guinzaglio", "p-lettiera"),
         [("remove", "p-lettiera", 1, None)]),
        ("non mi serve più il termometro", ("p-termometro", "p-cerotti"),
         [("remove", "p-termometro", None, None)]),
        ("i cerotti portali a 5", ("p-termometro", "p-cerotti"), [("set", "p-cerotti", 5, None)]),
        ("facciamo 4 caffè", ("p-caffe", "p-acqua"), [("set", "p-caffe", 4, None)]),
        ("metti 1 olio invece di 2", ("p-olio", "p-pane"), [("set", "p-olio", 1, None)]),
        ("un'altra pianta grassa", ("p-pianta-grassa",), [("add", "p-pianta-grassa", 1, None)]),
        ("due uova in più", ("p-uova", "p-latte"), [("add", "p-uova", 2, None)]),
        ("una rosa in meno", ("p-rose", "p-orchidea"), [("remove", "p-rose", 1, None)]),
        ("sostituisci la crema mani col deodorante", ("p-crema-mani",),
         [("replace", "p-crema-mani", None, "p-deodorante")]),
        ("invece dell'orchidea mettimi il mazzo misto", ("p-orchidea",),
         [("replace", "p-orchidea", None, "p-mazzo-misto")]),
        ("butta via tutto, togli tutto", ("p-uova",), [("clear", None, None, None)]),
        ("nn voglio più la passata", ("p-passata", "p-uova"),
         [("remove", "p-passata", None, None)]),
        ("via le uova", ("p-passata", "p-uova"), [("remove", "p-uova", None, None)]),
        ("e poi un caffè", ("p-uova",), [("add", "p-caffe", 1, None)]),
        ("ancora 2 uova", ("p-uova",), [("add", "p-uova", 2, None)]),
        ("le uova falle diventare 6", ("p-uova", "p-pane"), [("set", "p-uova", 6, None)]),
        ("agiungi un pane", ("p-uova",), [("add", "p-pane", 1, None)]),
        ("elimna le uova", ("p-uova", "p-pane"), [("remove", "p-uova", None, None)]),
        ("le uova non le voglio più", ("p-uova", "p-pane"), [("remove", "p-uova", None, None)]),
        ("inserisci 2 caffè", ("p-uova",), [("add", "p-caffe", 2, None)]),
        ("cambia la quantità delle uova a 4", ("p-uova", "p-pane"), [("set", "p-uova", 4, None)]),
        ("azzera e mettimi 3 passate", ("p-uova",),
         [("clear", None, None, None), ("add", "p-passata", 3, None)]),
        ("dell'olio ne voglio 3", ("p-olio", "p-pane"), [("set", "p-olio", 3, None)]),
        ("me ne servono 4 di pane", ("p-olio", "p-pane"), [("set", "p-pane", 4, None)]),
        ("aggiungine un altro", ("p-cerotti",), [("add", "p-cerotti", 1, None)]),
        ("aggiungine 3", ("p-cerotti",), [("add", "p-cerotti", 3, None)]),
        ("mettine altri due", ("p-pane",), [("add", "p-pane", 2, None)]),
        ("mettine 3", ("p-pane",), [("set", "p-pane", 3, None)]),
        ("no aspetta le uova ne basta una", ("p-latte", "p-uova"), [("set", "p-uova", 1, None)]),
        ("aggiungi altri 2 pani", ("p-olio", "p-pane"), [("add", "p-pane", 2, None)]),
    ],
)  # fmt: skip
def test_edits_are_read_as_operations(
    text: str,
    in_cart: tuple[str, ...],
    expected: list[tuple[str, str | None, int | None, str | None]],
) -> None:
    """Italian edit phrasings become the operations a shop assistant would do."""
    assert ops(text, *in_cart) == expected


@pytest.mark.parametrize(
    "text",
    ["vorrei 2 mozzarelle", "a che ora aprite?", "crocchette senza glutine", "ok",
     "via Dante 7, Milano", "e quanto costa la consegna?"],
)  # fmt: skip
def test_messages_without_edit_words_are_not_edits(text: str) -> None:
    """A new order, a question or ``senza`` inside an item are not cart edits."""
    assert read_edits(text, index_for(CATALOG), cart("p-latte")) is None


def test_a_product_not_in_the_cart_is_reported_missing() -> None:
    """``togli la pizza``: nothing to remove, the words are reported, no operation."""
    reading = read_edits("togli il parmigiano", index_for(CATALOG), cart("p-latte"))
    assert reading is not None
    assert reading.operations == ()
    assert reading.missing == ("parmigiano",)


@pytest.mark.parametrize(("text", "more"), [("aggiungine un altro", 1), ("mettine altri due", 2),
                                            ("uno in più", 1)])  # fmt: skip
def test_more_of_an_unnamed_line_of_several_is_asked(text: str, more: int) -> None:
    """``aggiungine un altro`` on a cart of bread and oil: more of which? The cart's lines
    are the choices (the quantity kept), never a guess and never "non ho capito"."""
    reading = read_edits(text, index_for(CATALOG), cart("p-pane", "p-olio"))
    assert reading is not None
    assert reading.operations == ()
    [asked] = reading.unresolved
    assert (asked.quantity, asked.candidates) == (more, ("p-pane", "p-olio"))
    line = UnresolvedLine(text=asked.text, quantity=more, candidates=asked.candidates)
    assert f"vuoi aggiungerne {'uno' if more == 1 else more} in più?" in choices.question(line)


def test_an_ambiguous_addition_is_left_to_a_choice() -> None:
    """``aggiungi delle crocchette``: two candidates, so a choice, not a guess."""
    reading = read_edits("aggiungi delle crocchette", index_for(CATALOG), cart("p-latte"))
    assert reading is not None
    assert [x.text for x in reading.unresolved] == ["crocchette"]


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("aggiungi 5000 cerotti", "too_many"),
        ("metti 0 uova", "zero"),
        ("aggiungi -3 uova", "negative"),
    ],
)
def test_bad_quantities_are_flagged(text: str, bad: str) -> None:
    """Too many, zero and negative quantities are told apart."""
    reading = read_edits(text, index_for(CATALOG), cart("p-uova"))
    assert reading is not None
    assert reading.bad_quantity == bad


def test_bad_quantities_in_a_new_order() -> None:
    """A first order asking for zero or a negative number is flagged; a normal one is not."""
    assert bad_quantity("vorrei 0 mozzarelle") == "zero"
    assert bad_quantity("vorrei -2 mozzarelle") == "negative"
    assert bad_quantity("vorrei 10.000 mascherine") == "too_many"
    assert bad_quantity("vorrei 2 mozzarelle e un latte") is None
    assert bad_quantity("vorrei 2 confezioni di acqua da 1,5 l e 1 kg di pane") is None


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Sì sì, procediamo", Answer.CONFIRM), ("okay va benissimo grazie", Answer.CONFIRM),
        ("esatto", Answer.CONFIRM), ("d'accordo", Answer.CONFIRM), ("Confermato!", Answer.CONFIRM),
        ("annullate tutto per favore", Answer.CANCEL), ("lasciamo stare", Answer.CANCEL),
        ("no grazie", Answer.CANCEL), ("ci ho ripensato, non lo voglio più", Answer.CANCEL),
        ("sì, anzi no, lascia perdere", Answer.CANCEL), ("vorrei modificare", Answer.MODIFY),
        ("mah", Answer.UNCLEAR), ("no", Answer.UNCLEAR), ("forse", Answer.UNCLEAR),
        ("ok ma quanto costa la consegna?", Answer.OTHER), ("a che ora chiudete", Answer.OTHER),
        ("va bn", Answer.CONFIRM), ("\N{THUMBS UP SIGN}", Answer.CONFIRM),
        ("nn mi serve più", Answer.CANCEL), ("no non lo voglio", Answer.CANCEL),
        ("confemo", Answer.CONFIRM), ("perfeto grazie", Answer.CONFIRM),
        ("anulla", Answer.CANCEL), ("è stato inviato?", Answer.OTHER),
        ("ma sì, confermo", Answer.CONFIRM), ("beh ok grazie", Answer.CONFIRM),
        ("basta così grazie", Answer.CONFIRM), ("siamo a posto così", Answer.CONFIRM),
        ("ma aspetta", Answer.OTHER), ("basta", Answer.OTHER),
        ("vabbene", Answer.CONFIRM), ("okei grazie", Answer.CONFIRM),
    ],
)  # fmt: skip
def test_short_answers(text: str, answer: Answer) -> None:
    """Yes, cancel (which wins over yes), modify, unclear, or not an answer at all."""
    assert read_answer(text) is answer


def test_add_or_start_over_answers() -> None:
    """``aggiungili`` adds, ``meglio un carrello nuovo`` starts over, ``boh`` is neither."""
    assert read_merge("sì aggiungili pure") is Merge.ADD
    assert read_merge("meglio un carrello nuovo") is Merge.NEW
    assert read_merge("boh") is Merge.OTHER


PERFUMES = UnresolvedLine(
    text="profumi", quantity=2, candidates=("p-profumo-uomo", "p-edp-rosa", "p-edt-agrumi")
)


@pytest.mark.parametrize(
    ("text", "picked"),
    [("il secondo", "p-edp-rosa"), ("l'ultimo", "p-edt-agrumi"), ("per mia moglie", "p-edp-rosa"),
     ("quello agli agrumi", "p-edt-agrumi"), ("per un uomo", "p-profumo-uomo"),
     ("3", "p-edt-agrumi"), ("nessuno", choices.NONE), ("la 2", "p-edp-rosa"),
     ("quello più economico", "p-edt-agrumi"), ("il più caro", "p-profumo-uomo")],
)  # fmt: skip
def test_a_typed_answer_picks_a_row(text: str, picked: str) -> None:
    """Ordinals, describing words and product names pick the listed product."""
    assert read_typed(text, PERFUMES, CATALOG) == picked


@pytest.mark.parametrize(
    ("text", "picked", "quantity"),
    [("quello agli agrumi, tre", "p-edt-agrumi", 3), ("agrumi, 2", "p-edt-agrumi", 2),
     ("un paio di quello da uomo", "p-profumo-uomo", 2), ("per mia moglie", "p-edp-rosa", None),
     ("uno agli agrumi", "p-edt-agrumi", None), ("la 2", "p-edp-rosa", None),
     ("2", "p-edp-rosa", None)],
)  # fmt: skip
def test_a_typed_answer_may_say_how_many(text: str, picked: str, quantity: int | None) -> None:
    """A count of two or more typed with the pick overrides the list's; a bare row number
    ("2", "la 2") picks a row and says no count; "uno" keeps the count asked before."""
    assert read_typed(text, PERFUMES, CATALOG) == picked
    assert typed_quantity(text) == quantity


@pytest.mark.parametrize("text", ["vorrei anche due latte e un pane per domani mattina", "profumo"])
def test_a_typed_text_that_picks_nothing_is_left_alone(text: str) -> None:
    """A long new message, or words fitting every row equally, pick nothing."""
    assert read_typed(text, PERFUMES, CATALOG) is None


KIBBLE = UnresolvedLine(text="crocchette", quantity=2, candidates=("p-crocc-cane", "p-crocc-gatto"))


@pytest.mark.parametrize(
    ("text", "picked"),
    [("quelle da 3 kg", "p-crocc-cane"), ("quelle da 1,5 kg", "p-crocc-gatto"),
     ("le 3kg grazie", "p-crocc-cane"), ("quella da 1kg", "p-crocc-gatto"),
     ("quelle da 1 chilo e mezzo", "p-crocc-gatto")],
)  # fmt: skip
def test_a_typed_size_picks_the_row_of_that_size(text: str, picked: str) -> None:
    """A size said picks the listed product of that size, else the nearest in that unit;
    it is never a count."""
    assert read_typed(text, KIBBLE, CATALOG) == picked
    assert typed_quantity(text) is None


PLANTS = UnresolvedLine(text="piante", quantity=2, candidates=("p-pianta-grassa", "p-orchidea"))


@pytest.mark.parametrize(
    ("text", "picked"),
    [("quella da 8 euro", "p-pianta-grassa"), ("quella a 29,90 euro", "p-orchidea"),
     ("quella da 30 euro", "p-orchidea")],
)  # fmt: skip
def test_a_typed_price_picks_the_row_of_that_price(text: str, picked: str) -> None:
    """A price said in euro picks the listed product costing that, or nearest to it."""
    assert read_typed(text, PLANTS, CATALOG) == picked


@pytest.mark.parametrize(
    ("text", "in_cart", "expected"),
    [
        (
            "il parmigiano fallo 3",
            ("p-parmigiano", "p-passata"),
            [("set", "p-parmigiano", 3, None)],
        ),
        ("le passate falle da 2", ("p-parmigiano", "p-passata"), [("set", "p-passata", 2, None)]),
        ("fallo 4", ("p-parmigiano",), [("set", "p-parmigiano", 4, None)]),
    ],
)
def test_make_it_with_a_number_sets_the_line(
    text: str,
    in_cart: tuple[str, ...],
    expected: list[tuple[str, str | None, int | None, str | None]],
) -> None:
    """``fallo 3``, ``falle da 2``: the colloquial "make it N" is the line's new quantity."""
    assert ops(text, *in_cart) == expected
