"""Evaluation logic and the accuracy floors on the dev and extra data sets."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from core.catalog import Catalog, parse_catalog
from core.nlu import understand
from core.nlu.evaluate import Report, evaluate, figures, parse_case, parse_jsonl
from core.understanding import CartLine, Intent, ProductHit, Understanding

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@lru_cache(maxsize=1)
def _demo() -> Catalog:
    raw = json.loads((ROOT / "adapters" / "data" / "catalog_demo.json").read_text("utf-8"))
    return parse_catalog(raw)


def _report(name: str) -> Report:
    cases = parse_jsonl((FIXTURES / name).read_text("utf-8").splitlines())
    return evaluate(cases, [understand(case.text, _demo()) for case in cases])


@pytest.mark.parametrize(
    "name",
    [
        "nlu_dev.jsonl",
        "nlu_dev_hard.jsonl",
        "nlu_extra.jsonl",
        "nlu_holdout.jsonl",
        "nlu_whatsapp.jsonl",
        "nlu_heldout_s5.jsonl",
        "nlu_heldout_s5b.jsonl",
        "nlu_heldout_s5c.jsonl",
        "nlu_heldout_s5d.jsonl",
        "nlu_heldout_s5e.jsonl",
        "nlu_heldout_s5f.jsonl",
        "nlu_heldout_s5g.jsonl",
        "nlu_heldout_s7.jsonl",
        "nlu_heldout_s7b.jsonl",
        "nlu_heldout_s7c.jsonl",
    ],
)
def test_floors_hold(name: str) -> None:
    """Intent >= 0.95, cart exact match >= 0.90 and top-3 recall >= 0.95."""
    report = _report(name)
    assert (report.intent_accuracy or 0.0) >= 0.95, report.misses
    assert (report.cart_exact_match or 0.0) >= 0.90, report.misses
    assert (report.inquiry_top3_recall or 0.0) >= 0.95, report.misses


def test_extra_set_is_large_and_disjoint_from_dev() -> None:
    """The extra set has at least 60 messages, none copied from the dev set."""
    dev = {
        c.text for c in parse_jsonl((FIXTURES / "nlu_dev.jsonl").read_text("utf-8").splitlines())
    }
    extra = parse_jsonl((FIXTURES / "nlu_extra.jsonl").read_text("utf-8").splitlines())
    assert len(extra) >= 60
    assert not dev & {c.text for c in extra}


@pytest.mark.parametrize(
    ("name", "size"), [("nlu_whatsapp.jsonl", 60), ("nlu_heldout_s5.jsonl", 120)]
)
def test_own_whatsapp_sets_are_disjoint_from_both_dev_sets(name: str, size: int) -> None:
    """The issue-19 regression and held-out sets were written anew, not copied from a dev set."""
    dev = {
        c.text
        for dev_name in ("nlu_dev.jsonl", "nlu_dev_hard.jsonl")
        for c in parse_jsonl((FIXTURES / dev_name).read_text("utf-8").splitlines())
    }
    own = parse_jsonl((FIXTURES / name).read_text("utf-8").splitlines())
    assert len(own) >= size
    assert not dev & {c.text for c in own}


def test_figures_are_the_headline_rates() -> None:
    """``figures`` keeps the counts and the three rates, not the misses."""
    case = parse_case({"text": "ciao", "intent": "general_chat"})
    got = Understanding(intent=Intent.GENERAL_CHAT, confidence=0.9)
    assert figures(evaluate([case], [got])) == {
        "cases": 1,
        "intent_accuracy": 1.0,
        "cart_cases": 0,
        "cart_exact_match": None,
        "inquiry_cases": 0,
        "inquiry_top3_recall": None,
    }


def test_cart_match_ignores_order() -> None:
    """Lines in another order still match exactly."""
    case = parse_case(
        {"text": "x", "intent": "order_request", "cart": [
            {"product_id": "a", "quantity": 1}, {"product_id": "b", "quantity": 2}]}
    )  # fmt: skip
    got = Understanding(
        intent=Intent.ORDER_REQUEST,
        confidence=1.0,
        cart=(CartLine(product_id="b", quantity=2), CartLine(product_id="a", quantity=1)),
    )
    assert evaluate([case], [got]).cart_exact_match == 1.0


def test_wrong_quantity_is_a_cart_miss() -> None:
    """A different quantity fails the exact match and is listed as a miss."""
    case = parse_case(
        {"text": "2 a", "intent": "order_request", "cart": [{"product_id": "a", "quantity": 2}]}
    )
    got = Understanding(
        intent=Intent.ORDER_REQUEST, confidence=1.0, cart=(CartLine(product_id="a", quantity=1),)
    )
    report = evaluate([case], [got])
    assert report.cart_exact_match == 0.0
    assert [(m.kind, m.expected, m.got) for m in report.misses] == [
        ("cart", [("a", 2)], [("a", 1)])
    ]


def test_recall_counts_any_expected_product_in_top_three() -> None:
    """One expected product among the first three hits is enough; the fourth is not."""
    case = parse_case({"text": "?", "intent": "product_inquiry", "expect_products": ["d", "z"]})
    hits = tuple(ProductHit(product_id=p, score=0.5) for p in "abcd")
    got = Understanding(intent=Intent.PRODUCT_INQUIRY, confidence=1.0, products=hits)
    assert evaluate([case], [got]).inquiry_top3_recall == 0.0


def test_confusion_counts_expected_against_got() -> None:
    """The confusion matrix is indexed by expected intent, then predicted."""
    case = parse_case({"text": "ciao", "intent": "general_chat"})
    got = Understanding(intent=Intent.SUPPORT_REQUEST, confidence=0.6)
    report = evaluate([case], [got])
    assert report.confusion["general_chat"]["support_request"] == 1
    assert report.intent_accuracy == 0.0


def test_rates_are_none_without_cases() -> None:
    """Metrics with nothing to measure are None, not a perfect score."""
    report = evaluate([], [])
    assert (report.intent_accuracy, report.cart_exact_match, report.inquiry_top3_recall) == (
        None,
        None,
        None,
    )


def test_mismatched_lengths_are_rejected() -> None:
    """Every case needs exactly one result."""
    with pytest.raises(ValueError, match="one result per case"):
        evaluate([parse_case({"text": "x", "intent": "general_chat"})], [])
