"""The conversation reactor: inbound facts in, recorded understanding and decisions out.

For one conversation stream (called by the :class:`~adapters.engine.dispatch.StreamDispatcher`,
so never concurrently for the same stream in one process):

1. load the stream's :class:`~core.turn_memory.TurnMemory` (kept in memory by a
   :class:`~adapters.engine.stream_cache.StreamCache`: only the events after the cached
   version are read) and take the inbound facts no ``TurnProcessed`` covers yet;
2. use the folded state; ask the assistant only when the rules may use its answer; what it
   said (``MessageUnderstood``, ``ReplyGenerated`` or ``AssistantFailed``) is recorded
   ahead of the decisions that use it, in the same atomic append, so nothing acts on an
   answer that is not in the log (effects start only after that append), and replay
   reads the recorded answer instead of calling out; an answer already recorded for
   the same messages is reused;
3. decide (pure ``decide_turn``) and append the answer, the decisions and
   ``TurnProcessed`` in one append that expects the memory's version, or a later one
   reached only by new inbound facts and delivery outcomes (``ExpectAfterFacts``: those
   wait for the next turn, ADR 0011); if another writer got in between, reload and
   decide again under the one conflict policy (:mod:`adapters.engine.conflicts`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.assistant.resilient import AssistantFailure, FailureCollector
from adapters.engine.conflicts import DEFAULT_POLICY, ConflictPolicy, until_settled
from adapters.engine.media import MediaStep
from adapters.engine.order_lookup import latest_orders
from adapters.engine.stream_cache import DEFAULT_CAPACITY, Folding, SnapshotSource, StreamCache
from adapters.store.event_store import EventStore
from adapters.store.types import ExpectAfterFacts
from core.business_facts import ShopFacts
from core.cart_reading import edit_event, with_edit
from core.catalog import Catalog
from core.conversation import (
    ConversationState,
    CustomerTurn,
    TurnContext,
    decide_preferences,
    decide_turn,
    fold,
    needs_understanding,
    understanding_event,
    understanding_of,
)
from core.media import lead_with
from core.order_status import is_status_question
from core.ports import Assistant, AssistantError, ReplyRequest
from core.turn_memory import HISTORY_TURNS, TurnMemory, remember
from core.understanding import Intent, Topic, Understanding
from events.base import Metadata, NewEvent, RecordedEvent
from events.cart import CartEditUnderstood
from events.conversation import (
    AssistantFailed,
    MessageUnderstood,
    OutboundFailed,
    OutboundSent,
    PartyKind,
    ReplyQueued,
)
from events.engine import ReplyGenerated, TurnProcessed
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
        self.conflicts = conflicts
        self.failures = failures or FailureCollector()
        self.is_dealer = is_dealer
        self.generate_chat_replies = generate_chat_replies
        self.facts = facts or {}
        self.shop = shop  # business facts: the checkout and offline facts answers
        self._clock = clock
        self.media = media or MediaStep()

    async def handle(self, stream: str, _events: Sequence[RecordedEvent]) -> None:
        """Handle every unprocessed inbound fact of ``stream`` as one turn.

        A conflict means another writer appended something the decision depends on (an
        agent's takeover, an order update): reload and decide again, under the one
        conflict policy (bounded, with backoff; the dispatcher parks what exhausts it).
        """
        await until_settled(lambda: self._once(stream), "conversation", self.conflicts)

    async def _once(self, stream: str) -> None:
        memory, expected = await self.memory.load(stream)
        pending = list(memory.pending)
        if not pending:
            return
        key = stream_key(stream)
        kind = PartyKind.DEALER if self.is_dealer(key) else PartyKind.CUSTOMER
        state = memory.state if memory.state.started else replace(memory.state, kind=kind)
        now = self._clock()
        ids = _ids(stream, pending)
        decisions: list[Any] = []
        prelude: list[Any] = []  # assistant answers, recorded ahead of the decisions
        for fact in (e for e in pending if isinstance(e.payload, UserPreferencesReceived)):
            decisions += decide_preferences(fold(state, decisions), fact.payload)
        # WhatsApp catalog carts (kind "order") are read by the order reactor.
        messages = [
            e.payload
            for e in pending
            if isinstance(e.payload, MessageReceived) and e.payload.kind != "order"
        ]
        # Media turns (rare) read the stream for recorded readings and reaction targets.
        media_turn = any(m.kind != "text" for m in messages)
        history = await self._history(stream, expected) if media_turn else []
        seen = await self.media.prepare(history, state, messages, now, prelude)
        if seen.messages:
            turn = CustomerTurn(messages=seen.messages)
            context = TurnContext(catalog=self.catalog(), kind=kind, shop=self.shop)
            understanding = await self._understand(memory, state, turn, now, prelude)
            named = understanding is not None and understanding.topic is Topic.ORDER_STATUS
            if named or is_status_question(turn.text):
                if not media_turn:  # rare: a status question
                    history = await self._history(stream, expected)
                orders = await latest_orders(self.store, context.catalog, history)
                context = replace(context, orders=orders)
            context = await self._maybe_reply_text(memory, turn, understanding, context, prelude)
            context = replace(context, media_reply=None if turn.text else seen.alone)
            decided = decide_turn(
                fold(state, decisions), turn, understanding, now, ids, context=context
            )
            decisions += lead_with(decided, seen.lead)
        decisions += seen.notes
        marker = TurnProcessed(
            fact_ids=tuple(str(e.event_id) for e in pending), decisions=len(decisions)
        )
        await self._append(stream, expected, [*prelude, *decisions, marker], pending)

    async def _history(self, stream: str, expected: int) -> list[RecordedEvent]:
        """The whole stream up to the memory's version: only for the rare turn whose rules
        need more than the memory keeps (an order-status question)."""
        return [e for e in await self.store.read_stream(stream) if e.version <= expected]

    async def _understand(
        self,
        memory: TurnMemory,
        state: ConversationState,
        turn: CustomerTurn,
        now: datetime,
        prelude: list[Any],
    ) -> Understanding | None:
        if not turn.text or not needs_understanding(state, turn, now):
            return None
        recorded = memory.answer(MessageUnderstood, turn.wamids)
        if recorded is not None:
            edit = memory.answer(CartEditUnderstood, turn.wamids)
            return with_edit(understanding_of(recorded), edit)
        if memory.answer(AssistantFailed, turn.wamids) is not None:
            return None
        try:
            with self.failures.collect() as covered:
                understood = await self.assistant.understand(
                    turn.text, history=list(memory.history), catalog=self.catalog()
                )
            prelude.extend(_covered_failures(covered, turn.wamids))
        except AssistantError as exc:
            prelude.append(
                AssistantFailed(operation="understand", error=str(exc)[:500], wamids=turn.wamids)
            )
            return None
        prelude.append(understanding_event(turn.wamids, understood))
        edit = edit_event(turn.wamids, understood.understanding)  # the LLM's cart reading
        prelude.extend([edit] if edit is not None else [])
        return understood.understanding

    async def _maybe_reply_text(
        self,
        memory: TurnMemory,
        turn: CustomerTurn,
        understanding: Understanding | None,
        context: TurnContext,
        prelude: list[Any],
    ) -> TurnContext:
        if not self.generate_chat_replies or understanding is None:
            return context
        if understanding.intent is not Intent.GENERAL_CHAT:
            return context
        recorded = memory.answer(ReplyGenerated, turn.wamids)
        if recorded is None:
            try:
                with self.failures.collect() as covered:
                    reply = await self.assistant.reply(
                        ReplyRequest(
                            intent=understanding.intent,
                            customer_text=turn.text,
                            history=list(memory.history),
                            facts=dict(self.facts),
                        )
                    )
                prelude.extend(_covered_failures(covered, turn.wamids))
            except AssistantError as exc:
                prelude.append(
                    AssistantFailed(operation="reply", error=str(exc)[:500], wamids=turn.wamids)
                )
                return context
            t = reply.trace
            recorded = ReplyGenerated(
                wamids=turn.wamids,
                text=reply.text,
                engine=t.engine,
                model=t.model,
                prompt_version=t.prompt_version,
                latency_ms=t.latency_ms,
                prompt_tokens=t.prompt_tokens,
                completion_tokens=t.completion_tokens,
                cached=t.cached,
            )
            prelude.append(recorded)
        return replace(context, reply_text=recorded.text)

    async def _append(
        self, stream: str, expected: int, payloads: list[Any], pending: list[RecordedEvent]
    ) -> None:
        cause = pending[-1]
        new = [
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


def start_memory(stream: str) -> TurnMemory:
    """A new conversation's memory (its kind is set from the directory until it starts)."""
    return TurnMemory(state=ConversationState(key=stream_key(stream)))


def _ids(stream: str, pending: list[RecordedEvent]) -> Iterator[str]:
    seed = f"{stream}:{pending[-1].event_id}"
    n = 0
    while True:
        n += 1
        yield str(uuid.uuid5(REACTOR_NAMESPACE, f"{seed}:{n}"))
