"""The assistant port on OpenAI's chat completions, with strict structured outputs.

``understand`` asks for a JSON object matching a strict schema (intent, confidence,
cart, unresolved items, products asked about, edits of the open cart and a short answer
to "Confermi?") over a preselected set of catalogue
rows, then trusts nothing: a product id that is not in the catalogue becomes an
unresolved item. Classification runs at temperature 0 with its own token cap
(``understanding_max_tokens``: a cart in JSON needs more room than a short reply);
``temperature`` and ``max_completion_tokens`` are the reply's settings. ``reply``
writes the Italian text, grounded in the rows, facts and deterministic draft of the
:class:`~core.ports.ReplyRequest`; general chat without product rows is served from
the optional :class:`ReplyCache`, keyed also by a fingerprint of the facts, the draft
and the catalogue last seen by ``understand``. An optional :class:`RequestBudget`
is acquired before every request (SDK retries are not counted again).

The model is a :class:`~adapters.assistant.models.ModelChain` (``LLM_MODEL`` may name
several, ``"primary,fallback"``): a "model not found" answer moves the request to the
next model, and the trace names the model that answered.

Retries are the SDK's own (``max_retries`` and ``timeout`` are set on the client by
:func:`build_openai_client`); this adapter adds none. Every SDK failure, a reply cut
by the token cap, a refusal and an answer that does not fit the schema become an
:class:`~core.ports.AssistantError` whose message says which.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from openai import AsyncOpenAI, DefaultAioHttpClient
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion

from adapters.assistant import prompts
from adapters.assistant.budget import RequestBudget
from adapters.assistant.cache import ReplyCache
from adapters.assistant.models import ModelChain
from adapters.assistant.reading import (
    READING_FORMAT,
    CustomerMessageReading,
    validated,
)
from adapters.assistant.sdk_errors import acquire, sdk_errors
from core.catalog import Catalog, Product
from core.models import DEFAULT_CHAT_MODELS
from core.ports import AssistantError, AssistantTrace, Reply, ReplyRequest, Turn, Understood
from core.understanding import Intent, ProductHit, Understanding

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def build_openai_client(
    *,
    api_key: str,
    base_url: str | None = None,
    timeout: float = 20.0,
    max_retries: int = 3,
    http: str = "httpx",
) -> AsyncOpenAI:
    """The one way the service builds its OpenAI client: explicit timeout and SDK retries.

    ``http="aiohttp"`` moves the SDK's bytes through its own aiohttp transport (one pooled
    ``aiohttp.ClientSession``, keep-alive; the SDK's retries, timeouts and error types are
    unchanged): about half the client's CPU per call in ``bench e2e`` (ADR 0021). Whoever
    builds such a client closes it (``await client.close()``), or aiohttp warns at exit.
    """
    return AsyncOpenAI(
        api_key=api_key,
        base_url=base_url or DEFAULT_BASE_URL,
        timeout=timeout,
        max_retries=max_retries,
        http_client=DefaultAioHttpClient(timeout=timeout) if http == "aiohttp" else None,
    )


SEARCH_LIMIT = 5


async def _chat_on(
    client: AsyncOpenAI, models: ModelChain, budget: RequestBudget | None, body: dict[str, Any]
) -> ChatCompletion:
    """:func:`_chat` on the first usable model of ``models``, falling through on "not found"."""

    async def attempt(model: str) -> ChatCompletion:
        await acquire(budget)
        return await _chat(client, {"model": model, **body})

    return await models.run(attempt)


async def _chat(client: AsyncOpenAI, body: dict[str, Any]) -> ChatCompletion:
    """``POST /chat/completions`` with a body we built as plain JSON.

    The SDK's typed methods pass every request through a recursive TypedDict transform
    that cost about 2 ms of CPU per call (12 ms under cProfile) in ``bench e2e``, the
    largest single cost of a turn. Our bodies are plain JSON already, so we use the
    client's documented low-level ``post``: same authentication, retries, timeouts and
    error types, and the answer parsed into the SDK's own :class:`ChatCompletion`.
    """
    return await client.post("/chat/completions", cast_to=ChatCompletion, body=body)


def _content(completion: ChatCompletion, operation: str) -> str:
    """The first choice's text; a cut, filtered, refused or empty answer is an error."""
    choice = completion.choices[0] if completion.choices else None
    if choice is None:
        raise AssistantError(f"OpenAI {operation}: no choices in the answer")
    if choice.finish_reason == "length":
        raise AssistantError(f"OpenAI {operation}: cut by the completion token cap")
    if choice.finish_reason == "content_filter" or choice.message.refusal:
        raise AssistantError(
            f"OpenAI {operation}: refused ({choice.message.refusal or 'content filter'})"
        )
    if choice.message.content is None:
        raise AssistantError(f"OpenAI {operation}: empty answer")
    return choice.message.content


