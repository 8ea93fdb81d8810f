"""``ExpectAfterFacts``: appending after facts written meanwhile, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from adapters.store.event_store import EventStore
from adapters.store.types import (
    AppendRequest,
    Expect,
    ExpectAfterFacts,
    StreamVersionConflictError,
)
from events.base import NewEvent
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration
FACTS = frozenset({Noted.TYPE})
NOT_FACTS = frozenset({"test.something_else"})


def new(text: str = "x") -> NewEvent:
    """A new event with a fresh id."""
    return NewEvent(event_id=uuid.uuid4(), payload=Noted(text=text))


async def test_accepted_at_the_expected_version(store: EventStore) -> None:
    """Nothing written since: the append lands right after the expected version."""
    await store.append("s", Expect.NO_STREAM, [new(), new()])
    result = await store.append("s", ExpectAfterFacts(2, NOT_FACTS), [new("decided")])
    assert result.version == 3


async def test_accepted_after_tolerated_facts_and_placed_after_them(store: EventStore) -> None:
    """Facts written since the expected version do not refuse the append; it goes last."""
    await store.append("s", Expect.NO_STREAM, [new("a")])
    await store.append("s", Expect.ANY, [new("later 1"), new("later 2")])
    result = await store.append("s", ExpectAfterFacts(1, FACTS), [new("decided")])
    texts = [e.payload.text for e in await store.read_stream("s")]
    assert result.version == 4
    assert texts == ["a", "later 1", "later 2", "decided"]


async def test_refused_after_an_event_it_does_not_tolerate(store: EventStore) -> None:
    """An event of another type since the expected version is a conflict; nothing written."""
    await store.append("s", Expect.NO_STREAM, [new("a")])
    await store.append("s", Expect.ANY, [new("b")])
    with pytest.raises(StreamVersionConflictError) as caught:
        await store.append("s", ExpectAfterFacts(1, NOT_FACTS), [new("decided")])
    assert caught.value.actual == 2
    assert await store.stream_version("s") == 2


async def test_refused_when_the_stream_is_behind_the_expectation(store: EventStore) -> None:
    """Expecting a version the stream has not reached is a conflict, as with an int."""
    await store.append("s", Expect.NO_STREAM, [new("a")])
    with pytest.raises(StreamVersionConflictError):
        await store.append("s", ExpectAfterFacts(5, FACTS), [new("decided")])
    assert await store.stream_version("s") == 1


async def test_same_batch_facts_ahead_are_tolerated_and_others_are_not(store: EventStore) -> None:
    """In one batch, facts planned ahead of the request pass; other types refuse it."""
    await store.append("s", Expect.NO_STREAM, [new("a")])
    await store.append("t", Expect.NO_STREAM, [new("a")])
    outcomes = await store.commit_units(  # one transaction, planned in this order
        [
            [AppendRequest("s", Expect.ANY, [new("fact")])],
            [AppendRequest("s", ExpectAfterFacts(1, FACTS), [new("ok")])],
            [AppendRequest("t", Expect.ANY, [new("fact")])],
            [AppendRequest("t", ExpectAfterFacts(1, NOT_FACTS), [new("no")])],
        ]
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    s_texts = [e.payload.text for e in await store.read_stream("s")]
    t_texts = [e.payload.text for e in await store.read_stream("t")]
    assert "ok" in s_texts
    assert "no" not in t_texts
    assert len(refused) == 1
    assert isinstance(refused[0], StreamVersionConflictError)
