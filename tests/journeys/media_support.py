"""A service wired to the fake Graph API (and, when configured, the fake OpenAI server) on
SQLite or PostgreSQL, and the Meta-shaped media messages customers send.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from adapters.bootstrap import build
from adapters.fakes.graph_api import FakeGraphApi
from adapters.fakes.openai_server import FakeOpenAI
from adapters.readmodel.tables import review_queue
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.web.app import create_app
from core.conversation_texts import CONFIRM_ID
from events.conversation import OutboundSent, ReplyQueued
from tests.conftest import drop_pg_schema, make_pg_engines
from tests.e2e.conftest import test_settings
from tests.journeys.conftest import PATIENCE, GraphJourney, what_if_agrees

FIXTURES = Path(__file__).parents[1] / "fixtures" / "media"
VOICE = FIXTURES / "voice.ogg"
PHOTO = FIXTURES / "list.jpg"
AREA = "45.4642,9.1900,5km"  # 5 km around the Duomo
Client = TestClient[web.Request, web.Application]


def voice(media_id: str) -> dict[str, Any]:
    """A push-to-talk voice note, as Meta posts it."""
    audio = {
        "id": media_id,
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": hashlib.sha256(VOICE.read_bytes()).hexdigest(),
        "voice": True,
    }
    return {"type": "audio", "audio": audio}


def media(kind: str, media_id: str, mime: str, caption: str | None = None) -> dict[str, Any]:
    """An image, video, document or sticker."""
    part: dict[str, Any] = {"id": media_id, "mime_type": mime, "sha256": "0" * 64}
    if caption is not None:
        part["caption"] = caption
    return {"type": kind, kind: part}


def location(lat: float, lon: float, name: str | None = None) -> dict[str, Any]:
    """A shared position."""
    place: dict[str, Any] = {"latitude": lat, "longitude": lon}
    if name:
        place.update(name=name, address="Via Padova 21, Milano")
    return {"type": "location", "location": place}


def reaction(message_id: str, emoji: str = "👍") -> dict[str, Any]:
    """A reaction to one of our messages."""
    return {"type": "reaction", "reaction": {"message_id": message_id, "emoji": emoji}}


@dataclass
class MediaJourney(GraphJourney):
    """A :class:`GraphJourney` that can also read the review queue and wait on the log."""

    openai: FakeOpenAI | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def cart_wamid(self, phone: str) -> str:
        """Meta's id of the last cart message sent to ``phone`` (waits until it is sent)."""
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while asyncio.get_running_loop().time() < deadline:
            history = await self.stream(f"conversation-{phone}")
            carts = [
                p.outbound_id
                for p in history
                if isinstance(p, ReplyQueued) and any(b.id == CONFIRM_ID for b in p.buttons)
            ]
            sent = {p.outbound_id: p.wamid for p in history if isinstance(p, OutboundSent)}
            if carts and carts[-1] in sent:
                return sent[carts[-1]]
            await asyncio.sleep(0.02)
        raise AssertionError("the cart message was never sent")

    async def settled(self, phone: str, facts: int) -> list[Any]:
        """The stream once ``facts`` inbound messages are all covered by a processed turn."""
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while asyncio.get_running_loop().time() < deadline:
            history = await self.stream(f"conversation-{phone}")
            got = [p for p in history if type(p).__name__ == "MessageReceived"]
            done = sum(len(p.fact_ids) for p in history if type(p).__name__ == "TurnProcessed")
            if len(got) >= facts and done >= facts:
                return history
            await asyncio.sleep(0.02)
        raise AssertionError(f"{facts} messages were never all processed")

    async def review(self, kind: str = "media") -> list[dict[str, Any]]:
        """The review rows of ``kind`` (waits for the projection to catch up a little)."""
        deadline = asyncio.get_running_loop().time() + 3
        rows: list[dict[str, Any]] = []
        while asyncio.get_running_loop().time() < deadline:
            async with self.deps.engines.reader.connect() as conn:
                found = (await conn.execute(select(review_queue))).mappings().all()
            rows = [dict(r) for r in found if r["kind"] == kind]
            if rows:
                return rows
            await asyncio.sleep(0.05)
        return rows


Start = Callable[..., Awaitable[MediaJourney]]


async def start_journey(
    backend: str,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[Client]],
    *,
    configured: bool,
    **overrides: Any,
) -> MediaJourney:
    """The service on ``backend`` sending to a fake Graph API; OpenAI faked if ``configured``."""
    graph = FakeGraphApi()
    await graph.start()
    openai = FakeOpenAI() if configured else None
    extra: dict[str, Any] = {}
    if openai is not None:
        extra = {"openai_api_key": "sk-test", "openai_base_url": await openai.start()}
    settings = test_settings(
        tmp_path,
        debounce_seconds=0.0,
        whatsapp_access_token=graph.access_token,
        whatsapp_phone_number_id=graph.phone_number_id,
        whatsapp_api_base=graph.base_url,
        delivery_area=AREA,
        llm_max_retries=0,
        **extra,
        **overrides,
    )
    schema = None
    if backend == "sqlite":
        engines = create_engines(settings.database_url)
    else:
        engines, schema = await make_pg_engines()
    await migrate(engines)
    deps = build(settings, engines=engines)
    client = await aiohttp_client(create_app(deps))
    journey = MediaJourney(client, deps, graph, openai=openai)
    journey.closers.append(graph.close)
    if openai is not None:
        journey.closers.append(openai.close)
    if schema is not None:
        journey.closers.append(lambda: drop_pg_schema(schema))
    return journey


async def journeys(
    backend: str, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[Start]:
    """A factory of journeys, closed (fakes, PostgreSQL schema) at the end of the test."""
    made: list[MediaJourney] = []

    async def start(*, configured: bool = False, **overrides: Any) -> MediaJourney:
        journey = await start_journey(
            backend, tmp_path, aiohttp_client, configured=configured, **overrides
        )
        made.append(journey)
        return journey

    yield start
    for journey in made:
        await what_if_agrees(journey.deps)  # offline media journeys replay unchanged
        await journey.client.close()
        for close in journey.closers:
            await close()