class OpenAIAssistant:
    """:class:`core.ports.Assistant` backed by OpenAI chat completions."""

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str | ModelChain = DEFAULT_CHAT_MODELS,
        temperature: float = 0.7,
        max_completion_tokens: int = 150,
        history_turns: int = 8,
        embedding_model: str = "text-embedding-3-small",
        candidate_limit: int = 25,
        budget: RequestBudget | None = None,
        cache: ReplyCache | None = None,
        understanding_max_tokens: int = 400,
    ) -> None:
        self._client = client
        self.models = model if isinstance(model, ModelChain) else ModelChain.parse(model)
        self._temperature = temperature
        self._max_tokens = max_completion_tokens
        self._understanding_tokens = understanding_max_tokens
        self._history_turns = history_turns
        self._candidate_limit = candidate_limit
        self._budget = budget
        self._cache = cache
        self.embeddings = ProductEmbeddings(client, model=embedding_model, budget=budget)
        self._catalog_seen: Catalog | None = None
        self._catalog_version = ""

    @property
    def client(self) -> AsyncOpenAI:
        """The SDK client (shared with the model watcher: same retries and timeout)."""
        return self._client

    @property
    def budget(self) -> RequestBudget | None:
        """The request budget every call draws from."""
        return self._budget

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """Classify ``text``; ids the model returns are checked against ``catalog``."""
        self._note_catalog(catalog)
        recent = [t.text for t in history[-2:] if t.role == "customer"]
        candidates = prompts.preselect(" ".join([*recent, text]), catalog, self._candidate_limit)
        messages = prompts.understanding_messages(
            text,
            history=history,
            candidates=candidates,
            catalog=catalog,
            history_turns=self._history_turns,
        )
        started = time.perf_counter()
        with sdk_errors("understand"):
            completion = await _chat_on(
                self._client,
                self.models,
                self._budget,
                {
                    "messages": messages,
                    "response_format": READING_FORMAT,
                    "temperature": 0,
                    "max_completion_tokens": self._understanding_tokens,
                },
            )
            content = _content(completion, "understand")
            reading = CustomerMessageReading.model_validate_json(content)
        understanding = validated(reading, catalog)
        if understanding.intent is Intent.PRODUCT_INQUIRY:
            understanding = await self._with_search(text, catalog, understanding)
        return Understood(understanding=understanding, trace=_trace(completion, started))

    async def _with_search(
        self, text: str, catalog: Catalog, understanding: Understanding
    ) -> Understanding:
        """Product questions: the model's picks first, then embedding+lexical search hits."""
        with sdk_errors("search"):
            hits = await self.embeddings.search(text, catalog, limit=SEARCH_LIMIT)
        picked = {h.product_id for h in understanding.products}
        merged = [*understanding.products, *(h for h in hits if h.product_id not in picked)]
        return replace(understanding, products=tuple(merged[:SEARCH_LIMIT]))

    async def reply(self, request: ReplyRequest) -> Reply:
        """Write the Italian reply; cacheable general chat is served from the cache."""
        key = self._cache_version(request)
        if self._cache is not None and key is not None:
            cached = self._cache.get(
                request.customer_text, prompt_version=prompts.PROMPT_VERSION, catalog_version=key
            )
            if cached is not None:
                return Reply(text=cached, trace=self._cache_trace())
        text, trace = await self._complete(request)
        if self._cache is not None and key is not None:
            self._cache.put(
                request.customer_text,
                text,
                prompt_version=prompts.PROMPT_VERSION,
                catalog_version=key,
            )
        return Reply(text=text, trace=trace)

    async def _complete(self, request: ReplyRequest) -> tuple[str, AssistantTrace]:
        messages = prompts.reply_messages(request, history_turns=self._history_turns)
        started = time.perf_counter()
        with sdk_errors("reply"):
            completion = await _chat_on(
                self._client,
                self.models,
                self._budget,
                {
                    "messages": messages,
                    "temperature": self._temperature,
                    "max_completion_tokens": self._max_tokens,
                },
            )
        text = _content(completion, "reply").strip()
        if not text:
            raise AssistantError("OpenAI reply: empty text")
        return text, _trace(completion, started)

    def _note_catalog(self, catalog: Catalog) -> None:
        if catalog is not self._catalog_seen:
            self._catalog_seen = catalog
            rows = "\n".join(f"{p.id}|{p.name}|{p.price}|{p.stock}" for p in catalog.products)
            self._catalog_version = hashlib.sha256(rows.encode()).hexdigest()[:16]

    def _cache_version(self, request: ReplyRequest) -> str | None:
        """The cache's version key, or None when the reply depends on this customer."""
        if request.intent is not Intent.GENERAL_CHAT or request.products:
            return None
        facts = "\n".join(f"{k}={v}" for k, v in sorted(request.facts.items()))
        context = hashlib.sha256(f"{facts}\n{request.draft}".encode()).hexdigest()[:16]
        return f"{self._catalog_version}:{context}"

    def _cache_trace(self) -> AssistantTrace:
        return AssistantTrace(
            engine="cache",
            model=self.models.current(),
            prompt_version=prompts.PROMPT_VERSION,
            latency_ms=0,
            cached=True,
        )


