"""A realistic store for the operator tools: real webhooks, real reactors, real projections.

Customers write through the real ingestion path; the real conversation reactor (offline
assistant, demo catalogue) decides; the real outbox sender answers through the sandbox;
the real projection runners and the hash-chain sealer catch up. Nothing is mocked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.engine.conversation import ConversationReactor
from adapters.engine.outbox import OutboxSender
from adapters.ingest import Ingestor
from adapters.meta.sandbox import SandboxMessenger
from adapters.ops.hashchain import seal
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import runner_for
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.web.simulate import text_delivery
from core.business_facts import ShopFacts
from core.ports import Assistant
from events.conversation import ReplyQueued

ANNA = "+393281234567"  # orders and confirms
BRUNO = "+393471112233"  # asks for support
CARLA = "+393395556677"  # asks about a product

JOURNEYS: dict[str, tuple[str, ...]] = {
    ANNA: ("Ciao, vorrei 2 crocchette per cane e una lettiera", "Confermo"),
    BRUNO: ("Il mio ordine non è mai arrivato, voglio un rimborso",),
    CARLA: ("Avete uno shampoo per cani?", "Grazie mille!"),
}


@dataclass
class Service:
    """The pieces of a running service the tests drive by hand."""

    store: EventStore
    assistant: Assistant
    sandbox: SandboxMessenger
    shop: ShopFacts | None = None  # None: no checkout (a confirmed cart goes to the relay)

    async def say(self, phone: str, text: str) -> None:
        """One customer message: ingested, decided, answered, projected and sealed."""
        committer = GroupCommitter(self.store)
        await committer.start()
        try:
            doc = text_delivery(phone.removeprefix("+"), text)
            await Ingestor(committer).ingest(json.dumps(doc).encode())
        finally:
            await committer.close()
        stream = await self.store.people.stream_of(f"conversation-{phone}")
        reactor = ConversationReactor(
            self.store, self.assistant, lambda: load_catalog(None), shop=self.shop
        )
        await reactor.handle(stream, [])
        history = await self.store.read_stream(stream)
        queued = [e for e in history if isinstance(e.payload, ReplyQueued)]
        await OutboxSender(self.store, self.sandbox).handle(stream, queued)
        await self.catch_up()

    async def catch_up(self) -> None:
        """Projections and the hash chain follow the log, as the service's workers do."""
        for projection in all_projections():
            await runner_for(self.store, projection).catch_up()
        await seal(self.store)


@pytest.fixture
async def service(store: EventStore) -> Service:
    """An empty service on each backend."""
    return Service(store=store, assistant=OfflineAssistant(), sandbox=SandboxMessenger())


@pytest.fixture
async def journeys(service: Service) -> Service:
    """Three customers' journeys recorded end to end (order, support, product question)."""
    for phone, texts in JOURNEYS.items():
        for text in texts:
            await service.say(phone, text)
    return service


def at(text: str) -> datetime:
    """``"2026-01-02T03:04"`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
