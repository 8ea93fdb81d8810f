"""The media step of a conversation turn: read what needs a model, record it, rewrite the turn.

For each voice note (and each photo without a caption) of a turn that the rules will
answer, the bytes are downloaded (:class:`~adapters.meta.media.MediaDownloader`) and read
by a model (:class:`~adapters.assistant.transcribe.Transcriber`,
:class:`~adapters.assistant.vision.ListReader`). The outcome, ``MediaRead`` or
``MediaFailed``, joins the turn's prelude: it is appended ahead of the decisions that use
it, in the same append, so replay and a retried turn read it back and never download or
call the model again. Without a reader for a kind (no ``OPENAI_API_KEY``, or the sandbox
transport, which has no media) nothing is called and the offline answer is given.
The pure rewrite of the turn is :func:`core.media.prepare`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog

from adapters.assistant.transcribe import Transcriber
from adapters.assistant.vision import ListReader
from adapters.meta.media import Downloaded, MediaDownloader, MediaError
from core import media
from core.area import DeliveryArea
from core.conversation import ConversationState, CustomerTurn
from core.ports import AssistantError
from core.turn_rules import needs_understanding
from events.base import RecordedEvent
from events.media import ListLine, MediaFailed, MediaRead
from events.whatsapp import MessageReceived

log = structlog.get_logger(__name__)
ERROR_MAX = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaReaders:
    """What can read media in this process; any part None means offline for that kind."""

    downloader: MediaDownloader | None = None
    transcriber: Transcriber | None = None
    lists: ListReader | None = None
    area: DeliveryArea | None = None
    zones: str | None = None


class MediaStep:
    """Reads a turn's media (recording the outcome) and rewrites the turn (module docstring)."""

    def __init__(self, readers: MediaReaders | None = None) -> None:
        self.readers = readers or MediaReaders()

    async def prepare(
        self,
        history: Sequence[RecordedEvent],
        state: ConversationState,
        facts: Sequence[MessageReceived],
        now: datetime,
        prelude: list[Any],
    ) -> media.MediaTurn:
        """The turn the rules read; new readings are appended to ``prelude``."""
        if not facts:
            return media.MediaTurn(messages=(), notes=(), lead=None)
        readings = media.recorded_readings(history)
        if needs_understanding(state, CustomerTurn.of(facts), now):
            for fact in facts:
                if fact.wamid not in readings:
                    reading = await self._read(fact)
                    if reading is not None:
                        readings[fact.wamid] = reading
                        prelude.append(reading)
        around = media.Surroundings(
            state=state,
            history=[e.payload for e in history],
            area=self.readers.area,
            zones=self.readers.zones,
        )
        return media.prepare(facts, readings, around)

    async def _read(self, fact: MessageReceived) -> media.Reading | None:
        operation = media.needs_reading(fact)
        r = self.readers
        reader = r.transcriber if operation == media.TRANSCRIPTION else r.lists
        if operation is None or reader is None or r.downloader is None or fact.media is None:
            return None
        media_id = str(fact.media.id)
        try:
            got = await r.downloader.download(media_id, fact.kind)
        except MediaError as exc:
            log.warning("media.download_failed", kind=fact.kind, reason=exc.reason)
            return _failed(fact, media_id, "download", exc.reason, str(exc))
        try:
            return await self._model(fact, media_id, operation, got)
        except AssistantError as exc:
            log.warning("media.model_failed", kind=fact.kind, operation=operation)
            return _failed(fact, media_id, operation, "model", str(exc))

    async def _model(
        self, fact: MessageReceived, media_id: str, operation: str, got: Downloaded
    ) -> media.Reading:
        r = self.readers
        if operation == media.TRANSCRIPTION and r.transcriber is not None:
            heard = await r.transcriber.transcribe(got.content, got.mime_type)
            if not heard.text:
                return _failed(fact, media_id, operation, "silence", "empty transcript")
            return _read(
                fact,
                media_id,
                operation,
                got,
                model=heard.model,
                latency_ms=heard.latency_ms,
                text=heard.text,
            )
        assert r.lists is not None
        seen = await r.lists.read(got.content, got.mime_type)
        read = _read(
            fact,
            media_id,
            operation,
            got,
            model=seen.model,
            latency_ms=seen.latency_ms,
            text=seen.text,
        )
        lines = tuple(ListLine(words=w, quantity=q) for w, q in seen.lines)
        return replace(read, is_list=seen.is_list, lines=lines)


def _read(
    fact: MessageReceived,
    media_id: str,
    operation: str,
    got: Downloaded,
    *,
    model: str,
    latency_ms: int,
    text: str,
) -> MediaRead:
    return MediaRead(
        wamid=fact.wamid,
        media_id=media_id,
        kind=fact.kind,
        operation=operation,
        sha256=got.sha256,
        mime_type=got.mime_type,
        size=got.size,
        model=model,
        latency_ms=latency_ms,
        text=text,
    )


def _failed(
    fact: MessageReceived, media_id: str, stage: str, reason: str, error: str
) -> MediaFailed:
    return MediaFailed(
        wamid=fact.wamid,
        media_id=media_id,
        kind=fact.kind,
        stage=stage,
        reason=reason,
        error=error[:ERROR_MAX],
    )
