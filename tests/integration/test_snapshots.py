"""Conversation snapshots: a restart reads the tail; the log is trusted over them (both stores)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.engine.conversation import ConversationReactor, start_memory
from adapters.engine.turn_snapshots import TURN_CODEC, turn_snapshots
from adapters.ops.audit import audit
from adapters.store.event_store import EventStore
from adapters.store.snapshots import stream_snapshots
from core.turn_memory import remember_all
from tests.integration.test_conversation_memory import say

pytestmark = pytest.mark.integration
TEXTS = ("Ciao!", "Avete uno shampoo per cani?", "Grazie mille!", "A che ora aprite?")


def reactor(store: EventStore) -> ConversationReactor:
    """A reactor that snapshots every few events (a process of its own)."""
    bot = ConversationReactor(
        store,
        OfflineAssistant(),
        lambda: load_catalog(None),
        snapshots=turn_snapshots(store.engines),
    )
    bot.memory.snapshot_every = 4
    return bot


async def talk(store: EventStore, bot: ConversationReactor) -> str:
    """A few turns of one customer, each decided by ``bot``; returns the stream."""
    for text in TEXTS:
        stream = await say(store, text)
        await bot.handle(stream, [])
    return stream


async def test_a_restart_starts_from_the_snapshot_and_reads_only_the_tail(
    store: EventStore,
) -> None:
    """The new process folds fewer events than the stream holds and knows the same."""
    stream = await talk(store, reactor(store))
    restarted = reactor(store)
    memory, version = await restarted.memory.load(stream)
    history = await store.read_stream(stream)
    assert restarted.memory.folded < len(history)
    assert version == len(history)
    fresh = remember_all(start_memory(stream), history)
    assert TURN_CODEC.to_stored(memory) == TURN_CODEC.to_stored(fresh)


async def test_a_snapshot_of_another_schema_is_ignored_and_replaced(store: EventStore) -> None:
    """Old shape: the stream is folded from the start, then a new snapshot is written."""
    stream = await talk(store, reactor(store))
    async with store.engines.writer.begin() as conn:
        await conn.execute(update(stream_snapshots).values(schema="old-shape"))
    restarted = reactor(store)
    await restarted.memory.load(stream)
    assert restarted.memory.folded == len(await store.read_stream(stream))
    [(_, _, value)] = await turn_snapshots(store.engines).all()
    assert value is not None


async def test_audit_reports_a_snapshot_that_differs_from_the_log(store: EventStore) -> None:
    """A tampered snapshot is a ``snapshots`` finding; an untouched one is none."""
    await talk(store, reactor(store))
    clean = await audit(store)
    assert not [f for f in clean.findings if f.check == "snapshots"]
    async with store.engines.writer.begin() as conn:
        rows = (await conn.execute(stream_snapshots.select())).all()
        data = rows[0].data.replace('"message_count":', '"message_count":1')
        await conn.execute(update(stream_snapshots).values(data=data))
    report = await audit(store)
    assert [f.check for f in report.findings if f.check == "snapshots"] == ["snapshots"]
