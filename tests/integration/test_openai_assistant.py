"""The OpenAI assistant through the real SDK over HTTP against the local fake OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from adapters.assistant.budget import RequestBudget
from adapters.assistant.cache import ReplyCache
from adapters.assistant.openai_assistant import (
    OpenAIAssistant,
    ProductEmbeddings,
)
from adapters.assistant.prompts import PROMPT_VERSION
from adapters.assistant.resilient import AssistantFailure, ResilientAssistant
from adapters.fakes import openai_server as fake_api
from core.catalog import Catalog, Product
from core.ports import AssistantError, AssistantTrace, Reply, ReplyRequest, Turn, Understood
from core.understanding import CartLine, Intent, Understanding
from tests.conftest import OpenAIClients, sdk_clients
from tests.support.openai import reading


@pytest.fixture(params=["httpx", "aiohttp"])
async def openai_clients(
    fake_openai: fake_api.FakeOpenAI, request: pytest.FixtureRequest
) -> AsyncIterator[OpenAIClients]:
    """The shared client factory, once over each transport LLM_HTTP_CLIENT may choose."""
    async with sdk_clients(fake_openai, http=request.param) as build:
        yield build


def _chat(fake_openai: fake_api.FakeOpenAI) -> list[dict[str, Any]]:
    return [r.body for r in fake_openai.requests_to("chat")]


async def test_structured_understanding_becomes_understood_with_trace(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A schema-conforming answer is parsed into our Understanding and traced."""
    cart = [{"product_id": "p-crocc-gatto", "quantity": 2, "text": "2 crocchette gatto"}]
    fake_openai.enqueue(fake_api.json_reply(reading(cart=cart, confidence=0.92)))
    assistant = OpenAIAssistant(openai_clients(), model="gpt-4o-mini")
    result = await assistant.understand("vorrei 2 crocchette gatto", history=(), catalog=catalog)
    assert result.understanding.intent is Intent.ORDER_REQUEST
    assert result.understanding.confidence == pytest.approx(0.92)
    assert result.understanding.cart == (CartLine(product_id="p-crocc-gatto", quantity=2),)
    trace = result.trace
    assert (trace.engine, trace.model, trace.prompt_version) == (
        "openai",
        "gpt-4o-mini-2024-07-18",
        PROMPT_VERSION,
    )
    assert trace.prompt_tokens is not None
    assert trace.prompt_tokens > 0
    assert trace.completion_tokens is not None
    assert trace.completion_tokens > 0
    assert trace.latency_ms >= 0


