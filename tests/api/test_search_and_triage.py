"""Search (phone, name, recent messages; trigram-indexed on PostgreSQL) and the triage list."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import adapters.readmodel.search
from adapters.readmodel.queries import ConversationFilter, ReadModel, Scope
from adapters.readmodel.schema_who import TRGM_INDEXES, has_search_index
from adapters.store.event_store import EventStore
from tests.api.test_queries import PHONES, given_conversations

pytestmark = pytest.mark.integration


async def every_page(read: ReadModel, filt: ConversationFilter, limit: int) -> list[str]:
    """The phones of every page of a search, in order."""
    phones: list[str] = []
    cursor = None
    while True:
        page = await read.conversations(Scope.everything(), filt, limit=limit, cursor=cursor)
        phones += [r["phone"] for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return phones


async def test_search_finds_phone_digits_profile_names_and_words(store: EventStore) -> None:
    """A phone fragment, the WhatsApp name and a word of a message each find their rows."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    assert await every_page(read, ConversationFilter(q="3330000005"), 10) == [PHONES[4]]
    named = await every_page(read, ConversationFilter(q="simulatore"), 10)
    assert sorted(named) == sorted(PHONES)
    page = await read.conversations(
        Scope.everything(), ConversationFilter(q="numero 2"), limit=10, cursor=None
    )
    assert [r["phone"] for r in page.items] == [PHONES[2]]
    assert "search_text" not in page.items[0]
    assert await every_page(read, ConversationFilter(q='"numero" 2'), 10) == []


async def test_pages_are_the_same_from_the_recent_window_or_the_index(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window too small for a page falls back to the indexed query: same pages."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    filt = ConversationFilter(q="messaggio")
    wide = await every_page(read, filt, 2)
    monkeypatch.setattr(adapters.readmodel.search, "SEARCH_WINDOW", 1)
    narrow = await every_page(read, filt, 2)
    assert wide == narrow
    assert sorted(wide) == sorted(PHONES)


async def test_migration_10_built_the_search_index(store: EventStore) -> None:
    """pg_trgm indexes on PostgreSQL (the test database has the extension), FTS5 on SQLite."""
    async with store.engines.reader.connect() as conn:
        if store.dialect == "sqlite":
            assert await has_search_index(conn)
            return
        found = await conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'whatsapp_conversations'")
        )
        names = {str(n) for (n,) in found}
    assert set(TRGM_INDEXES) <= names


async def test_triage_lists_who_needs_a_person_and_attention_splits_the_list(
    store: EventStore,
) -> None:
    """The escalated customer is on the triage list and only on attention=needed."""
    await given_conversations(store)
    read = ReadModel(store.engines)
    triage = await read.triage(Scope.everything())
    assert [(r["phone"], r["attention"]) for r in triage] == [(PHONES[-1], "escalated")]
    needed = await every_page(read, ConversationFilter(attention=True), 10)
    rest = await every_page(read, ConversationFilter(attention=False), 10)
    assert needed == [PHONES[-1]]
    assert sorted(rest) == sorted(PHONES[:-1])
    counters = await read.counters()
    assert (counters["needs_person"], counters["open_conversations"]) == (1, 1)
