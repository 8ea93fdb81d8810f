"""Read queries on SQLite and PostgreSQL: keyset pages, text search, dealer scope, dismissals."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from adapters.ingest import Ingestor
from adapters.readmodel.queries import (
    ConversationFilter,
    NotVisibleError,
    QueryError,
    ReadModel,
    Scope,
    StateConflictError,
)
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import runner_for
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.types import Expect
from adapters.web.simulate import text_delivery
from events.base import NewEvent
from events.conversation import ConversationEscalated, ConversationStarted, PartyKind
from tests.api.conftest import cid
from tests.conftest import person_stream

pytestmark = pytest.mark.integration
PHONES = [f"+3933300000{n:02d}" for n in range(1, 8)]
DEALER = PHONES[0]
AT = datetime(2026, 11, 27, 10, tzinfo=UTC)


async def given_conversations(store: EventStore) -> None:
    """Seven phones write (the first is a dealer, the last escalates); projections run."""
    committer = GroupCommitter(store)
    await committer.start()
    try:
        ingestor = Ingestor(committer, clock=lambda: AT)
        for n, phone in enumerate(PHONES):
            body = text_delivery(phone[1:], f"Messaggio numero {n}")
            await ingestor.ingest(json.dumps(body).encode())
    finally:
        await committer.close()
    started = ConversationStarted(key=DEALER, kind=PartyKind.DEALER)
    await store.append(
        person_stream(DEALER), Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=started)]
    )
    escalated = ConversationEscalated(reason="support_request")
    await store.append(
        person_stream(PHONES[-1]),
        Expect.ANY,
        [NewEvent(event_id=uuid.uuid4(), payload=escalated)],
    )
    for projection in all_projections():
        await runner_for(store, projection).catch_up()


async def test_pages_walk_every_conversation_once(store: EventStore) -> None:
    """limit=3 over seven conversations: three pages, no repeats, newest first."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        page = await read.conversations(
            Scope.everything(), ConversationFilter(), limit=3, cursor=cursor
        )
        seen += [r["id"] for r in page.items]
        cursor = page.next_cursor
    assert cursor is None
    assert sorted(seen) == sorted(cid(p) for p in PHONES)


async def test_text_search_is_case_insensitive(store: EventStore) -> None:
    """q finds words of the recent history whatever their case."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    page = await read.conversations(
        Scope.everything(), ConversationFilter(q="MESSAGGIO NUMERO 3"), limit=10, cursor=None
    )
    assert [r["phone"] for r in page.items] == [PHONES[3]]


async def test_dealer_scope_sees_only_the_dealer_conversation(store: EventStore) -> None:
    """The dealer's scope lists its conversation and refuses another one."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    scope = Scope.dealer("d-x", DEALER)
    page = await read.conversations(scope, ConversationFilter(), limit=50, cursor=None)
    assert [r["id"] for r in page.items] == [cid(DEALER)]
    with pytest.raises(NotVisibleError):
        await read.conversation(scope, cid(PHONES[1]))


async def test_dismiss_then_dismiss_again_conflicts(store: EventStore) -> None:
    """The escalation is an open item; dismissing it twice is a conflict."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    [item] = (await read.review(status="open", limit=10, cursor=None)).items
    done = await read.dismiss(item["id"], by="ops", at=AT)
    assert done["status"] == "dismissed"
    with pytest.raises(StateConflictError):
        await read.dismiss(item["id"], by="ops", at=AT)
    assert (await read.counters())["review_queue"] == 0


async def test_a_foreign_cursor_is_a_query_error(store: EventStore) -> None:
    """A cursor that does not decode to our key is refused."""
    read = ReadModel(store.engines)
    with pytest.raises(QueryError):
        await read.conversations(Scope.everything(), ConversationFilter(), limit=3, cursor="e30")


async def test_pages_cross_from_timed_to_untimed_conversations_in_order(store: EventStore) -> None:
    """Ties on time, then conversations we opened (no message yet) come last.

    The page walk (limit 2) gives exactly the order of one big page.
    """
    await given_conversations(store)  # seven conversations, all at the same time AT
    for n in range(3):  # opened by us: no inbound message, so no last_message_at
        started = ConversationStarted(key=f"+39334000000{n}", kind=PartyKind.DEALER)
        await store.append(
            f"conversation-+39334000000{n}",
            Expect.ANY,
            [NewEvent(event_id=uuid.uuid4(), payload=started)],
        )
    for projection in all_projections():
        await runner_for(store, projection).catch_up()
    read = ReadModel(store.engines)
    everything = await read.conversations(
        Scope.everything(), ConversationFilter(), limit=200, cursor=None
    )
    rows = everything.items
    assert len(rows) == 10
    # Times first (all equal here), the three without one last; ids in the database's own
    # collation order, which the cursor compares with too.
    assert [r["last_message_at"] is None for r in rows] == [False] * 7 + [True] * 3
    walked: list[str] = []
    cursor = None
    while True:
        page = await read.conversations(
            Scope.everything(), ConversationFilter(), limit=2, cursor=cursor
        )
        walked += [r["id"] for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == [r["id"] for r in rows]
