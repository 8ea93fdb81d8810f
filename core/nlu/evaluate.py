"""Scoring an NLU against labelled messages: intent accuracy, cart exact match, search recall.

Pure: data in (labelled cases and what an assistant understood of each), report out.
Cases are JSON objects shaped like ``nlu_dev.jsonl``: ``text``, ``intent``, optional
``cart`` (``[{product_id, quantity}]``), optional ``expect_products`` and ``note``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.understanding import Intent, Understanding

TOP_K = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One labelled message."""

    text: str
    intent: Intent
    cart: tuple[tuple[str, int], ...] | None = None  # (product id, quantity); None: unlabelled
    expect_products: tuple[str, ...] | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Miss:
    """One failed expectation, with what was expected and what came out."""

    kind: str  # "intent" | "cart" | "inquiry"
    text: str
    expected: Any
    got: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The evaluation figures; rates are None when no case measures them."""

    cases: int
    intent_accuracy: float | None
    cart_cases: int
    cart_exact_match: float | None
    inquiry_cases: int
    inquiry_top3_recall: float | None
    confusion: dict[str, dict[str, int]]
    misses: tuple[Miss, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (misses as objects)."""
        return {
            "cases": self.cases,
            "intent_accuracy": self.intent_accuracy,
            "cart_cases": self.cart_cases,
            "cart_exact_match": self.cart_exact_match,
            "inquiry_cases": self.inquiry_cases,
            "inquiry_top3_recall": self.inquiry_top3_recall,
            "confusion": self.confusion,
            "misses": [
                {"kind": m.kind, "text": m.text, "expected": m.expected, "got": m.got}
                for m in self.misses
            ],
        }


def figures(report: Report) -> dict[str, Any]:
    """The headline figures of ``report``: case counts and the three rates."""
    return {
        "cases": report.cases,
        "intent_accuracy": report.intent_accuracy,
        "cart_cases": report.cart_cases,
        "cart_exact_match": report.cart_exact_match,
        "inquiry_cases": report.inquiry_cases,
        "inquiry_top3_recall": report.inquiry_top3_recall,
    }


def parse_case(raw: Mapping[str, Any]) -> Case:
    """A :class:`Case` from one JSON object; raises ``ValueError`` on bad shape."""
    if not isinstance(raw.get("text"), str):
        raise ValueError("case needs a 'text' string")
    cart = raw.get("cart")
    expect = raw.get("expect_products")
    return Case(
        text=raw["text"],
        intent=Intent(raw["intent"]),
        cart=None
        if cart is None
        else tuple((str(c["product_id"]), int(c["quantity"])) for c in cart),
        expect_products=None if expect is None else tuple(str(p) for p in expect),
        note=str(raw.get("note") or ""),
    )


def parse_jsonl(lines: Iterable[str]) -> tuple[Case, ...]:
    """Cases from JSONL text lines; blank lines are skipped."""
    return tuple(parse_case(json.loads(line)) for line in lines if line.strip())


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _cart_of(result: Understanding) -> list[tuple[str, int]]:
    return sorted((line.product_id, line.quantity) for line in result.cart)


def _cart_miss(case: Case, result: Understanding) -> Miss | None:
    expected, got = sorted(case.cart or ()), _cart_of(result)
    return (
        None if expected == got else Miss(kind="cart", text=case.text, expected=expected, got=got)
    )


def _inquiry_miss(case: Case, result: Understanding) -> Miss | None:
    expected = list(case.expect_products or ())
    top = [hit.product_id for hit in result.products[:TOP_K]]
    if set(top) & set(expected):
        return None
    return Miss(kind="inquiry", text=case.text, expected=expected, got=top)


def evaluate(cases: Sequence[Case], results: Sequence[Understanding]) -> Report:
    """Compare ``results[i]`` with ``cases[i]``."""
    if len(cases) != len(results):
        raise ValueError("one result per case is needed")
    confusion = {a.value: {b.value: 0 for b in Intent} for a in Intent}
    misses: list[Miss] = []
    intent_hits = cart_hits = cart_total = top_hits = top_total = 0
    for case, result in zip(cases, results, strict=True):
        confusion[case.intent.value][result.intent.value] += 1
        if result.intent is case.intent:
            intent_hits += 1
        else:
            misses.append(Miss(kind="intent", text=case.text, expected=case.intent.value,
                               got=result.intent.value))  # fmt: skip
        if case.cart is not None:
            cart_total += 1
            cart_miss = _cart_miss(case, result)
            cart_hits += cart_miss is None
            misses.extend([cart_miss] if cart_miss else [])
        if case.expect_products is not None:
            top_total += 1
            top_miss = _inquiry_miss(case, result)
            top_hits += top_miss is None
            misses.extend([top_miss] if top_miss else [])
    return Report(
        cases=len(cases),
        intent_accuracy=_rate(intent_hits, len(cases)),
        cart_cases=cart_total,
        cart_exact_match=_rate(cart_hits, cart_total),
        inquiry_cases=top_total,
        inquiry_top3_recall=_rate(top_hits, top_total),
        confusion=confusion,
        misses=tuple(misses),
    )
