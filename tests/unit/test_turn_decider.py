"""The conversation-turn decider (pure): what it asks for, what it reuses, how it closes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from itertools import count

from core.conversation import TurnContext
from core.decider import Decision
from core.media import MediaTurn
from core.ports import AssistantTrace, Understood
from core.recorded_reading import understanding_event
from core.turn_decider import (
    CONVERSATION,
    LookUpOrders,
    MediaSeen,
    OrdersFound,
    ReadMedia,
    TurnEvent,
    TurnInputs,
    TurnRequest,
    Understand,
    WriteReply,
)
from core.turn_memory import TurnMemory, remember_all
from core.understanding import Intent, Topic, Understanding
from events.conversation import AssistantFailed, ReplyQueued
from events.engine import ReplyGenerated, TurnProcessed
from events.whatsapp import InteractiveReply
from tests.unit.test_conversation_machine import CATALOG, CHAT, ORDER
from tests.unit.test_turn_memory import KEY, T0, done, msg, stored

NOW = T0 + timedelta(minutes=1)
TRACE = AssistantTrace(engine="offline", model=None, prompt_version="t", latency_ms=1)


def ids() -> Iterator[str]:
    """Fresh deterministic ids."""
    return (f"id-{n}" for n in count(1))


def memory(*events: object) -> TurnMemory:
    """The memory after ``events`` (RecordedEvents) on a new conversation."""
    return remember_all(CONVERSATION.initial(f"conversation-{KEY}"), events)  # type: ignore[arg-type]


def decide(
    mem: TurnMemory, recorded: tuple[TurnEvent, ...] = (), *, write: bool = False
) -> Decision[TurnEvent, TurnRequest]:
    """One decision of the turn decider."""
    inputs = TurnInputs(context=TurnContext(catalog=CATALOG), generate_chat_replies=write)
    return CONVERSATION.decide(mem, inputs, recorded, NOW, ids())


def understood(reading: Understanding, *wamids: str) -> TurnEvent:
    """The recorded answer of the assistant for ``wamids``."""
    return understanding_event(wamids, Understood(understanding=reading, trace=TRACE))


def test_nothing_pending_decides_nothing() -> None:
    """A stream whose facts are all covered by turns: no events, no requests."""
    first = msg(1)
    assert decide(memory(first, done(first))) == Decision()


def test_a_text_turn_asks_the_assistant_first() -> None:
    """Words to read and nothing recorded: one ``Understand`` request, no events."""
    decision = decide(memory(msg(1, "vorrei 2 lettiere")))
    assert decision.events == ()
    [ask] = decision.requests
    assert isinstance(ask, Understand)
    assert (ask.text, ask.wamids) == ("vorrei 2 lettiere", ("wamid.1",))


def test_the_recorded_answer_settles_the_turn_with_its_marker() -> None:
    """With the reading recorded the turn is decided and closed by ``TurnProcessed``."""
    fact = msg(1, "vorrei 2 lettiere")
    decision = decide(memory(fact), (understood(ORDER, "wamid.1"),))
    assert decision.requests == ()
    *decisions, marker = decision.events
    assert marker == TurnProcessed(fact_ids=(str(fact.event_id),), decisions=len(decisions))
    assert any(isinstance(d, ReplyQueued) for d in decisions)


def test_an_answer_already_in_the_memory_is_reused_not_asked_again() -> None:
    """A reading stored earlier for the same messages: no request."""
    fact = msg(1, "vorrei 2 lettiere")
    decision = decide(memory(fact, stored(understood(ORDER, "wamid.1"))))
    assert decision.requests == ()
    assert isinstance(decision.events[-1], TurnProcessed)


def test_a_failed_assistant_settles_with_the_rules_alone() -> None:
    """``AssistantFailed`` for the messages: decided without a reading, not asked again."""
    failed = AssistantFailed(operation="understand", error="down", wamids=("wamid.1",))
    decision = decide(memory(msg(1, "vorrei 2 lettiere")), (failed,))
    assert decision.requests == ()
    assert isinstance(decision.events[-1], TurnProcessed)


def test_an_order_status_question_looks_the_orders_up() -> None:
    """After the reading names the order status, the latest orders are asked for."""
    status = Understanding(intent=Intent.SUPPORT_REQUEST, confidence=0.9, topic=Topic.ORDER_STATUS)
    mem = memory(msg(1, "dov'è il mio ordine?"))
    asked = decide(mem, (understood(status, "wamid.1"),))
    assert asked.requests == (LookUpOrders(),)
    settled = decide(mem, (understood(status, "wamid.1"), OrdersFound(())))
    assert settled.requests == ()


def test_general_chat_asks_for_a_written_reply_only_when_they_are_on() -> None:
    """Chat with written replies on: ``WriteReply``; its text is what the customer gets."""
    mem = memory(msg(1, "che bella giornata"))
    chat = (understood(CHAT, "wamid.1"),)
    assert decide(mem, chat).requests == ()
    [ask] = decide(mem, chat, write=True).requests
    assert isinstance(ask, WriteReply)
    assert ask.intent is Intent.GENERAL_CHAT
    written = ReplyGenerated(
        wamids=("wamid.1",),
        text="Sì, splendida!",
        engine="t",
        model=None,
        prompt_version="t",
        latency_ms=1,
    )
    decision = decide(mem, (*chat, written), write=True)
    replies = [e.text for e in decision.events if isinstance(e, ReplyQueued)]
    assert replies == ["Sì, splendida!"]


def test_a_tap_or_media_turn_reads_its_media_first() -> None:
    """Anything but plain text asks for ``ReadMedia`` before the assistant."""
    tap = InteractiveReply(type="button_reply", id="x", title="Sì")
    fact = stored(replace(msg(1, None).payload, kind="interactive", interactive=tap))
    mem = memory(fact)
    [ask] = decide(mem).requests
    assert isinstance(ask, ReadMedia)
    assert [f.wamid for f in ask.facts] == [fact.payload.wamid]
    seen = MediaSeen(MediaTurn(messages=(), notes=(), lead=None))  # only an ignored reaction
    assert decide(mem, (seen,)).events == (
        TurnProcessed(fact_ids=(str(fact.event_id),), decisions=0),
    )
