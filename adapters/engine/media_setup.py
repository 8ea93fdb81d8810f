"""Builds the conversation reactor's media step from settings and the clients the bootstrap built.

Media is read only when both halves exist: a Graph API messenger to download from (the
sandbox transport has no media) and an OpenAI-compatible server (``OPENAI_API_KEY``) to
transcribe voice notes (``LLM_TRANSCRIPTION_MODEL``) and read photographed lists
(``LLM_VISION_MODEL``). The readers use the assistant's own SDK client (its transport,
``LLM_HTTP_CLIENT``, timeout and retries) and draw from its request budget
(``LLM_REQUESTS_PER_MINUTE``): one budget for every call to the model server. Otherwise
each kind gets its honest offline answer.
"""

from __future__ import annotations

from collections.abc import Callable

from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.models import ModelChain
from adapters.assistant.transcribe import Transcriber
from adapters.assistant.vision import ListReader
from adapters.engine.media import MediaReaders, MediaStep
from adapters.meta.media import MediaDownloader, MediaLimits
from adapters.settings import Settings
from core.area import parse_area
from core.ports import Messenger


def build_media_step(
    settings: Settings,
    messenger: Messenger | None,
    client: AsyncOpenAI | None,
    budget: RequestBudget | None = None,
    watch: Callable[[ModelChain], None] | None = None,
) -> MediaStep:
    """The media step for ``settings``; ``messenger`` None means no media can be downloaded,
    ``client`` (the assistant's OpenAI SDK client) None means none can be read; ``budget``
    is the assistant's request budget.

    ``watch`` (the model watcher's) learns the transcription and vision chains, so their
    shutdown dates are checked and their fall-throughs recorded like the assistant's. They
    are watched whenever a client exists, even on the sandbox transport: they are
    configured, ``dloop-bot models`` reports them, and a switch to the Graph API must not
    be the first time anyone hears that one of them is retired.
    """
    area = parse_area(settings.delivery_area) if settings.delivery_area else None
    readers = MediaReaders(area=area, zones=settings.delivery_zones)
    if client is None:
        return MediaStep(readers)
    transcription = ModelChain.parse(settings.llm_transcription_model)
    vision = ModelChain.parse(settings.llm_vision_model)
    if watch is not None:
        watch(transcription)
        watch(vision)
    if messenger is None:
        return MediaStep(readers)
    limits = MediaLimits(
        audio_bytes=settings.media_max_audio_bytes, image_bytes=settings.media_max_image_bytes
    )
    return MediaStep(
        MediaReaders(
            downloader=MediaDownloader(messenger, limits),
            transcriber=Transcriber(client, transcription, budget),
            lists=ListReader(client, vision, budget),
            area=area,
            zones=settings.delivery_zones,
        )
    )
