"""Voice notes to text through the ``openai`` SDK's audio transcription API, in Italian.

Works with OpenAI and with any OpenAI-compatible server that offers
``POST /audio/transcriptions`` (a self-hosted Whisper server through ``OPENAI_BASE_URL``).
``models`` is the ``LLM_TRANSCRIPTION_MODEL`` chain (:class:`ModelChain`, ADR 0016): the
next model is tried only when the server answers "model not found"; any other failure
(429, 5xx, a timeout) would be the same for every model and ends the call after the
SDK's own retries. The language is always
``it``: it spares the model a guess on short notes, which is where guesses go wrong. The
``gpt-transcribe`` family takes it as ``languages`` (a list) and must not be sent the
legacy ``language`` as well; Whisper, the GPT-4o transcription models and self-hosted
Whisper servers take ``language`` (:func:`takes_languages`).
Each request draws from the assistant's :class:`RequestBudget` (shared with the chat
calls, through the same client). Failures become :class:`~core.ports.AssistantError`;
the bytes are only sent, never kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from openai import AsyncOpenAI, omit

from adapters.assistant.budget import RequestBudget
from adapters.assistant.models import ModelChain
from adapters.assistant.sdk_errors import acquire, describe_error
from core.ports import AssistantError

LANGUAGE = "it"
_LANGUAGES_FAMILIES = ("gpt-transcribe", "gpt-live-transcribe")
_EXTENSIONS = {"audio/ogg": "ogg", "audio/opus": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a"}


def takes_languages(model: str) -> bool:
    """True when ``model`` takes the ``languages`` list rather than the legacy ``language``."""
    return model.startswith(_LANGUAGES_FAMILIES)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelAnswer:
    """A model's reading of media: its text, which model and how long it took."""

    text: str
    model: str
    latency_ms: int


class Transcriber:
    """Transcribes audio bytes with the first usable model of its :class:`ModelChain`."""

    def __init__(
        self,
        client: AsyncOpenAI,
        models: ModelChain | Sequence[str],
        budget: RequestBudget | None = None,
    ) -> None:
        self._client = client
        self._budget = budget
        self.chain = models if isinstance(models, ModelChain) else ModelChain(tuple(models))

    async def transcribe(self, audio: bytes, mime_type: str) -> ModelAnswer:
        """The Italian transcript of ``audio``; raises :class:`AssistantError`."""
        name = f"voice.{_EXTENSIONS.get(mime_type, mime_type.rsplit('/', 1)[-1])}"

        async def once(model: str) -> ModelAnswer:
            await acquire(self._budget)
            started = time.perf_counter()
            listed = takes_languages(model)
            result = await self._client.audio.transcriptions.create(
                model=model,
                file=(name, audio, mime_type),
                language=omit if listed else LANGUAGE,
                languages=[LANGUAGE] if listed else omit,
            )
            latency = round((time.perf_counter() - started) * 1000)
            return ModelAnswer(text=result.text.strip(), model=model, latency_ms=latency)

        try:
            return await self.chain.run(once)
        except Exception as exc:
            raise AssistantError(f"OpenAI transcription: {describe_error(exc)}") from exc
