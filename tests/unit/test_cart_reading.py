"""The LLM's cart reading: checked before use, recorded, and put back on replay (pure)."""

from __future__ import annotations

import json
from pathlib import Path

from core.cart_reading import edit_event, model_answer, model_edits, with_edit
from core.catalog import parse_catalog
from core.nlu.answers import Answer
from core.understanding import Intent, Understanding
from events.cart import CartOp, CartOperation

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"
CATALOG = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))


def said(*ops: CartOperation, reply: str | None = None) -> Understanding:
    """An understanding carrying the model's operations and short answer."""
    return Understanding(
        intent=Intent.ORDER_REQUEST, confidence=0.9, operations=ops, cart_reply=reply
    )


def test_unknown_ids_are_dropped_and_reported() -> None:
    """An id the catalogue lacks is not applied; it is listed as missing."""
    reading = model_edits(
        said(
            CartOperation(op=CartOp.ADD, product_id="p-uova", quantity=1),
            CartOperation(op=CartOp.REPLACE, product_id="p-latte", replacement_id="p-ghost"),
        ),
        CATALOG,
    )
    assert reading is not None
    assert [o.product_id for o in reading.operations] == ["p-uova"]
    assert reading.missing == ("p-ghost",)


def test_impossible_quantities_from_the_model_are_flagged() -> None:
    """500 is over the limit, 0 and -1 are not quantities to add."""
    for quantity, bad in ((500, "too_many"), (0, "zero"), (-1, "negative")):
        op = CartOperation(op=CartOp.ADD, product_id="p-uova", quantity=quantity)
        reading = model_edits(said(op), CATALOG)
        assert reading is not None
        assert reading.bad_quantity == bad


def test_no_operations_means_no_model_reading() -> None:
    """Without operations the offline rules read the text instead."""
    assert model_edits(said(), CATALOG) is None
    assert model_edits(None, CATALOG) is None


def test_the_short_answer_is_taken_only_when_known() -> None:
    """confirm / cancel / modify are answers; anything else is left to the offline rules."""
    assert model_answer(said(reply="confirm")) is Answer.CONFIRM
    assert model_answer(said(reply="cancel")) is Answer.CANCEL
    assert model_answer(said(reply="boh")) is None
    assert model_answer(None) is None


def test_the_reading_is_recorded_only_when_given_and_replays_back() -> None:
    """No event for a plain reading; a recorded one is put back into the understanding."""
    assert edit_event(("w1",), said()) is None
    op = CartOperation(op=CartOp.CLEAR)
    recorded = edit_event(("w1",), said(op, reply="modify"))
    assert recorded is not None
    back = with_edit(said(), recorded)
    assert (back.operations, back.cart_reply) == ((op,), "modify")
    assert with_edit(said(), None) == said()
