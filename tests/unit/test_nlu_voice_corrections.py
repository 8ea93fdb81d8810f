"""A number corrected mid-message, as in a voice note ("3 no anzi 2 litri") (pure)."""

from __future__ import annotations

import json
from pathlib import Path

from core.catalog import Catalog, parse_catalog
from core.nlu import understand
from core.nlu.scope import excluded_words

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"
CATALOG: Catalog = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))


def _cart(text: str) -> dict[str, int]:
    return {x.product_id: x.quantity for x in understand(text, CATALOG).cart}


def test_no_before_anzi_corrects_and_refuses_nothing() -> None:
    """``3 no anzi 2``: like ``anzi no``, a correction, not the product refused."""
    assert excluded_words("del latte diciamo 3 no anzi 2 litri") == ()


def test_a_size_after_anzi_corrects_the_item_before() -> None:
    """``del latte 3 anzi 2 litri`` is two litres of milk, not the milk dropped."""
    text = "mi servono 2 pagnotte poi del latte 3 anzi 2 litri"
    assert _cart(text) == {"p-pane": 2, "p-latte": 2}


def test_a_run_on_order_with_a_correction_keeps_every_item() -> None:
    """The whole voice-note-like message gives both products, the milk as corrected."""
    text = "allora mi servirebbero 2 pagnotte poi del latte diciamo 3 no anzi 2 litri e basta"
    assert _cart(text) == {"p-pane": 2, "p-latte": 2}


def test_no_scusa_corrects_the_number_before() -> None:
    """``2 olio no scusa 1 olio`` is one bottle of oil, and the items after it stay."""
    text = "mi servono 3 passate, 2 olio no scusa 1 e un pacco di caffè"
    assert _cart(text) == {"p-passata": 3, "p-olio": 1, "p-caffe": 1}
    assert _cart("vorrei il latte, il pane no") == {"p-latte": 1}  # still a refusal
