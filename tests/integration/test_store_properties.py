"""Append/read invariants under random operation sequences (hypothesis, real SQLite file)."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from adapters.store.types import Expect, StreamVersionConflictError
from events.base import NewEvent
from tests.support.sample_events import Noted

ID_POOL = [uuid.UUID(int=i + 1) for i in range(12)]
operation = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(st.just(Expect.ANY), st.just(Expect.NO_STREAM), st.integers(0, 4)),
    st.lists(st.sampled_from(ID_POOL), min_size=1, max_size=3),
)


async def _run(ops: list[tuple[str, Expect | int, list[uuid.UUID]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engines = create_engines(f"sqlite+aiosqlite:///{Path(tmp) / 'p.db'}")
        await migrate(engines)
        store = EventStore(engines)
        model: dict[str, list[uuid.UUID]] = {}
        stored: set[uuid.UUID] = set()
        try:
            for stream, expected, ids in ops:
                events = [NewEvent(event_id=i, payload=Noted(text=str(i))) for i in ids]
                try:
                    await store.append(stream, expected, events)
                except StreamVersionConflictError:
                    continue
                for i in ids:
                    if i not in stored:
                        stored.add(i)
                        model.setdefault(stream, []).append(i)
            everything = await store.read_all(0, 1000)
            positions = [e.position for e in everything]
            assert positions == sorted(set(positions)), "positions unique and increasing"
            assert len({e.event_id for e in everything}) == len(everything), "each id once"
            for stream, ids in model.items():
                read = await store.read_stream(stream)
                assert [e.event_id for e in read] == ids
                assert [e.version for e in read] == list(range(1, len(ids) + 1)), "no gaps"
        finally:
            await engines.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, max_size=12))
def test_log_matches_a_simple_model_under_any_operation_sequence(
    ops: list[tuple[str, Expect | int, list[uuid.UUID]]],
) -> None:
    """Versions are gapless, ids unique, positions increasing, conflicts write nothing."""
    asyncio.run(_run(ops))
