"""The event store contract, run on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.types import AppendRequest, Expect, StreamVersionConflictError
from events.base import Metadata, NewEvent
from events.errors import CorruptEventError, SchemaTooNewError, UnknownEventTypeError
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


def new(text_: str = "x", event_id: uuid.UUID | None = None) -> NewEvent:
    """A new event with a fresh (or given) id."""
    return NewEvent(event_id=event_id or uuid.uuid4(), payload=Noted(text=text_))


async def test_append_then_read_stream_round_trips_payload_and_metadata(store: EventStore) -> None:
    """What is appended comes back equal, with versions from 1 and metadata kept."""
    at = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    payload = Noted(text="ciao è", amount=Decimal("18.90"), at=at, tags=("a", "b"))
    meta = Metadata(correlation_id="c1", causation_id="k1", source="test")
    eid = uuid.uuid4()
    result = await store.append(
        "s-1", Expect.NO_STREAM, [NewEvent(event_id=eid, payload=payload, metadata=meta)]
    )
    [recorded] = await store.read_stream("s-1")
    assert result.version == 1
    assert recorded.payload == payload
    assert str(recorded.payload.amount) == "18.90"
    assert recorded.metadata == meta
    assert recorded.event_id == eid
    assert recorded.version == 1
    assert recorded.recorded_at.tzinfo is not None


async def test_expected_version_exact_accepts_current_and_rejects_stale(store: EventStore) -> None:
    """An exact expected version must equal the stream's version."""
    await store.append("s", Expect.NO_STREAM, [new(), new()])
    await store.append("s", 2, [new()])
    with pytest.raises(StreamVersionConflictError) as caught:
        await store.append("s", 2, [new()])
    assert "'s'" in str(caught.value)
    assert "expected version 2" in str(caught.value)
    assert "at version 3" in str(caught.value)
    assert await store.stream_version("s") == 3


async def test_no_stream_rejects_existing_stream(store: EventStore) -> None:
    """NO_STREAM fails once the stream has events."""
    await store.append("s", Expect.NO_STREAM, [new()])
    with pytest.raises(StreamVersionConflictError):
        await store.append("s", Expect.NO_STREAM, [new()])


async def test_any_appends_regardless_of_version(store: EventStore) -> None:
    """ANY never conflicts."""
    await store.append("s", Expect.ANY, [new()])
    result = await store.append("s", Expect.ANY, [new()])
    assert result.version == 2


async def test_known_event_id_is_a_reported_no_op(store: EventStore) -> None:
    """Re-appending a stored id writes nothing and says so."""
    eid = uuid.uuid4()
    await store.append("s", Expect.ANY, [new("one", eid)])
    again = await store.append("s", Expect.ANY, [new("one", eid)])
    assert again.was_duplicate
    assert again.duplicates == (eid,)
    assert len(await store.read_stream("s")) == 1


async def test_duplicate_retry_with_stale_expected_version_is_still_a_no_op(
    store: EventStore,
) -> None:
    """A retry of a stored append does not conflict, whatever it expected."""
    eid = uuid.uuid4()
    await store.append("s", Expect.NO_STREAM, [new("one", eid)])
    again = await store.append("s", Expect.NO_STREAM, [new("one", eid)])
    assert again.was_duplicate


async def test_batch_mixing_new_and_known_ids_stores_only_new(store: EventStore) -> None:
    """Inside one batch, known ids are skipped and new ones appended in order."""
    known = uuid.uuid4()
    await store.append("s", Expect.ANY, [new("a", known)])
    fresh = [uuid.uuid4(), uuid.uuid4()]
    result = await store.append(
        "s", Expect.ANY, [new("b", fresh[0]), new("a", known), new("c", fresh[1])]
    )
    assert [a.event_id for a in result.appended] == fresh
    assert result.duplicates == (known,)
    assert [e.payload.text for e in await store.read_stream("s")] == ["a", "b", "c"]


async def test_same_id_twice_in_one_batch_is_stored_once(store: EventStore) -> None:
    """A batch repeating an id keeps the first occurrence only."""
    eid = uuid.uuid4()
    result = await store.append("s", Expect.ANY, [new("a", eid), new("a", eid)])
    assert len(result.appended) == 1
    assert result.duplicates == (eid,)


async def test_read_all_pages_in_position_order(store: EventStore) -> None:
    """read_all returns events after a position, bounded by limit."""
    for i in range(5):
        await store.append(f"s{i % 2}", Expect.ANY, [new(str(i))])
    first = await store.read_all(0, limit=3)
    rest = await store.read_all(first[-1].position, limit=10)
    texts = [e.payload.text for e in first + rest]
    assert texts == ["0", "1", "2", "3", "4"]
    positions = [e.position for e in first + rest]
    assert positions == sorted(positions)
    assert await store.last_position() == positions[-1]


