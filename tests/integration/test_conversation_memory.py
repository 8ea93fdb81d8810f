"""The conversation reactor keeps each stream's memory and reads only what is new.

Real store (SQLite file, PostgreSQL), real ingestion, the real reactor with the offline
assistant; the assistant below only adds what a customer or an agent does while a turn
is being decided (another message, a takeover), through the real store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.engine.conversation import ConversationReactor
from adapters.ingest import Ingestor
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.types import Expect
from adapters.web.simulate import text_delivery
from core.catalog import Catalog
from core.ports import Assistant, Reply, ReplyRequest, Turn, Understood
from events.base import NewEvent, RecordedEvent
from events.conversation import AgentTookOver, ReplyQueued
from events.engine import TurnProcessed
from events.whatsapp import MessageReceived

pytestmark = pytest.mark.integration
PHONE = "+393281234567"


async def say(store: EventStore, text: str) -> str:
    """One customer message through the real ingestion path; returns its stream."""
    committer = GroupCommitter(store)
    await committer.start()
    try:
        doc = text_delivery(PHONE.removeprefix("+"), text)
        await Ingestor(committer).ingest(json.dumps(doc).encode())
    finally:
        await committer.close()
    return await store.people.stream_of(f"conversation-{PHONE}")


class Meanwhile:
    """The offline assistant, doing ``act`` (once) while it is asked to understand."""

    def __init__(self, act: Callable[[], Awaitable[object]]) -> None:
        self.inner, self.act, self.calls = OfflineAssistant(), act, 0

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """Understand offline; on the first call, let ``act`` happen first."""
        self.calls += 1
        if self.calls == 1:
            await self.act()
        return await self.inner.understand(text, history=history, catalog=catalog)

    async def reply(self, request: ReplyRequest) -> Reply:
        """The offline reply."""
        return await self.inner.reply(request)


def reactor(store: EventStore, assistant: Assistant) -> ConversationReactor:
    """The real reactor with the demo catalogue."""
    return ConversationReactor(store, assistant, lambda: load_catalog(None))


def markers(history: list[RecordedEvent]) -> list[TurnProcessed]:
    """The turn markers of a stream."""
    return [e.payload for e in history if isinstance(e.payload, TurnProcessed)]


async def test_each_stored_event_is_folded_once_across_turns(store: EventStore) -> None:
    """Three turns fold every event of the stream exactly once: no re-read from the start."""
    bot = reactor(store, OfflineAssistant())
    for text in ("Ciao!", "Avete uno shampoo per cani?", "Grazie mille!"):
        stream = await say(store, text)
        await bot.handle(stream, [])
    await bot.memory.load(stream)
    history = await store.read_stream(stream)
    assert bot.memory.folded == len(history)
    assert len(markers(history)) == 3
    assert bot.memory.misses == 1


async def test_a_message_arriving_mid_turn_waits_for_the_next_turn(store: EventStore) -> None:
    """The turn appends after the new message without a conflict; the next turn answers it."""
    stream = await say(store, "Ciao!")
    assistant = Meanwhile(lambda: say(store, "Avete uno shampoo per cani?"))
    bot = reactor(store, assistant)
    await bot.handle(stream, [])
    history = await store.read_stream(stream)
    [first] = markers(history)
    messages = [e for e in history if isinstance(e.payload, MessageReceived)]
    assert first.fact_ids == (str(messages[0].event_id),)
    assert assistant.calls == 1  # decided once: the new message did not force a retry
    await bot.handle(stream, [])
    second = markers(await store.read_stream(stream))[1]
    assert second.fact_ids == (str(messages[1].event_id),)


async def test_a_takeover_mid_turn_makes_the_turn_decide_again(store: EventStore) -> None:
    """A takeover is not a fact a decision may ignore: decided again, the bot stays quiet."""
    stream = await say(store, "Ciao!")

    async def take_over() -> None:
        takeover = NewEvent(event_id=uuid.uuid4(), payload=AgentTookOver(agent="giulia"))
        await store.append(stream, Expect.ANY, [takeover])

    assistant = Meanwhile(take_over)
    bot = reactor(store, assistant)
    await bot.handle(stream, [])
    history = await store.read_stream(stream)
    took = next(e.version for e in history if isinstance(e.payload, AgentTookOver))
    marker = next(e.version for e in history if isinstance(e.payload, TurnProcessed))
    bot_replies = [
        e for e in history if isinstance(e.payload, ReplyQueued) and e.payload.agent is None
    ]
    assert marker > took
    assert bot_replies == []  # decided again on the taken-over state: the agent answers


async def test_an_erasure_empties_the_kept_memories(store: EventStore) -> None:
    """After ``forget_cached`` (an erasure) the next turn reads the stream again."""
    bot = reactor(store, OfflineAssistant())
    stream = await say(store, "Ciao!")
    await bot.handle(stream, [])
    store.forget_cached()
    await bot.memory.load(stream)
    assert bot.memory.misses == 2
    assert bot.memory.hits == 0
