"""The conversation reactor: the shell of the conversation-turn decider, on the one runner.

For one conversation stream (called by the :class:`~adapters.engine.dispatch.StreamDispatcher`,
so never concurrently for the same stream in one process), :func:`~adapters.engine.runner.run`
drives :data:`~core.turn_decider.CONVERSATION`:

1. load the stream's :class:`~core.turn_memory.TurnMemory` (kept in memory by a
   :class:`~adapters.engine.stream_cache.StreamCache`: only the events after the cached
   version are read, a miss starts from a snapshot);
2. decide; the decider asks for what it cannot know itself (media readings, the
   assistant's reading or chat reply, the latest orders) and this module performs those
   requests: what the assistant said (``MessageUnderstood``, ``ReplyGenerated`` or
   ``AssistantFailed``) and the media readings are recorded ahead of the decisions that
   use them, in the same atomic append, so nothing acts on an answer that is not in the
   log and replay (and ``what-if``, which runs the same decider) reads it back;
3. append the answers, the decisions and ``TurnProcessed`` in one append that expects
   the memory's version, or a later one reached only by new inbound facts and delivery
   outcomes (``ExpectAfterFacts``: those wait for the next turn, ADR 0011); if another
   writer got in between, the runner reloads and decides again under the one conflict
   policy (:mod:`adapters.engine.conflicts`; exhausted, the dispatcher parks the turn).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.assistant.resilient import AssistantFailure, FailureCollector
from adapters.engine.conflicts import DEFAULT_POLICY, ConflictPolicy
from adapters.engine.media import MediaStep
from adapters.engine.order_lookup import latest_orders
from adapters.engine.runner import Process, run
from adapters.engine.stream_cache import DEFAULT_CAPACITY, Folding, SnapshotSource, StreamCache
from adapters.store.event_store import EventStore
from adapters.store.types import ExpectAfterFacts
from core.business_facts import ShopFacts
from core.cart_reading import edit_event
from core.catalog import Catalog
from core.conversation import TurnContext
from core.ports import Assistant, AssistantError, ReplyRequest
from core.recorded_reading import understanding_event
from core.turn_decider import (
    CONVERSATION,
    LOOKUPS,
    LookUpOrders,
    MediaSeen,
    OrdersFound,
    ReadMedia,
    TurnEvent,
    TurnInputs,
    TurnRequest,
    Understand,
    WriteReply,
    start_memory,
)
from core.turn_memory import HISTORY_TURNS, TurnMemory, remember
from events.base import Metadata, NewEvent, RecordedEvent
from events.conversation import (
    AssistantFailed,
    OutboundFailed,
    OutboundSent,
    PartyKind,
    ReplyQueued,
)
from events.engine import ReplyGenerated
from events.outbox import OutboundAttempted, OutboundReconciled
from events.whatsapp import MessageReceived, StatusReceived, UserPreferencesReceived

log = structlog.get_logger(__name__)
REACTOR_NAMESPACE = uuid.UUID("3d6f0f7e-8c1b-4b57-a5f2-6f0e1d2c3b4a")
__all__ = ["HISTORY_TURNS", "LATER_FACTS", "ConversationReactor", "start_memory"]
# Written by others meanwhile, they leave a decision valid: inbound facts (the next turn
# answers them) and the outbox's delivery records (no turn reads them).
LATER_FACTS = frozenset(
    t.TYPE
    for t in (
        MessageReceived,
        UserPreferencesReceived,
        StatusReceived,
        OutboundAttempted,
        OutboundSent,
        OutboundFailed,
        OutboundReconciled,
    )
)


def is_conversation_input(event: RecordedEvent) -> bool:
    """The dispatcher's selector: customer facts in conversation streams."""
    return event.stream.startswith("conversation-") and isinstance(
        event.payload, MessageReceived | UserPreferencesReceived
    )


def stream_key(stream: str) -> str:
    """``conversation-+39...`` -> ``+39...`` (or ``bsuid:...``)."""
    return stream.removeprefix("conversation-")


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What a stream's current attempt loaded: its memory and version."""

    memory: TurnMemory
    version: int


