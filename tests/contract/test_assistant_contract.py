"""One contract for every Assistant: the offline twin and OpenAI over HTTP on the fake server.

The OpenAI case scripts what the model answers (the fake plays the model); the offline
twin reads the same Italian text itself. Either way the port's promises must hold: the
understanding names only catalogue products, what cannot be matched is kept as an
unresolved item, every answer carries its trace, and a failure is an ``AssistantError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.assistant.openai_assistant import OpenAIAssistant
from adapters.fakes import openai_server as fake_api
from core.catalog import Catalog
from core.ports import Assistant, AssistantError, ReplyRequest
from core.understanding import CartLine, Intent
from tests.conftest import OpenAIClients
from tests.support.openai import reading


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """An assistant, the engine its traces name, and how its model is scripted."""

    assistant: Assistant
    engine: str
    model_reads: Callable[[dict[str, Any]], None]  # the offline twin reads the text itself
    fail_next: Callable[[], None] | None  # None: this implementation cannot fail


@pytest.fixture(params=["offline", "openai"])
async def case(
    request: pytest.FixtureRequest,
    fake_openai: fake_api.FakeOpenAI,
    openai_clients: OpenAIClients,
) -> AsyncIterator[Case]:
    """Each assistant implementation, with its way of being scripted."""
    if request.param == "offline":
        yield Case(
            assistant=OfflineAssistant(),
            engine="offline",
            model_reads=lambda _: None,
            fail_next=None,
        )
        return

    def model_reads(answer: dict[str, Any]) -> None:
        fake_openai.enqueue(fake_api.json_reply(answer))

    def fail_next() -> None:
        fake_openai.enqueue(fake_api.http_error(500))

    yield Case(
        assistant=OpenAIAssistant(openai_clients(max_retries=0), model="gpt-4o-mini"),
        engine="openai",
        model_reads=model_reads,
        fail_next=fail_next,
    )


async def test_an_order_names_catalogue_products_and_keeps_the_rest_unresolved(
    case: Case, catalog: Catalog
) -> None:
    """A known product becomes a cart line; an unknown one an unresolved item, never a line."""
    case.model_reads(
        reading(
            cart=[
                {"product_id": "p-latte", "quantity": 1, "text": "1 latte"},
                {"product_id": "p-caviale", "quantity": 3, "text": "3 caviale"},
            ]
        )
    )
    understood = await case.assistant.understand(
        "vorrei 1 latte e 3 caviale", history=(), catalog=catalog
    )
    understanding = understood.understanding
    assert understanding.intent is Intent.ORDER_REQUEST
    assert understanding.cart == (CartLine(product_id="p-latte", quantity=1),)
    [unresolved] = understanding.unresolved
    assert "caviale" in unresolved.text
    assert unresolved.quantity == 3


async def test_a_product_question_names_the_asked_product_first(
    case: Case, catalog: Catalog
) -> None:
    """The product asked about leads the hits, and every hit is a catalogue row."""
    case.model_reads(reading(intent="product_inquiry", products=["p-mozzarella"]))
    understood = await case.assistant.understand(
        "avete la mozzarella di bufala?", history=(), catalog=catalog
    )
    hits = [h.product_id for h in understood.understanding.products]
    assert understood.understanding.intent is Intent.PRODUCT_INQUIRY
    assert hits[0] == "p-mozzarella"
    assert set(hits) <= {p.id for p in catalog.products}


async def test_an_understanding_carries_its_trace(case: Case, catalog: Catalog) -> None:
    """The trace names the engine and prompt version; confidence is a probability."""
    case.model_reads(reading(intent="general_chat", confidence=0.8))
    understood = await case.assistant.understand("ciao!", history=(), catalog=catalog)
    assert understood.understanding.intent is Intent.GENERAL_CHAT
    assert 0.0 <= understood.understanding.confidence <= 1.0
    assert understood.trace.engine == case.engine
    assert understood.trace.prompt_version
    assert understood.trace.latency_ms >= 0
    assert not understood.trace.cached


async def test_a_reply_is_trimmed_text_with_its_trace(case: Case) -> None:
    """A reply is non-empty text without surrounding blanks, traced like an understanding."""
    reply = await case.assistant.reply(
        ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="ciao, come va?")
    )
    assert reply.text
    assert reply.text == reply.text.strip()
    assert reply.trace.engine == case.engine
    assert reply.trace.prompt_version


async def test_a_failed_understanding_is_an_assistant_error(case: Case, catalog: Catalog) -> None:
    """When the engine cannot answer, the port raises AssistantError, never an SDK error."""
    if case.fail_next is None:
        pytest.skip(f"the {case.engine} assistant does no I/O and cannot fail")
    case.fail_next()
    with pytest.raises(AssistantError, match="HTTP 500"):
        await case.assistant.understand("vorrei 2 latte", history=(), catalog=catalog)


async def test_a_failed_reply_is_an_assistant_error(case: Case) -> None:
    """A reply the engine cannot write raises AssistantError too."""
    if case.fail_next is None:
        pytest.skip(f"the {case.engine} assistant does no I/O and cannot fail")
    case.fail_next()
    with pytest.raises(AssistantError, match="HTTP 500"):
        await case.assistant.reply(ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="ciao"))
