"""The composition root: the only place that picks implementations from settings.

This module wires the process (:class:`Deps`: store, workers, reactors, start and stop);
:mod:`adapters.bootstrap_ports`, the other half of the root, holds the builders that pick
each port's implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import structlog
from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.model_watch import ModelWatcher
from adapters.assistant.resilient import FailureCollector
from adapters.auth.tokens import TokenStore
from adapters.bootstrap_ports import (
    build_assistant,
    build_market,
    build_messenger,
    build_openai_assistant,
    build_push,
)
from adapters.engine.conversation import ConversationReactor, is_conversation_input
from adapters.engine.dispatch import DispatchOptions, StreamDispatcher
from adapters.engine.lease import leases_for
from adapters.engine.media_setup import build_media_step
from adapters.engine.order_runtime import (
    OrderPorts,
    business_facts,
    order_dispatchers,
    shop_facts,
)
from adapters.engine.outbox import OutboxSender, is_outbox_input
from adapters.engine.partitions import PartitionOwner
from adapters.engine.send_retries import OutboxDispatcher
from adapters.engine.turn_snapshots import turn_snapshots
from adapters.ingest import Ingestor
from adapters.market.live import CATALOG_STREAM, CONTACTS_STREAM, LiveMarket
from adapters.meta.sandbox import SandboxMessenger
from adapters.metrics import LogTail, ServiceMetrics
from adapters.notify.devices import DeviceRegistry
from adapters.ops.hashchain import HashChainSealer
from adapters.readmodel.queries import ReadModel
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import ProjectionsRunner
from adapters.settings import Settings
from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.partitioning import check_partitions
from adapters.store.subscriptions import PgListener, SubscriptionRunner
from adapters.store.wal_watch import WalWatcher
from core.catalog import Catalog, parse_catalog
from core.phones import normalize_phone
from core.ports import Assistant, Messenger
from core.send_retry import RetrySchedule

log = structlog.get_logger(__name__)
DEMO_CATALOG = Path(__file__).parent / "data" / "catalog_demo.json"


@dataclass(slots=True)
class Deps:
    """Everything the web app and the workers need, built once per process."""

    settings: Settings
    engines: Engines
    store: EventStore
    committer: GroupCommitter
    ingestor: Ingestor
    sandbox: SandboxMessenger
    listener: PgListener
    assistant: Assistant
    catalog: Catalog
    tokens: TokenStore  # API tokens and dashboard sessions
    read_model: ReadModel  # the read API's queries
    devices: DeviceRegistry  # push device tokens (the API and the notify sender)
    assistant_failures: FailureCollector = field(default_factory=FailureCollector)
    workers: list[SubscriptionRunner | ProjectionsRunner] = field(default_factory=list)
    reactors: list[StreamDispatcher] = field(default_factory=list)
    run_reactors: bool = True
    # Projections and the hash-chain sealer; None: wherever the reactors run (not in
    # "web"). serve's SQLite split runs them in the web process (ADR 0022).
    run_workers: bool | None = None
    messenger: Messenger | None = None
    http: aiohttp.ClientSession | None = None
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    tail: LogTail | None = None
    model_watcher: ModelWatcher | None = None  # None offline: nothing is asked
    llm_client: AsyncOpenAI | None = None  # the assistant's SDK client, closed with the rest
    llm_budget: RequestBudget | None = None  # its request budget: chat, media, model checks
    wal_watcher: WalWatcher | None = None  # SQLite shared with another process's writes
    partitions: PartitionOwner | None = None  # this worker's share of the log (PostgreSQL)
    # Key that /simulate signs with when no app secret is configured (development only):
    # it never leaves the process, so it grants nothing to anyone outside.
    simulate_secret: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # The reactors' clock: the real one, except in ``eval-dialogue`` (a fixed ``--now``).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)

    async def start(self) -> None:
        """Open what must run in the background.

        Raises :class:`~core.partitions.PartitionCountError` when ``DLOOP_PARTITIONS``
        differs from the count the database was partitioned with.
        """
        await check_partitions(self.engines, self.settings.event_partitions)
        await self.committer.start()
        self.store.route_appends(self.committer)
        await self.listener.start()
        self._watch_other_writers()
        self.tail = LogTail(self.store, self.metrics)
        self.tail.start()
        self.messenger = self._messenger()
        web = self.settings.role == "web"
        if self.run_workers if self.run_workers is not None else not web:
            for worker in self.workers:
                worker.start()
        if web:
            return  # webhook and API only: other processes run the reactors
        if self.model_watcher is not None and self.run_reactors:
            self.model_watcher.metrics = self.metrics
            self.model_watcher.start()
        if self.run_reactors:
            self.reactors = self._reactors(self.messenger)
            await self._share_partitions()
            for reactor in self.reactors:
                reactor.start()

    def _watch_other_writers(self) -> None:
        """SQLite split into web and worker processes: wake on each other's commits."""
        database = self.engines.writer.url.database
        if self.engines.dialect != "sqlite" or self.settings.role == "all" or not database:
            return
        self.wal_watcher = WalWatcher(self.store, Path(database))
        self.wal_watcher.start()

    async def _share_partitions(self) -> None:
        """On PostgreSQL the reactors read only this worker's partitions (ADR 0018).

        SQLite keeps one owner of every partition (the lock file of ADR 0004), so its
        reactors follow the whole log as before.
        """
        if self.engines.dialect != "postgresql":
            return
        self.partitions = PartitionOwner(self.engines.writer, self.settings.event_partitions)
        await self.partitions.start()
        for reactor in self.reactors:  # every worker keeps its own catalogue and contacts
            reactor.follow_partitions(self.partitions, shared=(CATALOG_STREAM, CONTACTS_STREAM))

    def _messenger(self) -> Messenger:
        messenger, self.http = build_messenger(self.settings, self.sandbox)
        return messenger

    def _reactors(self, messenger: Messenger) -> list[StreamDispatcher]:
        live = LiveMarket(self.store, self.catalog, on_change=self._catalog_changed)
        self.http = self.http or aiohttp.ClientSession()
        dealers = {normalize_phone(d.phone) for d in self.catalog.dealers}
        conversation = ConversationReactor(
            self.store,
            self.assistant,
            lambda: self.catalog,
            is_dealer=lambda key: key in dealers or live.is_dealer(key),
            generate_chat_replies=bool(self.settings.openai_api_key),
            facts=business_facts(self.settings),
            shop=shop_facts(self.settings),
            failures=self.assistant_failures,
            clock=self.clock,
            media=build_media_step(
                self.settings,
                None if messenger is self.sandbox else messenger,
                self.llm_client,
                self.llm_budget,
                watch=self.model_watcher.watch if self.model_watcher is not None else None,
            ),
            cache_streams=self.settings.state_cache_streams,
            snapshots=turn_snapshots(self.engines),
        )
        # Mark-as-read (typing indicator) only towards Meta: the simulator shows replies.
        # Meta's default 80 messages/s per number, until a setting raises it (upgraded numbers).
        rate = self.settings.whatsapp_messages_per_second
        sandboxed = messenger is self.sandbox
        outbox = OutboxSender(
            self.store,
            messenger,
            messages_per_second=rate,
            mark_read=not sandboxed,
            clock=self.clock,
            cache_streams=self.settings.state_cache_streams,
            # Meta's pair rate; the sandbox (simulator, dialogue evaluation) is not Meta.
            pair_interval=0.0 if sandboxed else self.settings.whatsapp_pair_interval,
            pair_burst=self.settings.whatsapp_pair_burst,
            retry_schedule=RetrySchedule(
                first=min(5.0, self.settings.send_retry_cap),  # scaled-down caps scale it all
                cap=self.settings.send_retry_cap,
                horizon=self.settings.send_retry_horizon,
            ),
        )
        # An LLM turn takes about a second: enough streams at once for 200+ turns/s.
        debounce = DispatchOptions(debounce=self.settings.debounce_seconds, concurrency=512)
        return [
            StreamDispatcher(
                self.store,
                "conversation",
                is_conversation_input,
                conversation.handle,
                debounce,
                leases=leases_for(self.engines, "conversation"),
            ),
            OutboxDispatcher(
                self.store,
                is_outbox_input,
                outbox.handle,
                outbox.retries,
                DispatchOptions(concurrency=256),
                leases=leases_for(self.engines, "outbox"),
            ),
            *order_dispatchers(
                self.settings, self.store, live, self._order_ports(self.http), clock=self.clock
            ),
        ]

    def _order_ports(self, http: aiohttp.ClientSession) -> OrderPorts:
        return OrderPorts(
            market=build_market(self.settings, self.engines, http),
            devices=self.devices,
            push=build_push(self.settings, http),
        )

    async def _stop_reactors(self) -> None:
        """Let the reactors finish their turns and sends, for at most ``shutdown_grace`` s.

        Past the grace the rest is cancelled: an interrupted send stays "attempted" and
        is settled after the restart (reconciled by its status webhook or put on the
        review queue), never sent twice.
        """
        stops = [asyncio.create_task(r.stop()) for r in self.reactors]
        if not stops:
            return
        _, late = await asyncio.wait(stops, timeout=self.settings.shutdown_grace)
        if late:
            names = [r.name for r, t in zip(self.reactors, stops, strict=True) if t in late]
            log.warning("shutdown.grace_exceeded", reactors=names)
            for reactor in self.reactors:
                reactor.abort()
            await asyncio.gather(*late, return_exceptions=True)
        log.info("shutdown.reactors_stopped")

    @contextlib.asynccontextmanager
    async def reprocessors(self) -> AsyncIterator[Sequence[StreamDispatcher]]:
        """Dispatchers that can re-drive parked events: the running ones, else temporary ones.

        Temporary dispatchers (a ``web`` process, the ``reprocess`` command) are never
        started; their leases are closed on exit. Call after :meth:`start`.
        """
        if self.reactors:
            yield list(self.reactors)
            return
        assert self.messenger is not None, "start() first"
        made = self._reactors(self.messenger)
        try:
            yield made
        finally:
            for dispatcher in made:
                await dispatcher.leases.close()

    def _catalog_changed(self, catalog: Catalog) -> None:
        self.catalog = catalog  # stock and catalogue imports reach the conversation rules

    async def close(self) -> None:
        """Stop the reactors, finish queued writes, then close connections."""
        await self._stop_reactors()
        if self.partitions is not None:
            await self.partitions.stop()
        await self.committer.close()
        log.info("shutdown.writes_flushed")
        self.store.route_appends(None)
        for worker in self.workers:
            await worker.stop()
        if self.tail is not None:
            await self.tail.stop()
        if self.model_watcher is not None:
            await self.model_watcher.stop()
        if self.llm_client is not None:
            await self.llm_client.close()
        if self.http is not None:
            await self.http.close()
        await self.listener.stop()
        if self.wal_watcher is not None:
            await self.wal_watcher.stop()
        await self.engines.dispose()


