"""A fallback chain of OpenAI models, for chat, transcription and vision alike.

:class:`ModelChain` holds the ordered names from one setting (``LLM_MODEL``,
``LLM_TRANSCRIPTION_MODEL``, ``LLM_VISION_MODEL``) and what is known of each: the
``shutdown_date`` learnt by the daily check (:mod:`adapters.assistant.model_check`) and
any "model not found" answer met mid-run. :meth:`ModelChain.run` calls an operation with
the first usable model and moves to the next one when the server answers that the model
does not exist (HTTP 404, or ``code: model_not_found``); every other error is the
caller's, unchanged. A model past its shutdown date is not even tried.

Usage, for any OpenAI call that names a model::

    chain = ModelChain.parse(settings.llm_transcription_model)
    result = await chain.run(lambda model: client.audio.transcriptions.create(model=model, ...))

Which model answered is for the caller to record (the assistant's trace does). A
fall-through is reported to ``on_fallthrough`` (the model watcher records it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import TypeVar

import openai

from core.models import ModelFacts, parse_chain, usable

T = TypeVar("T")
FallThrough = Callable[[str, str], Awaitable[None]]  # (model, error)


def utc_today() -> date:
    """Today's date in UTC (the day shutdown dates refer to)."""
    return datetime.now(UTC).date()


def is_model_missing(exc: BaseException) -> bool:
    """True for the server's "this model does not exist (any more)" answer."""
    if not isinstance(exc, openai.APIStatusError):
        return False
    return exc.status_code == 404 or getattr(exc, "code", None) == "model_not_found"


def missing_text(exc: BaseException) -> str:
    """A short description of a "model not found" answer."""
    code = getattr(exc, "code", None) or "not_found"
    status = getattr(exc, "status_code", "?")
    message = getattr(exc, "message", "") or str(exc)
    return f"HTTP {status} {code}: {message}"[:300]


class ModelChain:
    """Ordered model names with what is known of each (see the module docstring)."""

    def __init__(
        self,
        models: tuple[str, ...],
        *,
        today: Callable[[], date] = utc_today,
        on_fallthrough: FallThrough | None = None,
    ) -> None:
        if not models or len(set(models)) != len(models):
            raise ValueError("a model chain needs distinct names")
        self.models = models
        self.today = today
        self.on_fallthrough = on_fallthrough
        self.facts: dict[str, ModelFacts] = {}

    @classmethod
    def parse(cls, raw: str, *, today: Callable[[], date] = utc_today) -> ModelChain:
        """A chain from a comma-separated setting; :class:`core.models.ChainError` if unusable."""
        return cls(parse_chain(raw), today=today)

    @property
    def primary(self) -> str:
        """The first configured model."""
        return self.models[0]

    def current(self) -> str:
        """The model the next request will try first."""
        return self.usable()[0]

    def usable(self) -> list[str]:
        """The models worth trying today, in order (never empty)."""
        return usable(self.models, self.facts, self.today())

    def learn(self, facts: Mapping[str, ModelFacts]) -> None:
        """Take what a check found out about this chain's models (others are ignored)."""
        for model in self.models:
            if model in facts:
                self.facts[model] = facts[model]

    def mark_missing(self, model: str, note: str) -> None:
        """``model`` answered "not found": skip it until a check lists it again."""
        known = self.facts.get(model)
        shutdown = known.shutdown if known else None
        self.facts[model] = ModelFacts(
            model=model, listed=True, shutdown=shutdown, note=note, not_found=True
        )

    async def run(self, call: Callable[[str], Awaitable[T]]) -> T:
        """``call(model)`` with the first usable model; on "model not found", the next one.

        The last "not found" error is raised when every model answered it.
        """
        missing: BaseException | None = None
        for model in self.usable():
            try:
                return await call(model)
            except openai.APIStatusError as exc:
                if not is_model_missing(exc):
                    raise
                missing = exc
                self.mark_missing(model, missing_text(exc))
                if self.on_fallthrough is not None:
                    await self.on_fallthrough(model, missing_text(exc))
        assert missing is not None  # usable() is never empty
        raise missing
