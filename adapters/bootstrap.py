"""The composition root: the only place that picks implementations from settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from adapters.assistant.budget import RequestBudget
from adapters.assistant.cache import ReplyCache
from adapters.assistant.offline import OfflineAssistant
from adapters.assistant.openai_assistant import OpenAIAssistant, build_openai_client
from adapters.assistant.resilient import ResilientAssistant
from adapters.ingest import Ingestor
from adapters.meta.sandbox import SandboxMessenger
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import runner_for
from adapters.settings import Settings
from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.subscriptions import PgListener, SubscriptionRunner
from core.ports import Assistant


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
    workers: list[SubscriptionRunner] = field(default_factory=list)
    # Key that /simulate signs with when no app secret is configured (development only):
    # it never leaves the process, so it grants nothing to anyone outside.
    simulate_secret: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    async def start(self) -> None:
        """Open what must run in the background."""
        await self.committer.start()
        await self.listener.start()
        for worker in self.workers:
            worker.start()

    async def close(self) -> None:
        """Finish queued writes, then close connections."""
        await self.committer.close()
        for worker in self.workers:
            await worker.stop()
        await self.listener.stop()
        await self.engines.dispose()


class AssistantUnavailableError(RuntimeError):
    """The OpenAI assistant was asked for without ``OPENAI_API_KEY``."""


def build_openai_assistant(settings: Settings) -> OpenAIAssistant:
    """The OpenAI-backed assistant from settings (the SDK retries; no loop of ours)."""
    if not settings.openai_api_key:
        raise AssistantUnavailableError(
            "OPENAI_API_KEY is not set: the offline twin serves instead"
        )
    client = build_openai_client(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
    )
    return OpenAIAssistant(
        client,
        model=settings.llm_model,
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens,
        budget=RequestBudget(per_minute=settings.llm_requests_per_minute),
        cache=ReplyCache(),
    )


def build_assistant(settings: Settings) -> Assistant:
    """OpenAI with the offline twin as fallback when a key is set; the offline twin otherwise."""
    if not settings.openai_api_key:
        return OfflineAssistant()
    return ResilientAssistant(build_openai_assistant(settings), OfflineAssistant())


def build(settings: Settings) -> Deps:
    """Wire the dependencies for ``settings`` (no I/O: connections open on first use)."""
    engines = create_engines(settings.database_url)
    store = EventStore(engines)
    committer = GroupCommitter(store)
    return Deps(
        settings=settings,
        engines=engines,
        store=store,
        committer=committer,
        ingestor=Ingestor(committer),
        sandbox=SandboxMessenger(),
        listener=PgListener(store),
        workers=[runner_for(store, p) for p in all_projections()],
    )