def build(settings: Settings, *, engines: Engines | None = None) -> Deps:
    """Wire the dependencies for ``settings`` (no I/O: connections open on first use).

    ``engines`` replaces the ones ``DATABASE_URL`` would give (tests and benchmarks use a
    PostgreSQL schema of their own).
    """
    engines = engines or create_engines(settings.database_url)
    store = EventStore(engines)
    store.share_tail()
    committer = GroupCommitter(store, max_refusing=settings.ingest_max_pending)
    failures = FailureCollector()
    openai = build_openai_assistant(settings) if settings.openai_api_key else None
    return Deps(
        settings=settings,
        engines=engines,
        store=store,
        committer=committer,
        ingestor=Ingestor(committer),
        sandbox=SandboxMessenger(),
        listener=PgListener(store),
        assistant=build_assistant(settings, failures, openai),
        assistant_failures=failures,
        model_watcher=(
            ModelWatcher(store, openai.client, [openai.models], budget=openai.budget)
            if openai is not None
            else None
        ),
        llm_client=openai.client if openai is not None else None,
        llm_budget=openai.budget if openai is not None else None,
        catalog=load_catalog(settings.catalog_file),
        tokens=TokenStore(engines),
        read_model=ReadModel(engines),
        devices=DeviceRegistry(engines, store=store),
        workers=[ProjectionsRunner(store, all_projections()), HashChainSealer(store)],
    )


def load_catalog(path: Path | None) -> Catalog:
    """The catalogue file given by ``CATALOG_FILE``, or the bundled demo catalogue."""
    return parse_catalog(json.loads((path or DEMO_CATALOG).read_text(encoding="utf-8")))
