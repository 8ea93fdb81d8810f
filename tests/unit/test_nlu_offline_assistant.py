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


def test_eval_nlu_reports_each_file_and_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    """Two ``--data`` files: the top level is the total, ``files`` has each one's figures."""
    fixtures = ROOT / "tests" / "fixtures"
    dev, hard = fixtures / "nlu_dev.jsonl", fixtures / "nlu_dev_hard.jsonl"
    status = main(["eval-nlu", "--data", str(dev), "--data", str(hard)])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    sizes = [len(path.read_text("utf-8").splitlines()) for path in (dev, hard)]
    assert [f["data"] for f in report["files"]] == [str(dev), str(hard)]
    assert [f["cases"] for f in report["files"]] == sizes
    assert report["cases"] == sum(sizes)
    for figures in report["files"]:
        assert figures["intent_accuracy"] >= 0.95
        assert figures["cart_exact_match"] >= 0.90
        assert figures["inquiry_top3_recall"] >= 0.95


def test_eval_nlu_with_a_missing_file_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A second ``--data`` that does not exist stops the run with its path, no traceback."""
    dev = ROOT / "tests" / "fixtures" / "nlu_dev.jsonl"
    missing = ROOT / "tests" / "fixtures" / "no_such_file.jsonl"
    status = main(["eval-nlu", "--data", str(dev), "--data", str(missing)])
    captured = capsys.readouterr()
    assert status == 2
    assert "no_such_file.jsonl" in captured.err
    assert captured.out == ""


def test_eval_nlu_with_a_malformed_line_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A line that is not a labelled case stops the run with the file's name."""
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "ciao", "intent": "nonsense"}\n', "utf-8")
    status = main(["eval-nlu", "--data", str(broken)])
    captured = capsys.readouterr()
    assert status == 2
    assert "broken.jsonl" in captured.err
    assert captured.out == ""
