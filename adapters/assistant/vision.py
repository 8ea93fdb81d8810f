"""Photographed shopping lists read by a vision-capable chat model, under a strict schema.

The model gets the image (a ``data:`` URL: nothing is uploaded anywhere else) and must
answer a strict JSON schema: whether the photo is a shopping list, and its lines as
product words and quantities. It never sees our catalogue or prices: the words go
through our own matching and pricing like a typed message. ``models`` is the
``LLM_VISION_MODEL`` chain (the next model only on "model not found", as for
transcription); each request draws from the assistant's :class:`RequestBudget`.
Failures become :class:`~core.ports.AssistantError`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion

from adapters.assistant.budget import RequestBudget
from adapters.assistant.models import ModelChain
from adapters.assistant.reading import strict_schema
from adapters.assistant.sdk_errors import acquire, describe_error
from core.ports import AssistantError

PROMPT_VERSION = "dloop-list-2026.1"
SYSTEM = (
    "Leggi la foto inviata da un cliente di un servizio di consegne in Italia. "
    "Se è una lista della spesa (scritta a mano o stampata), riporta ogni riga come parole "
    "del prodotto, senza marche inventate, e la quantità (1 se non indicata). "
    "Se non è una lista, is_list è false e lines è vuota. Non aggiungere prezzi."
)
MAX_LINES = 30


class _Line(pydantic.BaseModel):
    words: str
    quantity: int


class ShoppingListReading(pydantic.BaseModel):
    """The strict JSON schema the model fills in for a photo."""

    is_list: bool
    lines: list[_Line]


LIST_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "ShoppingListReading",
        "strict": True,
        "schema": strict_schema(ShoppingListReading),
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAnswer:
    """A vision reading: is it a list, its lines, which model and how long it took."""

    is_list: bool
    lines: tuple[tuple[str, int], ...]  # (product words, quantity)
    model: str
    latency_ms: int

    @property
    def text(self) -> str:
        """The lines as a customer would type them, one per line: ``2 mozzarella``."""
        return "\n".join(f"{quantity} {words}" for words, quantity in self.lines)


class ListReader:
    """Reads a photo with the first usable model of its :class:`ModelChain`."""

    def __init__(
        self,
        client: AsyncOpenAI,
        models: ModelChain | Sequence[str],
        budget: RequestBudget | None = None,
        max_tokens: int = 600,
    ) -> None:
        self._client = client
        self._budget = budget
        self.chain = models if isinstance(models, ModelChain) else ModelChain(tuple(models))
        self._max_tokens = max_tokens

    async def read(self, image: bytes, mime_type: str) -> ListAnswer:
        """The shopping list in ``image``; raises :class:`AssistantError`."""
        url = f"data:{mime_type};base64,{base64.b64encode(image).decode()}"

        async def once(model: str) -> ListAnswer:
            await acquire(self._budget)
            started = time.perf_counter()
            reading = await self._ask(model, url)
            latency = round((time.perf_counter() - started) * 1000)
            return _answer(reading, model, latency)

        try:
            return await self.chain.run(once)
        except Exception as exc:
            raise AssistantError(f"OpenAI vision: {describe_error(exc)}") from exc

    async def _ask(self, model: str, url: str) -> ShoppingListReading:
        body = {
            "model": model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Cosa c'è scritto in questa foto?"},
                        {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
                    ],
                },
            ],
            "response_format": LIST_FORMAT,
            "temperature": 0,
            "max_completion_tokens": self._max_tokens,
        }
        completion = await self._client.post("/chat/completions", cast_to=ChatCompletion, body=body)
        choice = completion.choices[0] if completion.choices else None
        if choice is None or choice.finish_reason != "stop" or not choice.message.content:
            reason = "no answer" if choice is None else choice.finish_reason
            refused = choice.message.refusal if choice is not None else None
            raise ValueError(f"unusable answer ({reason}, refusal={refused!r})")
        return ShoppingListReading.model_validate_json(choice.message.content)


def _answer(reading: ShoppingListReading, model: str, latency_ms: int) -> ListAnswer:
    lines = [(" ".join(x.words.split()), max(1, min(x.quantity, 99))) for x in reading.lines]
    kept = tuple((w, q) for w, q in lines if w)[:MAX_LINES]
    return ListAnswer(
        is_list=reading.is_list and bool(kept), lines=kept, model=model, latency_ms=latency_ms
    )
