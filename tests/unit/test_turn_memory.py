"""The turn memory: what a conversation turn needs, folded one stored event at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count

from core.conversation import ConversationState, fold
from core.turn_memory import HISTORY_TURNS, TurnMemory, remember_all, seen_by_turn
from events.base import Metadata, RecordedEvent
from events.conversation import AssistantFailed, ReplyKind, ReplyQueued
from events.engine import TurnProcessed
from events.whatsapp import MessageReceived

KEY = "+393331234567"
T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
_VERSION = count(1)


def stored(payload: object) -> RecordedEvent:
    """``payload`` as the store hands it back (fresh id, next version)."""
    v = next(_VERSION)
    return RecordedEvent(
        position=v,
        event_id=uuid.uuid4(),
        stream=f"conversation-{KEY}",
        version=v,
        type=type(payload).TYPE,  # type: ignore[attr-defined]
        schema_version=1,
        payload=payload,
        metadata=Metadata(),
        recorded_at=T0,
    )


def msg(n: int, text: str | None = "ciao") -> RecordedEvent:
    """The customer's ``n``-th message."""
    return stored(
        MessageReceived(
            wamid=f"wamid.{n}", wa_id=KEY[1:], phone=KEY, bsuid=None,
            kind="text", text=text, sent_at=T0 + timedelta(seconds=n),
        )
    )  # fmt: skip


def reply(text: str) -> RecordedEvent:
    """A text reply the bot queued."""
    oid = str(uuid.uuid4())
    return stored(ReplyQueued(outbound_id=oid, to=KEY, kind=ReplyKind.TEXT, text=text))


def done(*facts: RecordedEvent) -> RecordedEvent:
    """The marker of a turn over ``facts``."""
    return stored(TurnProcessed(fact_ids=tuple(str(f.event_id) for f in facts), decisions=1))


def failed(*wamids: str) -> RecordedEvent:
    """The assistant failed for the messages ``wamids``."""
    return stored(AssistantFailed(operation="understand", error="boom", wamids=wamids))


EMPTY = TurnMemory(state=ConversationState(key=KEY))


def test_inbound_facts_are_pending_until_a_turn_covers_them() -> None:
    """A message stays pending until a ``TurnProcessed`` lists it."""
    m1, m2 = msg(1), msg(2)
    memory = remember_all(EMPTY, [m1, m2, done(m1)])
    assert memory.pending == (m2,)


def test_state_is_the_same_fold_as_the_conversation_rules() -> None:
    """The memory's state equals folding the payloads with ``core.conversation.fold``."""
    events = [msg(1), reply("ciao!"), msg(2)]
    memory = remember_all(EMPTY, events)
    assert memory.state == fold(EMPTY.state, [e.payload for e in events])


def test_a_recorded_answer_is_found_while_its_messages_are_pending() -> None:
    """An answer for exactly the pending messages is reused; others are not found."""
    m1 = msg(1)
    memory = remember_all(EMPTY, [m1, failed("wamid.1")])
    assert memory.answer(AssistantFailed, ("wamid.1",)) is not None
    assert memory.answer(AssistantFailed, ("wamid.1", "wamid.2")) is None


def test_answers_are_dropped_once_their_turn_is_processed() -> None:
    """After the turn, its answers are forgotten: the memory does not grow with the log."""
    m1 = msg(1)
    memory = remember_all(EMPTY, [m1, failed("wamid.1"), done(m1)])
    assert memory.answer(AssistantFailed, ("wamid.1",)) is None
    assert not memory.answers


def test_history_keeps_the_last_lines_of_chat_in_order() -> None:
    """Customer texts and queued replies, the last ``HISTORY_TURNS`` of them."""
    events = [e for n in range(10) for e in (msg(n, f"domanda {n}"), reply(f"risposta {n}"))]
    memory = remember_all(EMPTY, events)
    assert len(memory.history) == HISTORY_TURNS
    assert [t.text for t in memory.history[-2:]] == ["domanda 9", "risposta 9"]
    assert [t.role for t in memory.history[-2:]] == ["customer", "assistant"]


def test_messages_without_text_add_no_history_line() -> None:
    """A media message without text is pending but says nothing to the assistant."""
    memory = remember_all(EMPTY, [msg(1, None)])
    assert len(memory.pending) == 1
    assert memory.history == ()


def test_seen_by_turn_leaves_out_facts_that_arrived_for_the_next_turn() -> None:
    """Facts neither covered earlier nor in the turn are not what the turn decided from."""
    m1, m2, m3 = msg(1), msg(2), msg(3)
    first = done(m1)
    seen = seen_by_turn([m1, first, m2, m3], [str(m2.event_id)])
    assert seen == [m1, first, m2]
