"""OpenAI SDK failures in our own words, and the request budget taken before each call.

Shared by the chat, embedding, transcription and vision adapters: :func:`sdk_errors`
turns any SDK or parsing failure into an :class:`~core.ports.AssistantError` whose
message :func:`describe_error` keeps short and free of the request's content.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import openai
import pydantic

from adapters.assistant.budget import BudgetExhaustedError, RequestBudget
from core.ports import AssistantError


async def acquire(budget: RequestBudget | None) -> None:
    """Take one request from ``budget`` (none given: no limit)."""
    if budget is not None:
        await budget.acquire()


@contextmanager
def sdk_errors(operation: str) -> Iterator[None]:
    """Translate SDK and parsing failures into :class:`AssistantError`."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:
        raise AssistantError(f"OpenAI {operation}: {describe_error(exc)}") from exc


def describe_error(exc: BaseException) -> str:
    """A short, log-safe description of an SDK or parsing failure."""
    match exc:
        case openai.APITimeoutError():
            return "timed out after the SDK's retries"
        case openai.APIConnectionError():
            return "could not connect after the SDK's retries"
        case openai.RateLimitError():
            return "rate limited (HTTP 429) after the SDK's retries"
        case openai.APIStatusError(status_code=status):
            return f"HTTP {status} ({type(exc).__name__})"
        case openai.LengthFinishReasonError():
            return "answer cut by the completion token cap"
        case openai.ContentFilterFinishReasonError():
            return "answer blocked by the content filter"
        case BudgetExhaustedError():
            return f"request budget exhausted ({exc})"
        case pydantic.ValidationError():
            return f"answer does not match the schema ({exc.error_count()} errors)"
        case ValueError():
            return f"malformed answer ({type(exc).__name__})"
        case _:
            return f"unexpected {type(exc).__name__}"