async def test_unknown_product_ids_become_unresolved(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """An id the catalogue does not hold is never trusted: it becomes an unresolved item."""
    cart = [
        {"product_id": "p-latte", "quantity": 1, "text": "latte"},
        {"product_id": "p-caviale", "quantity": 3, "text": "tre caviale"},
    ]
    fake_openai.enqueue(fake_api.json_reply(reading(cart=cart, products=["p-nope", "p-latte"])))
    result = await OpenAIAssistant(openai_clients()).understand(
        "latte e caviale", history=(), catalog=catalog
    )
    understanding = result.understanding
    assert understanding.cart == (CartLine(product_id="p-latte", quantity=1),)
    assert [(u.text, u.quantity) for u in understanding.unresolved] == [("tre caviale", 3)]
    assert [hit.product_id for hit in understanding.products] == ["p-latte"]


async def test_understand_asks_for_strict_json_schema(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """The understanding request uses a strict JSON-schema structured output."""
    await OpenAIAssistant(openai_clients(), model="gpt-4o-mini").understand(
        "ciao", history=(), catalog=catalog
    )
    body = _chat(fake_openai)[0]
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "intent" in body["response_format"]["json_schema"]["schema"]["required"]


async def test_large_catalogue_sends_only_lexical_candidates(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Above candidate_limit only the best lexical rows reach the prompt."""
    assistant = OpenAIAssistant(openai_clients(), candidate_limit=3)
    await assistant.understand("avete la mozzarella di bufala?", history=(), catalog=catalog)
    grounding = _chat(fake_openai)[0]["messages"][1]["content"]
    rows = [line for line in grounding.splitlines() if line.startswith("p-")]
    assert len(rows) == 3
    assert rows[0].startswith("p-mozzarella | Mozzarella di bufala campana 250 g | €4.90")


async def test_reply_request_carries_model_temperature_and_token_cap(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> None:
    """Settings given to the adapter reach the chat completion request."""
    assistant = OpenAIAssistant(
        openai_clients(), model="gpt-4.1-mini", temperature=0.3, max_completion_tokens=120
    )
    reply = await assistant.reply(ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="ciao"))
    body = _chat(fake_openai)[0]
    assert (body["model"], body["temperature"], body["max_completion_tokens"]) == (
        "gpt-4.1-mini",
        0.3,
        120,
    )
    assert reply.text == fake_api.DEFAULT_TEXT
    assert reply.trace.model == "gpt-4.1-mini"


async def test_reply_prompt_holds_rows_facts_draft_and_bounded_history(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """The reply prompt grounds on rows, facts and draft, and keeps only the last N turns."""
    history = [Turn(role="customer" if i % 2 else "assistant", text=f"turno {i}") for i in range(6)]
    latte = catalog.product("p-latte")
    assert latte is not None
    request = ReplyRequest(
        intent=Intent.ORDER_REQUEST,
        customer_text="2 latte",
        history=history,
        products=(latte,),
        facts={"orari": "9-20"},
        draft="2 x Latte intero fresco 1 L = €3.58. Confermi?",
    )
    await OpenAIAssistant(openai_clients(), history_turns=2).reply(request)
    messages = _chat(fake_openai)[0]["messages"]
    grounding = messages[1]["content"]
    assert "p-latte | Latte intero fresco 1 L | €1.79 | 40" in grounding
    assert "orari: 9-20" in grounding
    assert "€3.58. Confermi?" in grounding
    assert [m["content"] for m in messages[2:]] == ["turno 4", "turno 5", "2 latte"]


async def test_rate_limit_with_retry_after_is_retried_by_the_sdk(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A 429 with retry-after is retried by the SDK itself, and the retry succeeds."""
    fake_openai.enqueue(fake_api.rate_limited(retry_after=1, retry_after_ms=10))
    result = await OpenAIAssistant(openai_clients()).understand("ciao", history=(), catalog=catalog)
    assert result.understanding.intent is Intent.GENERAL_CHAT
    assert len(fake_openai.requests_to("chat")) == 2


async def test_server_errors_exhaust_sdk_retries_then_raise(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Four 500s exhaust max_retries=3 (four requests) and surface as AssistantError."""
    fake_openai.enqueue(*[fake_api.http_error(500, retry_after_ms=10) for _ in range(4)])
    with pytest.raises(AssistantError, match="HTTP 500"):
        await OpenAIAssistant(openai_clients()).understand("ciao", history=(), catalog=catalog)
    assert len(fake_openai.requests_to("chat")) == 4


async def test_service_unavailable_then_success_is_absorbed(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> None:
    """A transient 503 costs one retry and the reply still arrives."""
    fake_openai.enqueue(fake_api.http_error(503, retry_after_ms=10))
    reply = await OpenAIAssistant(openai_clients()).reply(
        ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="ciao")
    )
    assert reply.text == fake_api.DEFAULT_TEXT
    assert len(fake_openai.requests_to("chat")) == 2


async def test_timeout_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """An answer slower than the client timeout becomes an AssistantError."""
    fake_openai.enqueue(fake_api.slow(3.0))
    assistant = OpenAIAssistant(openai_clients(timeout=0.2, max_retries=0))
    with pytest.raises(AssistantError, match="timed out"):
        await assistant.understand("ciao", history=(), catalog=catalog)


async def test_malformed_json_body_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A truncated response body is reported as a malformed answer."""
    fake_openai.enqueue(fake_api.malformed_body())
    with pytest.raises(AssistantError, match="malformed"):
        await OpenAIAssistant(openai_clients()).understand("ciao", history=(), catalog=catalog)


async def test_answer_outside_the_schema_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Content that does not match the schema (an unknown intent) is refused."""
    fake_openai.enqueue(fake_api.json_reply(reading(intent="complaint")))
    with pytest.raises(AssistantError, match="schema"):
        await OpenAIAssistant(openai_clients()).understand("ciao", history=(), catalog=catalog)


async def test_refusal_in_understanding_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A model refusal is a failure, not an empty understanding."""
    fake_openai.enqueue(fake_api.refusal())
    with pytest.raises(AssistantError, match="refused"):
        await OpenAIAssistant(openai_clients()).understand("ciao", history=(), catalog=catalog)


async def test_refusal_in_reply_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> None:
    """A refused reply is a failure, never sent to the customer."""
    fake_openai.enqueue(fake_api.refusal())
    with pytest.raises(AssistantError, match="refused"):
        await OpenAIAssistant(openai_clients()).reply(
            ReplyRequest(intent=Intent.SUPPORT_REQUEST, customer_text="aiuto")
        )


async def test_length_cut_reply_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> None:
    """A reply cut by the token cap is a failure, never half a sentence to the customer."""
    fake_openai.enqueue(fake_api.length_cut("Certo, le crocchette costano"))
    with pytest.raises(AssistantError, match="token cap"):
        await OpenAIAssistant(openai_clients()).reply(
            ReplyRequest(intent=Intent.PRODUCT_INQUIRY, customer_text="quanto costano?")
        )


async def test_length_cut_understanding_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Structured output cut by the token cap is a failure."""
    fake_openai.enqueue(fake_api.length_cut())
    with pytest.raises(AssistantError, match="token cap"):
        await OpenAIAssistant(openai_clients()).understand("ciao", history=(), catalog=catalog)


async def test_spent_request_budget_raises_without_calling_openai(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """With the shared per-minute budget spent, the call fails fast and OpenAI is not asked."""
    budget = RequestBudget(1, max_wait=0)
    assistant = OpenAIAssistant(openai_clients(), budget=budget)
    await assistant.understand("ciao", history=(), catalog=catalog)
    with pytest.raises(AssistantError, match="budget"):
        await assistant.understand("ciao", history=(), catalog=catalog)
    assert len(fake_openai.requests_to("chat")) == 1
    assert budget.stats().granted == 1


async def test_general_chat_reply_is_served_from_the_cache_the_second_time(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> None:
    """A cacheable greeting is generated once; the equivalent next one is a cache hit."""
    cache = ReplyCache()
    assistant = OpenAIAssistant(openai_clients(), cache=cache)
    first = await assistant.reply(ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="Ciao!"))
    second = await assistant.reply(ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="ciao"))
    assert second.text == first.text
    assert (second.trace.engine, second.trace.cached) == ("cache", True)
    assert len(fake_openai.requests_to("chat")) == 1
    assert (cache.stats().hits, cache.stats().misses) == (1, 1)


async def test_replies_about_products_are_not_cached(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A reply grounded on products depends on the customer, so it always reaches the model."""
    latte = catalog.product("p-latte")
    assert latte is not None
    assistant = OpenAIAssistant(openai_clients(), cache=ReplyCache())
    request = ReplyRequest(intent=Intent.PRODUCT_INQUIRY, customer_text="latte?", products=(latte,))
    await assistant.reply(request)
    await assistant.reply(request)
    assert len(fake_openai.requests_to("chat")) == 2


async def test_embeddings_search_ranks_the_matching_product_first(
    openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Blended semantic and lexical search puts the product the words describe first."""
    embeddings = ProductEmbeddings(openai_clients(), batch_size=16)
    hits = await embeddings.search("profumo alla rosa", catalog, limit=3)
    assert hits[0].product_id == "p-edp-rosa"
    assert hits[0].score > hits[1].score


async def test_embeddings_are_batched_and_refreshed_only_for_changed_products(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Vectors are computed in batches once; a changed product alone is embedded again."""
    embeddings = ProductEmbeddings(openai_clients(), batch_size=16)
    assert await embeddings.refresh(catalog) == len(catalog.products)
    assert await embeddings.refresh(catalog) == 0
    before = embeddings.vector("p-pane")
    changed = _renamed(catalog, "p-pane", "Focaccia genovese all'olio")
    assert await embeddings.refresh(changed) == 1
    assert embeddings.vector("p-pane") != before
    batches = [len(r.body["input"]) for r in fake_openai.requests_to("embeddings")]
    assert max(batches) <= 16
    assert sum(batches) == len(catalog.products) + 1


async def test_embeddings_failure_raises_assistant_error(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A failing embeddings endpoint surfaces as AssistantError."""
    fake_openai.enqueue(fake_api.http_error(400), endpoint="embeddings")
    with pytest.raises(AssistantError, match="HTTP 400"):
        await ProductEmbeddings(openai_clients()).refresh(catalog)


def _renamed(catalog: Catalog, product_id: str, name: str) -> Catalog:
    products = [
        Product(
            id=p.id,
            dealer_id=p.dealer_id,
            name=name if p.id == product_id else p.name,
            description=p.description,
            price=p.price,
            stock=p.stock,
            tags=p.tags,
        )
        for p in catalog.products
    ]
    return Catalog.of(catalog.dealers, products)


class ScriptedFallback:
    """A stand-in for the offline twin (an outside port here): answers with a fixed reading."""

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """A general-chat reading with the configured confidence."""
        understanding = Understanding(intent=Intent.GENERAL_CHAT, confidence=self.confidence)
        trace = AssistantTrace(engine="offline", model=None, prompt_version="nlu-1", latency_ms=1)
        return Understood(understanding=understanding, trace=trace)

    async def reply(self, request: ReplyRequest) -> Reply:
        """Never used: the resilient wrapper answers with its fixed text."""
        raise AssertionError("the fallback text is fixed")


def _failing_primary(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> OpenAIAssistant:
    fake_openai.enqueue(fake_api.http_error(503))
    return OpenAIAssistant(openai_clients(max_retries=0))


async def test_resilient_reply_gives_fallback_text_and_reports_failure(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients
) -> None:
    """When OpenAI fails, the customer gets the fallback text and the failure is reported."""
    failures: list[AssistantFailure] = []
    assistant = ResilientAssistant(
        _failing_primary(fake_openai, openai_clients),
        ScriptedFallback(0.9),
        on_failure=failures.append,
    )
    reply = await assistant.reply(ReplyRequest(intent=Intent.GENERAL_CHAT, customer_text="ciao"))
    assert reply.text == "Mi scusi, non ho potuto elaborare. Riprova tra poco."
    assert reply.trace.engine == "fallback"
    assert [(f.operation, f.fallback_used) for f in failures] == [("reply", True)]
    assert "HTTP 503" in failures[0].error


async def test_resilient_understand_uses_a_confident_fallback(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A fallback reading at or above the threshold answers in place of OpenAI."""
    failures: list[AssistantFailure] = []
    assistant = ResilientAssistant(
        _failing_primary(fake_openai, openai_clients),
        ScriptedFallback(0.8),
        on_failure=failures.append,
    )
    result = await assistant.understand("ciao", history=(), catalog=catalog)
    assert result.understanding.confidence == 0.8
    assert (result.trace.engine, result.trace.prompt_version) == ("fallback", "nlu-1")
    assert [f.fallback_used for f in failures] == [True]


async def test_resilient_understand_reraises_when_fallback_is_unsure(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """Below the confidence threshold the original AssistantError reaches the caller."""
    failures: list[AssistantFailure] = []
    assistant = ResilientAssistant(
        _failing_primary(fake_openai, openai_clients),
        ScriptedFallback(0.5),
        on_failure=failures.append,
    )
    with pytest.raises(AssistantError, match="HTTP 503"):
        await assistant.understand("ciao", history=(), catalog=catalog)
    assert [f.fallback_used for f in failures] == [False]


async def test_resilient_passes_primary_answers_through(
    openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """When OpenAI answers, its result is returned untouched and nothing is reported."""
    failures: list[AssistantFailure] = []
    assistant = ResilientAssistant(
        OpenAIAssistant(openai_clients()), ScriptedFallback(0.9), on_failure=failures.append
    )
    result = await assistant.understand("ciao", history=(), catalog=catalog)
    assert result.trace.engine == "openai"
    assert failures == []


async def test_product_question_blends_embedding_search_after_the_models_picks(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """A question with no product named by the model still gets search hits, best first."""
    fake_openai.enqueue(fake_api.json_reply(reading(intent="product_inquiry", products=[])))
    assistant = OpenAIAssistant(openai_clients())
    understood = await assistant.understand(
        "avete un termometro digitale?", history=(), catalog=catalog
    )
    ids = [h.product_id for h in understood.understanding.products]
    assert ids[0] == "p-termometro"
    assert len(ids) <= 5
    assert fake_openai.requests_to("embeddings"), "the search embedded the catalogue and the query"
