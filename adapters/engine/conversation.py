"""The conversation reactor: inbound facts in, recorded understanding and decisions out.

For one conversation stream (called by the :class:`~adapters.engine.dispatch.StreamDispatcher`,
so never concurrently for the same stream in one process):

1. read the stream and find the inbound facts no ``TurnProcessed`` covers yet;
2. fold the state; ask the assistant only when the rules may use its answer; what it
   said (``MessageUnderstood``, ``ReplyGenerated`` or ``AssistantFailed``) is recorded
   ahead of the decisions that use it, in the same atomic append, so nothing acts on an
   answer that is not in the log (effects start only after that append), and replay
   reads the recorded answer instead of calling out; an answer already recorded for
   the same messages is reused;
3. decide (pure ``decide_turn``) and append the answer, the decisions and
   ``TurnProcessed`` in one append that expects the stream's version: if another writer
   got in between, reload and decide again (one transaction per turn, group-committed).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.assistant.resilient import AssistantFailure, FailureCollector
from adapters.engine.order_lookup import latest_orders
from adapters.store.event_store import EventStore
from adapters.store.types import StreamVersionConflictError
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
from core.order_status import is_status_question
from core.ports import Assistant, AssistantError, ReplyRequest, Turn
from core.understanding import Intent, Topic, Understanding
from events.base import Metadata, NewEvent, RecordedEvent
from events.cart import CartEditUnderstood
from events.conversation import AssistantFailed, MessageUnderstood, PartyKind, ReplyQueued
from events.engine import ReplyGenerated, TurnProcessed
from events.whatsapp import MessageReceived, UserPreferencesReceived

log = structlog.get_logger(__name__)
REACTOR_NAMESPACE = uuid.UUID("3d6f0f7e-8c1b-4b57-a5f2-6f0e1d2c3b4a")
HISTORY_TURNS = 8
CONFLICT_TRIES = 40  # reloads after version conflicts before the dispatcher's retry
CONFLICT_BACKOFF = 0.005  # first wait after a conflict, seconds, doubled each time
CONFLICT_BACKOFF_CAP = 0.25


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
    ) -> None:
        self.store, self.assistant, self.catalog = store, assistant, catalog
        self.failures = failures or FailureCollector()
        self.is_dealer = is_dealer
        self.generate_chat_replies = generate_chat_replies
        self.facts = facts or {}
        self.shop = shop  # business facts: the checkout and offline facts answers
        self._clock = clock

    async def handle(self, stream: str, _events: Sequence[RecordedEvent]) -> None:
        """Handle every unprocessed inbound fact of ``stream`` as one turn.

        A conflict means someone appended in between, usually the customer's next
        message: reload and decide again. Under a burst from one number that can repeat
        many times, so the waits grow (capped): the next try covers everything that
        arrived meanwhile in one turn, instead of giving up and parking the turn.
        """
        delay = CONFLICT_BACKOFF
        for _ in range(CONFLICT_TRIES):
            try:
                await self._once(stream)
                return
            except StreamVersionConflictError:
                log.info("conversation.reload_after_conflict")
            await asyncio.sleep(delay)
            delay = min(delay * 2, CONFLICT_BACKOFF_CAP)
        raise RuntimeError(f"{stream}: kept conflicting with other writers")

    async def _once(self, stream: str) -> None:
        history = await self.store.read_stream(stream)
        pending = _unprocessed(history)
        if not pending:
            return
        key = stream_key(stream)
        kind = PartyKind.DEALER if self.is_dealer(key) else PartyKind.CUSTOMER
        state = fold(ConversationState(key=key, kind=kind), [e.payload for e in history])
        expected = history[-1].version if history else 0
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
        if messages:
            turn = CustomerTurn.of(messages)
            context = TurnContext(catalog=self.catalog(), kind=kind, shop=self.shop)
            understanding = await self._understand(history, state, turn, now, prelude)
            named = understanding is not None and understanding.topic is Topic.ORDER_STATUS
            if named or is_status_question(turn.text):
                orders = await latest_orders(self.store, context.catalog, history)
                context = replace(context, orders=orders)
            context = await self._maybe_reply_text(history, turn, understanding, context, prelude)
            decisions += decide_turn(
                fold(state, decisions), turn, understanding, now, ids, context=context
            )
        marker = TurnProcessed(
            fact_ids=tuple(str(e.event_id) for e in pending), decisions=len(decisions)
        )
        await self._append(stream, expected, [*prelude, *decisions, marker], pending)

    async def _understand(
        self,
        history: list[RecordedEvent],
        state: ConversationState,
        turn: CustomerTurn,
        now: datetime,
        prelude: list[Any],
    ) -> Understanding | None:
        if not needs_understanding(state, turn, now):
            return None
        recorded = _recorded(history, MessageUnderstood, turn.wamids)
        if recorded is not None:
            edit = _recorded(history, CartEditUnderstood, turn.wamids)
            return with_edit(understanding_of(recorded), edit)
        if _recorded(history, AssistantFailed, turn.wamids) is not None:
            return None
        try:
            with self.failures.collect() as covered:
                understood = await self.assistant.understand(
                    turn.text, history=_turns(history), catalog=self.catalog()
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
        history: list[RecordedEvent],
        turn: CustomerTurn,
        understanding: Understanding | None,
        context: TurnContext,
        prelude: list[Any],
    ) -> TurnContext:
        if not self.generate_chat_replies or understanding is None:
            return context
        if understanding.intent is not Intent.GENERAL_CHAT:
            return context
        recorded = _recorded(history, ReplyGenerated, turn.wamids)
        if recorded is None:
            try:
                with self.failures.collect() as covered:
                    reply = await self.assistant.reply(
                        ReplyRequest(
                            intent=understanding.intent,
                            customer_text=turn.text,
                            history=_turns(history),
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
        await self.store.append(stream, expected, new)
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


def _unprocessed(history: list[RecordedEvent]) -> list[RecordedEvent]:
    done = {
        fid for e in history if isinstance(e.payload, TurnProcessed) for fid in e.payload.fact_ids
    }
    return [
        e
        for e in history
        if isinstance(e.payload, MessageReceived | UserPreferencesReceived)
        and str(e.event_id) not in done
    ]


def _recorded(history: list[RecordedEvent], kind: type[Any], wamids: tuple[str, ...]) -> Any:
    for e in reversed(history):
        if isinstance(e.payload, kind) and tuple(e.payload.wamids) == wamids:
            return e.payload
    return None


def _ids(stream: str, pending: list[RecordedEvent]) -> Iterator[str]:
    seed = f"{stream}:{pending[-1].event_id}"
    n = 0
    while True:
        n += 1
        yield str(uuid.uuid5(REACTOR_NAMESPACE, f"{seed}:{n}"))


def _turns(history: list[RecordedEvent]) -> list[Turn]:
    lines: list[Turn] = []
    for e in history:
        if isinstance(e.payload, MessageReceived) and e.payload.text:
            lines.append(Turn(role="customer", text=e.payload.text))
        elif isinstance(e.payload, ReplyQueued):
            lines.append(
                Turn(role="agent" if e.payload.agent else "assistant", text=e.payload.text)
            )
    return lines[-HISTORY_TURNS:]