class ConversationReactor:
    """Decides what the bot does with each customer turn (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        assistant: Assistant,
        catalog: Callable[[], Catalog],
        *,
        is_dealer: Callable[[str], bool] = lambda _key: False,
        generate_chat_replies: bool = False,
        facts: dict[str, str] | None = None,
        shop: ShopFacts | None = None,
        failures: FailureCollector | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        media: MediaStep | None = None,
        cache_streams: int = DEFAULT_CAPACITY,
        conflicts: ConflictPolicy = DEFAULT_POLICY,
        snapshots: SnapshotSource[TurnMemory] | None = None,
    ) -> None:
        self.store, self.assistant, self.catalog = store, assistant, catalog
        folding = Folding(start_memory, remember)
        self.memory = StreamCache(store, folding, capacity=cache_streams, snapshots=snapshots)
        self.failures = failures or FailureCollector()
        self.is_dealer = is_dealer
        self.generate_chat_replies = generate_chat_replies
        self.facts = facts or {}
        self.shop = shop  # business facts: the checkout and offline facts answers
        self.media = media or MediaStep()
        self._loaded: dict[str, _Loaded] = {}  # per stream: its turns run one at a time
        self.process: Process[TurnMemory, TurnInputs, TurnEvent, TurnRequest] = Process(
            name="conversation",
            decider=CONVERSATION,
            load=self._load,
            append=self._append,
            perform=self._perform,
            ids=turn_ids,
            clock=clock,
            policy=conflicts,
        )

    async def handle(self, stream: str, _events: Sequence[RecordedEvent]) -> None:
        """Handle every unprocessed inbound fact of ``stream`` as one turn, on the runner."""
        kind = PartyKind.DEALER if self.is_dealer(stream_key(stream)) else PartyKind.CUSTOMER
        context = TurnContext(catalog=self.catalog(), kind=kind, shop=self.shop)
        inputs = TurnInputs(
            context=context, generate_chat_replies=self.generate_chat_replies, facts=self.facts
        )
        try:
            await run(self.process, stream, inputs)
        finally:
            self._loaded.pop(stream, None)

    async def _load(self, stream: str) -> tuple[TurnMemory, int]:
        memory, version = await self.memory.load(stream)
        self._loaded[stream] = _Loaded(memory, version)
        return memory, version

    async def _perform(self, stream: str, request: TurnRequest) -> list[TurnEvent]:
        match request:
            case ReadMedia():
                prelude: list[Any] = []
                seen = await self.media.prepare(
                    await self._history(stream), request.state, request.facts, request.now, prelude
                )
                return [*prelude, MediaSeen(seen)]
            case Understand():
                return await self._understand(request)
            case LookUpOrders():
                history = await self._history(stream)
                return [OrdersFound(await latest_orders(self.store, self.catalog(), history))]
            case WriteReply():
                return await self._write_reply(request)

    async def _history(self, stream: str) -> list[RecordedEvent]:
        """The whole stream up to the memory's version: only for the rare turn whose rules
        need more than the memory keeps (media, an order-status question)."""
        version = self._loaded[stream].version
        return [e for e in await self.store.read_stream(stream) if e.version <= version]

    async def _understand(self, request: Understand) -> list[TurnEvent]:
        try:
            with self.failures.collect() as covered:
                understood = await self.assistant.understand(
                    request.text, history=list(request.history), catalog=self.catalog()
                )
        except AssistantError as exc:
            return [
                AssistantFailed(operation="understand", error=str(exc)[:500], wamids=request.wamids)
            ]
        edit = edit_event(request.wamids, understood.understanding)  # the LLM's cart reading
        return [
            *_covered_failures(covered, request.wamids),
            understanding_event(request.wamids, understood),
            *([edit] if edit is not None else []),
        ]

    async def _write_reply(self, request: WriteReply) -> list[TurnEvent]:
        try:
            with self.failures.collect() as covered:
                reply = await self.assistant.reply(
                    ReplyRequest(
                        intent=request.intent,
                        customer_text=request.text,
                        history=list(request.history),
                        facts=dict(self.facts),
                    )
                )
        except AssistantError as exc:
            return [AssistantFailed(operation="reply", error=str(exc)[:500], wamids=request.wamids)]
        t = reply.trace
        written = ReplyGenerated(
            wamids=request.wamids,
            text=reply.text,
            engine=t.engine,
            model=t.model,
            prompt_version=t.prompt_version,
            latency_ms=t.latency_ms,
            prompt_tokens=t.prompt_tokens,
            completion_tokens=t.completion_tokens,
            cached=t.cached,
        )
        return [*_covered_failures(covered, request.wamids), written]

    async def _append(self, stream: str, expected: int, events: tuple[TurnEvent, ...]) -> None:
        pending = list(self._loaded[stream].memory.pending)
        payloads = [e for e in events if not isinstance(e, LOOKUPS)]
        new = to_new_events(pending, payloads)
        # New inbound facts (left for the next turn) and delivery outcomes written since
        # the memory's version do not invalidate this decision; anything else does.
        await self.store.append(stream, ExpectAfterFacts(expected, LATER_FACTS), new)
        queued = sum(isinstance(p, ReplyQueued) for p in payloads)
        log.info(
            "conversation.turn_decided",
            facts=len(pending),
            decisions=len(payloads) - 1,
            replies=queued,
        )


def to_new_events(pending: list[RecordedEvent], payloads: list[Any]) -> list[NewEvent]:
    """A turn's answers and decisions as new events, ids derived from its last fact."""
    cause = pending[-1]
    return [
        NewEvent(
            event_id=uuid.uuid5(REACTOR_NAMESPACE, f"{cause.event_id}:decision:{i}"),
            payload=p,
            metadata=Metadata(
                causation_id=str(cause.event_id),
                source="reactor:conversation",
                correlation_id=cause.metadata.correlation_id,
            ),
        )
        for i, p in enumerate(payloads)
    ]


def _covered_failures(
    failures: list[AssistantFailure], wamids: tuple[str, ...]
) -> list[AssistantFailed]:
    """Failures the fallback answered for: recorded so the review queue shows them."""
    return [
        AssistantFailed(
            operation=f.operation,
            error=f"{f.error} (answered by the fallback)"[:500],
            wamids=wamids,
        )
        for f in failures
        if f.fallback_used
    ]


def turn_ids(stream: str, memory: TurnMemory, _inputs: TurnInputs) -> Iterator[str]:
    """The ids a turn's decisions take: derived from its last pending fact, so a turn
    decided again (a conflict, a re-drive, ``what-if``) names its events the same way."""
    seed = f"{stream}:{memory.pending[-1].event_id}" if memory.pending else stream
    n = 0
    while True:
        n += 1
        yield str(uuid.uuid5(REACTOR_NAMESPACE, f"{seed}:{n}"))
