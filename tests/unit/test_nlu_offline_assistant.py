"""The offline assistant behind the ``Assistant`` port, and the eval-nlu command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.assistant.offline import OfflineAssistant
from core.catalog import parse_catalog
from core.ports import Assistant, ReplyRequest
from core.understanding import Intent
from scripts.cli import main

ROOT = Path(__file__).resolve().parents[2]
CATALOG = parse_catalog(
    json.loads((ROOT / "adapters" / "data" / "catalog_demo.json").read_text("utf-8"))
)


async def test_understand_wraps_the_nlu_with_an_offline_trace() -> None:
    """The trace names the offline engine and prompt version, with no model."""
    assistant: Assistant = OfflineAssistant()
    understood = await assistant.understand("vorrei 3 spaghetti", history=(), catalog=CATALOG)
    assert understood.understanding.intent is Intent.ORDER_REQUEST
    trace = understood.trace
    assert (trace.engine, trace.model, trace.prompt_version) == ("offline", None, "offline-1")
    assert trace.latency_ms >= 0


async def test_reply_returns_the_draft_when_given() -> None:
    """A composed draft is passed through unchanged."""
    request = ReplyRequest(intent=Intent.ORDER_REQUEST, customer_text="x", draft="Confermi?")
    assert (await OfflineAssistant().reply(request)).text == "Confermi?"


async def test_reply_lists_products_for_a_question() -> None:
    """Without a draft, a product question gets the products with Italian prices."""
    product = CATALOG.product("p-crocc-cane")
    assert product is not None
    request = ReplyRequest(
        intent=Intent.PRODUCT_INQUIRY, customer_text="avete crocchette?", products=[product]
    )
    assert "€ 18,90" in (await OfflineAssistant().reply(request)).text


def test_eval_nlu_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    """``dloop-bot eval-nlu`` prints the metrics as JSON."""
    status = main(["eval-nlu", "--data", str(ROOT / "tests" / "fixtures" / "nlu_dev.jsonl")])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(report) >= {
        "intent_accuracy",
        "cart_exact_match",
        "inquiry_top3_recall",
        "confusion",
        "misses",
    }
