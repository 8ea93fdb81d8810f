"""An assistant that falls back when the primary one (the LLM) fails.

The SDK has already retried by the time the primary raises
:class:`~core.ports.AssistantError`; this wrapper decides what the customer gets:

* ``understand`` answers with the fallback's (offline NLU's) reading when it is
  confident enough (``min_fallback_confidence``), otherwise re-raises the error;
* ``reply`` answers with the fixed Italian ``fallback_text``.

Every answer given in place of the primary carries a trace whose engine is
``"fallback"``. Failures are reported through the ``on_failure`` callback, called in
the caller's task before the fallback answer is returned, with an
:class:`AssistantFailure`; the conversation reactor uses it to append an
``AssistantFailed`` event and a review-queue item. :class:`FailureCollector` is that
callback: the reactor opens :meth:`FailureCollector.collect` around each call and records
what was reported inside it (per task, so concurrent conversations never mix).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from core.catalog import Catalog
from core.ports import (
    Assistant,
    AssistantError,
    AssistantTrace,
    Reply,
    ReplyRequest,
    Turn,
    Understood,
)

FALLBACK_TEXT = "Mi scusi, non ho potuto elaborare. Riprova tra poco."
FALLBACK_ENGINE = "fallback"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantFailure:
    """The primary assistant failed on one call; what happened and how it was covered."""

    operation: str  # "understand" | "reply"
    error: str  # the AssistantError's message
    fallback_used: bool  # False: the error was re-raised to the caller


class FailureCollector:
    """An ``on_failure`` callback that hands failures to whoever is collecting in this task."""

    def __init__(self) -> None:
        self._current: ContextVar[list[AssistantFailure] | None] = ContextVar(
            "assistant_failures", default=None
        )

    def report(self, failure: AssistantFailure) -> None:
        """Keep ``failure`` for the innermost :meth:`collect` of the calling task, if any."""
        collecting = self._current.get()
        if collecting is not None:
            collecting.append(failure)

    @contextlib.contextmanager
    def collect(self) -> Iterator[list[AssistantFailure]]:
        """The failures reported by calls made inside this block (by this task)."""
        collected: list[AssistantFailure] = []
        token = self._current.set(collected)
        try:
            yield collected
        finally:
            self._current.reset(token)


class ResilientAssistant:
    """:class:`core.ports.Assistant` that covers the primary's failures with a fallback."""

    def __init__(
        self,
        primary: Assistant,
        fallback: Assistant,
        *,
        fallback_text: str = FALLBACK_TEXT,
        min_fallback_confidence: float = 0.8,
        on_failure: Callable[[AssistantFailure], None] | None = None,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._fallback_text = fallback_text
        self._min_confidence = min_fallback_confidence
        self._on_failure = on_failure

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """The primary's reading, else the fallback's if confident enough, else raise."""
        try:
            return await self._primary.understand(text, history=history, catalog=catalog)
        except AssistantError as error:
            primary_error = error
        try:
            backup = await self._fallback.understand(text, history=history, catalog=catalog)
        except AssistantError:
            backup = None
        usable = backup is not None and backup.understanding.confidence >= self._min_confidence
        self._report("understand", primary_error, fallback_used=usable)
        if backup is None or not usable:
            raise primary_error
        trace = dataclasses.replace(backup.trace, engine=FALLBACK_ENGINE)
        return Understood(understanding=backup.understanding, trace=trace)

    async def reply(self, request: ReplyRequest) -> Reply:
        """The primary's reply, else the fixed fallback text."""
        try:
            return await self._primary.reply(request)
        except AssistantError as error:
            self._report("reply", error, fallback_used=True)
        trace = AssistantTrace(
            engine=FALLBACK_ENGINE, model=None, prompt_version="fallback", latency_ms=0
        )
        return Reply(text=self._fallback_text, trace=trace)

    def _report(self, operation: str, error: AssistantError, *, fallback_used: bool) -> None:
        if self._on_failure is not None:
            failure = AssistantFailure(
                operation=operation, error=str(error), fallback_used=fallback_used
            )
            self._on_failure(failure)