async def test_empty_stream_has_version_zero(store: EventStore) -> None:
    """A stream without events is at version 0 and reads empty."""
    assert await store.stream_version("nothing") == 0
    assert await store.read_stream("nothing") == []


async def test_unit_is_all_or_nothing_and_conflict_fails_only_its_unit(store: EventStore) -> None:
    """In one transaction, a conflicting unit writes nothing while the others commit."""
    await store.append("busy", Expect.ANY, [new()])
    outcomes = await store.commit_units(
        [
            [
                AppendRequest("a", Expect.ANY, [new("a")]),
                AppendRequest("busy", Expect.NO_STREAM, [new()]),
            ],
            [AppendRequest("b", Expect.NO_STREAM, [new("b")])],
        ]
    )
    assert isinstance(outcomes[0], StreamVersionConflictError)
    assert not isinstance(outcomes[1], BaseException)
    assert await store.read_stream("a") == []
    assert [e.payload.text for e in await store.read_stream("b")] == ["b"]


async def test_group_commit_batches_concurrent_producers(store: EventStore) -> None:
    """Many concurrent producers are committed in fewer transactions, each durably."""
    committer = GroupCommitter(store, max_batch=64)
    await committer.start()
    try:
        results = await asyncio.gather(
            *(
                committer.append([AppendRequest(f"g{i}", Expect.NO_STREAM, [new(str(i))])])
                for i in range(200)
            )
        )
    finally:
        await committer.close()
    assert all(r[0].version == 1 for r in results)
    assert len(await store.read_all(0, 1000)) == 200
    assert committer.stats.batches < 200


async def test_group_commit_conflict_fails_only_that_caller(store: EventStore) -> None:
    """A version conflict in a batch reaches its own caller only."""
    await store.append("taken", Expect.ANY, [new()])
    committer = GroupCommitter(store)
    await committer.start()
    try:
        ok, bad = await asyncio.gather(
            committer.append([AppendRequest("free", Expect.NO_STREAM, [new()])]),
            committer.append([AppendRequest("taken", Expect.NO_STREAM, [new()])]),
            return_exceptions=True,
        )
    finally:
        await committer.close()
    assert isinstance(bad, StreamVersionConflictError)
    assert not isinstance(ok, BaseException)


async def test_checkpoint_saved_in_caller_transaction_rolls_back_with_it(store: EventStore) -> None:
    """A checkpoint written in a failed transaction is not kept."""
    async with store.transaction() as conn:
        await store.save_checkpoint("proj", 5, conn)

    async def failing_handler() -> None:
        async with store.transaction() as conn:
            await store.save_checkpoint("proj", 9, conn)
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing_handler()
    assert await store.load_checkpoint("proj") == 5


async def _raw_insert(store: EventStore, type_: str, version: int, data: str) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO events (event_id, stream, version, type, schema_version,"
                " data, metadata, recorded_at) VALUES (:id, 'raw', :v, :t, :sv, :d, '{}', :at)"
            ),
            {
                "id": str(uuid.uuid4()) if store.dialect == "postgresql" else uuid.uuid4().hex,
                "v": await store.stream_version("raw") + 1,
                "t": type_,
                "sv": version,
                "d": data,
                "at": datetime.now(UTC).replace(tzinfo=None)
                if store.dialect == "sqlite"
                else datetime.now(UTC),
            },
        )


async def test_unknown_event_type_names_position_and_type(store: EventStore) -> None:
    """A row of a type this code does not know raises a clear error."""
    await _raw_insert(store, "test.never_heard_of", 1, "{}")
    with pytest.raises(UnknownEventTypeError, match=r"position 1, type 'test.never_heard_of'"):
        await store.read_all()


async def test_too_new_schema_version_names_position_and_type(store: EventStore) -> None:
    """A row written by newer code raises SchemaTooNewError."""
    await _raw_insert(store, "test.noted", 7, json.dumps({"text": "x"}))
    with pytest.raises(SchemaTooNewError, match=r"position 1, type 'test.noted': schema version 7"):
        await store.read_stream("raw")


async def test_corrupt_row_names_position_and_type(store: EventStore) -> None:
    """Invalid JSON or a payload of the wrong shape raises CorruptEventError."""
    await _raw_insert(store, "test.noted", 1, "{not json")
    await _raw_insert(store, "test.noted", 1, json.dumps({"text": 5}))
    with pytest.raises(CorruptEventError, match=r"position 1, type 'test.noted'"):
        await store.read_all(0, 1)
    with pytest.raises(CorruptEventError, match=r"position 2, type 'test.noted'"):
        await store.read_all(1, 1)