def _trace(completion: ChatCompletion, started: float) -> AssistantTrace:
    usage: CompletionUsage | None = completion.usage
    return AssistantTrace(
        engine="openai",
        model=completion.model,
        prompt_version=prompts.PROMPT_VERSION,
        latency_ms=round((time.perf_counter() - started) * 1000),
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
    )


class ProductEmbeddings:
    """Embedding vectors of catalogue products, blended with lexical overlap for search.

    Vectors live in memory keyed by product id and a hash of name, description and
    tags, so a product whose text changes is embedded again on the next refresh.
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str = "text-embedding-3-small",
        batch_size: int = 96,
        semantic_weight: float = 0.7,
        lexical_weight: float = 0.3,
        budget: RequestBudget | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._batch = batch_size
        self._weights = (semantic_weight, lexical_weight)
        self._budget = budget
        self._vectors: dict[str, tuple[str, list[float]]] = {}
        self._lock = asyncio.Lock()

    async def refresh(self, catalog: Catalog) -> int:
        """Embed new or changed products, forget removed ones; returns how many were embedded."""
        async with self._lock:
            stale = [p for p in catalog.products if self._digest_of(p.id) != _digest(p)]
            for start in range(0, len(stale), self._batch):
                batch = stale[start : start + self._batch]
                vectors = await self._embed([_embedding_text(p) for p in batch])
                for product, vector in zip(batch, vectors, strict=True):
                    self._vectors[product.id] = (_digest(product), vector)
            for gone in self._vectors.keys() - {p.id for p in catalog.products}:
                del self._vectors[gone]
            return len(stale)

    async def search(self, query: str, catalog: Catalog, limit: int = 5) -> list[ProductHit]:
        """Products best matching ``query``, scored by weighted cosine and lexical overlap."""
        await self.refresh(catalog)
        (query_vector,) = await self._embed([query])
        stems = prompts.tokens(query)
        scored = [(self._blend(query_vector, stems, p), p.id) for p in catalog.products]
        scored.sort(key=lambda pair: -pair[0])
        return [ProductHit(product_id=pid, score=round(s, 4)) for s, pid in scored[:limit]]

    def _blend(self, query_vector: list[float], stems: frozenset[str], product: Product) -> float:
        semantic, lexical = self._weights
        cosine = max(_cosine(query_vector, self._vectors[product.id][1]), 0.0)
        return semantic * cosine + lexical * prompts.lexical_score(stems, product)

    def vector(self, product_id: str) -> list[float] | None:
        """The stored vector of a product, if embedded."""
        stored = self._vectors.get(product_id)
        return stored[1] if stored else None

    def _digest_of(self, product_id: str) -> str | None:
        stored = self._vectors.get(product_id)
        return stored[0] if stored else None

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        with sdk_errors("embeddings"):
            await acquire(self._budget)
            response = await self._client.embeddings.create(model=self._model, input=texts)
            ordered = sorted(response.data, key=lambda item: item.index)
            if len(ordered) != len(texts):
                raise ValueError(f"{len(ordered)} vectors for {len(texts)} inputs")
            return [list(item.embedding) for item in ordered]


def _embedding_text(product: Product) -> str:
    return " | ".join([product.name, product.description, ", ".join(product.tags)])


def _digest(product: Product) -> str:
    return hashlib.sha256(_embedding_text(product).encode()).hexdigest()


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
