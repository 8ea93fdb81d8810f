"""Colloquial WhatsApp Italian read as a native speaker reads it (held-out set of session 5).

Each rule is shown on a small catalogue of its own, with products that no data set uses.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from core.catalog import Catalog, Dealer, Product, parse_catalog
from core.nlu import understand
from core.nlu.normalize import tokenize
from core.nlu.shorthand import PHRASES
from core.understanding import Intent

ROOT = Path(__file__).resolve().parents[2]


def _p(pid: str, name: str, tags: tuple[str, ...] = ()) -> Product:
    return Product(id=pid, dealer_id="d", name=name, price=Decimal(1), stock=9, tags=tags)


CATALOG = Catalog.of(
    [Dealer(id="d", name="Bottega", category="grocery", phone="+390000000")],
    [
        _p("miele", "Miele di acacia 250 g"),
        _p("zucchero", "Zucchero semolato 1 kg"),
        _p("biscotti", "Biscotti al burro 350 g", tags=("frollini",)),
        _p("ciotola", "Ciotola in acciaio per cane"),
        _p("pappa-cane", "Crocchette per cane 2 kg"),
        _p("pappa-gatto", "Crocchette per gatto 2 kg"),
        _p("sapone", "Sapone liquido 500 ml"),
        _p("passata", "Passata di pomodoro 700 g"),
        _p("rose", "Mazzo di 12 rose rosse"),
        _p("bilancia", "Bilancia da cucina digitale"),
    ],
)


def _cart(text: str) -> dict[str, int]:
    result = understand(text, CATALOG)
    assert result.intent is Intent.ORDER_REQUEST, result
    return {line.product_id: line.quantity for line in result.cart}


def _intent(text: str) -> Intent:
    return understand(text, CATALOG).intent


def test_numbers_after_each_product_bind_backwards() -> None:
    """A list that opens with a product and ends with a number gives each number to the
    product before it."""
    assert _cart("MIELE 2 ZUCCHERO 3 BISCOTTI 1") == {"miele": 2, "zucchero": 3, "biscotti": 1}


def test_a_multiplier_after_the_product_replaces_a_leading_one() -> None:
    """``1 ... x3`` asks for three."""
    assert _cart("1 sapone liquido 500 ml x3") == {"sapone": 3}


def test_a_number_right_before_x2_is_part_of_the_name() -> None:
    """``biscotti 350 x2``: 350 describes the product, 2 is how many."""
    assert _cart("biscotti 350 x2") == {"biscotti": 2}


def test_the_head_noun_settles_a_tie_with_an_adjective() -> None:
    """``guinzaglio rosso`` is a lead, not the red roses (demo catalogue, where they tie)."""
    raw = json.loads((ROOT / "adapters" / "data" / "catalog_demo.json").read_text("utf-8"))
    result = understand("mi porti un guinzaglio rosso?", parse_catalog(raw))
    assert [(line.product_id, line.quantity) for line in result.cart] == [("p-guinzaglio", 1)]


def test_a_second_demonstrative_names_another_item_of_the_same_kind() -> None:
    """``le crocchette, quelle x cane e quelle x gatto`` are two products, one each."""
    assert _cart("tt e due le crocchette, quelle x cane e quelle x gatto") == {
        "pappa-cane": 1,
        "pappa-gatto": 1,
    }


@pytest.mark.parametrize(
    "text",
    [
        "2 zucchero, il miele lo prendo la prox volta",
        "2 zucchero, il miele lo compro al mercato",
    ],
)
def test_what_is_put_off_or_bought_elsewhere_is_not_ordered(text: str) -> None:
    """``lo prendo la prossima volta``, ``lo compro al mercato``: not from us, not now."""
    assert _cart(text) == {"zucchero": 2}


def test_already_having_something_excludes_only_its_own_item() -> None:
    """``... e niente zucchero che ce l ho`` keeps the honey said before it."""
    assert _cart("due vasetti di miele e niente zucchero che ce l'ho ancora") == {"miele": 2}


def test_a_late_no_in_a_run_on_excludes_only_its_noun_phrase() -> None:
    """Voice-to-text without commas: ``... i biscotti lo zucchero no`` drops only the sugar."""
    text = "mi porti due vasetti di miele e i biscotti lo zucchero no grazie ciao"
    assert _cart(text) == {"miele": 2, "biscotti": 1}


def test_who_the_customer_says_they_are_is_not_a_product() -> None:
    """``sono la signora Biscotti`` introduces the customer."""
    assert _cart("buongiorno sono la signora biscotti mi porti lo zucchero") == {"zucchero": 1}


def test_dialect_numbers_count() -> None:
    """``du`` is two, ``de`` is ``di``."""
    assert _cart("damme du vasetti de miele") == {"miele": 2}


def test_verbs_of_coming_by_name_no_product() -> None:
    """``passo io`` is the customer coming by, not the passata."""
    assert _cart("3 vasetti di miele, passo io a prenderli") == {"miele": 3}


def test_a_qualifier_never_finds_a_product_alone() -> None:
    """``un biglietto per il gatto`` names nothing we sell; the cat food is not added."""
    assert _cart("un miele e un biglietto per il gatto") == {"miele": 1}


def test_nouns_listed_without_commas_are_separate_items() -> None:
    """``miele zucchero e biscotti``: each noun names its own product."""
    assert _cart("mi mandi miele zucchero e biscotti?") == {
        "miele": 1,
        "zucchero": 1,
        "biscotti": 1,
    }


def test_a_marked_number_after_a_product_closes_its_item() -> None:
    """``sapone x1 miele x2``: two items, each with its number."""
    assert _cart("sapone x1 miele x2") == {"sapone": 1, "miele": 2}


def test_anzi_no_corrects_the_number_and_refuses_nothing() -> None:
    """``1 miele anzi no 2 miele`` is two jars of honey, not three and not none."""
    assert _cart("2 zucchero e 1 miele anzi no 2 miele") == {"zucchero": 2, "miele": 2}


def test_digits_after_da_describe_the_product() -> None:
    """``il sapone da 500, 2 flaconi``: 500 is the size, 2 is how many."""
    assert _cart("x favore il sapone da 500, 2 flaconi") == {"sapone": 2}


def test_un_po_di_is_some_not_one() -> None:
    """``un po di miele, tipo 3 vasetti``: the 3 counts, ``un po`` is not a quantity."""
    assert _cart("mi porti un po di miele, tipo 3 vasetti") == {"miele": 3}


def test_a_dog_breed_settles_a_tie_like_the_word_dog() -> None:
    """``per il mio labrador`` picks the dog food."""
    assert _cart("un sacco di crocchette x il mio labrador") == {"pappa-cane": 1}


def test_numbers_after_products_skip_the_packaging_said_after_them() -> None:
    """``miele 3 vasetti zucchero 2 pacchi``: two items, each with its number."""
    assert _cart("miele 3 vasetti zucchero 2 pacchi") == {"miele": 3, "zucchero": 2}


def test_togli_takes_a_product_out_of_an_order() -> None:
    """``metti 3 miele e togli lo zucchero``: the sugar is not ordered."""
    assert _cart("metti 3 miele nel carrello e togli lo zucchero") == {"miele": 3}


def test_altre_is_not_a_product_word() -> None:
    """``... mandamene altre 2 confezioni`` gives its number to the product told before."""
    assert _cart("il miele dell altra volta era ottimo, mandamene altre 2 confezioni") == {
        "miele": 2
    }


def test_what_costs_too_much_is_not_ordered() -> None:
    """``1 sapone e basta, i biscotti costano troppo``: the biscuits are turned down."""
    assert _cart("1 sapone e basta, i biscotti costano troppo") == {"sapone": 1}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("me lo fai un mazzo di rose?", Intent.ORDER_REQUEST),
        ("il taglio e stato fatto malissimo", Intent.SUPPORT_REQUEST),
        ("e arrivato un sapone aperto e mezzo vuoto", Intent.SUPPORT_REQUEST),
        ("la bilancia nn si accende", Intent.SUPPORT_REQUEST),
        ("come faccio a fare il cambio?", Intent.SUPPORT_REQUEST),
        ("volevo solo dirvi che il fattorino e un angelo", Intent.GENERAL_CHAT),
        ("si puo avere un sapone liquido x domani?", Intent.ORDER_REQUEST),
        ("quanto costa il miele? cmq ne vorrei 3", Intent.ORDER_REQUEST),
        ("mi hanno consegnato la spesa di un altro", Intent.SUPPORT_REQUEST),
        ("vi voglio bene ragazzi", Intent.GENERAL_CHAT),
        ("scusa, volevo scrivere a mio cugino", Intent.GENERAL_CHAT),
        ("ma la passata me l avete fatta pagare 2 volte?", Intent.SUPPORT_REQUEST),
        ("il miele e arrivato caldo", Intent.SUPPORT_REQUEST),
        ("la bilancia vecchia si e rotta, me ne mandi una nuova?", Intent.ORDER_REQUEST),
        ("le rose di maggio sono ancora vive!!", Intent.GENERAL_CHAT),
        ("nn mi serve niente x ora, grazie lo stesso", Intent.GENERAL_CHAT),
        ("aspettavo la consegna alle 9 e nn e venuto nessuno", Intent.SUPPORT_REQUEST),
        ("il sapone mi ha fatto venire un arrossamento", Intent.SUPPORT_REQUEST),
        ("scusate il ritardo nel rispondere", Intent.GENERAL_CHAT),
        ("lo zucchero e arrivato col pacco bucato", Intent.SUPPORT_REQUEST),
    ],
)
def test_intent_reads_mood_tense_and_praise(text: str, intent: Intent) -> None:
    """Pronoun orders, faults told in the past, and praise of the rider."""
    assert _intent(text) is intent


@pytest.mark.parametrize(("run", "reading"), sorted(PHRASES.items()))
def test_every_phrase_entry_is_applied(run: tuple[str, ...], reading: tuple[str, ...]) -> None:
    """Each multi-word entry of the normalisation table reads as its replacement."""
    assert tokenize(" ".join(run)) == reading
