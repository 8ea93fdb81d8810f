"""Ask the server what it knows of the configured models: ``GET /v1/models``, else a probe.

OpenAI lists every model with an optional ``shutdown_date`` (``YYYY-MM-DD`` or null).
OpenAI-compatible servers that send no date (Ollama, vLLM) mean "no date"; a malformed
date is kept as a note and treated as no date. A server without the listing endpoint
(404) is checked with a one-token chat request per model instead: an answer means the
model exists, "model not found" means it does not. Requests go through the service's own
client (its timeout and retries) and draw from its :class:`RequestBudget`.

:func:`check_models` raises :class:`ModelCheckError` when the server cannot be asked at
all; the caller records that and keeps what it knew.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.models import is_model_missing
from core.models import ModelFacts, parse_shutdown_date

LIST = "list"
PROBE = "probe"


class ModelCheckError(Exception):
    """The server could not be asked (down, refused the key, answered nonsense)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCheck:
    """What the server said of each asked model, and how it was asked."""

    method: str  # list | probe
    facts: dict[str, ModelFacts]


async def check_models(
    client: AsyncOpenAI, models: Iterable[str], *, budget: RequestBudget | None = None
) -> ModelCheck:
    """Facts about ``models`` from the listing, or from probes where there is none."""
    wanted = list(dict.fromkeys(models))
    try:
        listed = await _listing(client, budget)
    except openai.NotFoundError:
        return ModelCheck(method=PROBE, facts={m: await _probe(client, m, budget) for m in wanted})
    except (openai.OpenAIError, ValueError) as exc:
        raise ModelCheckError(_describe(exc)) from exc
    return ModelCheck(method=LIST, facts={m: _fact(m, listed) for m in wanted})


async def _listing(client: AsyncOpenAI, budget: RequestBudget | None) -> dict[str, Any]:
    """``{id: entry}`` of ``GET /models``; entries are the server's JSON objects."""
    if budget is not None:
        await budget.acquire()
    document = await client.get("/models", cast_to=object)
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise ValueError("the model list has no 'data' array")
    return {str(e["id"]): e for e in data if isinstance(e, dict) and "id" in e}


def _fact(model: str, listed: dict[str, Any]) -> ModelFacts:
    entry = listed.get(model)
    if entry is None:
        return ModelFacts(model=model, listed=False)
    shutdown, note = parse_shutdown_date(entry.get("shutdown_date"))
    return ModelFacts(model=model, listed=True, shutdown=shutdown, note=note)


async def _probe(client: AsyncOpenAI, model: str, budget: RequestBudget | None) -> ModelFacts:
    """A one-token chat request: does the server know ``model``?"""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "ping"}],
        "max_completion_tokens": 1,
    }
    try:
        if budget is not None:
            await budget.acquire()
        await client.post("/chat/completions", cast_to=object, body=body)
    except openai.APIStatusError as exc:
        if is_model_missing(exc):
            return ModelFacts(model=model, listed=False, note="probe: model not found")
        raise ModelCheckError(_describe(exc)) from exc
    except (openai.OpenAIError, ValueError) as exc:
        raise ModelCheckError(_describe(exc)) from exc
    return ModelFacts(model=model, listed=True, note="probe: no /v1/models; no date known")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code} ({type(exc).__name__})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"
