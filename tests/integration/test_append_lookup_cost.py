"""The append's lookup on SQLite does the same work on a long stream as on a short one.

Counted in SQLite virtual-machine steps (the driver's progress handler), not in time: the
count is deterministic, so the test cannot flake on a loaded machine. Before the fix the
stream's version came from ``max(version) ... GROUP BY stream``, which walks every index
entry of the stream: 2,000 events cost about a hundred times the steps of 20.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from adapters.store.append_sql import _sqlite_lookup
from adapters.store.encoding import EncodedRequest
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from adapters.store.types import Expect
from events.base import NewEvent
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


def _steps(db: sqlite3.Connection, stream: str) -> tuple[int, dict[str, int]]:
    """VM steps (in units of 10) of one lookup of ``stream`` and a stream never written."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    unit = (
        EncodedRequest(stream=stream, expected=Expect.ANY, events=()),
        EncodedRequest(stream="never-written", expected=Expect.ANY, events=()),
    )
    db.set_progress_handler(count, 10)
    try:
        _known, versions, _last = _sqlite_lookup(db, [unit])
    finally:
        db.set_progress_handler(None, 10)
    return steps, versions


async def test_the_version_lookup_does_not_walk_the_stream(tmp_path: Path) -> None:
    """A 2,000-event stream's lookup takes no more steps than a 20-event one's (SQLite)."""
    engines = create_engines(f"sqlite+aiosqlite:///{tmp_path}/events.db")
    await migrate(engines)
    store = EventStore(engines)
    try:
        for stream, size in (("short", 20), ("long", 2000)):
            for start in range(0, size, 500):
                batch = [
                    NewEvent(event_id=uuid.uuid4(), payload=Noted(text=str(n)))
                    for n in range(start, min(size, start + 500))
                ]
                await store.append(stream, Expect.ANY, batch)
    finally:
        await engines.dispose()
    db = sqlite3.connect(tmp_path / "events.db")
    try:
        short, short_versions = _steps(db, "short")
        long, long_versions = _steps(db, "long")
    finally:
        db.close()
    assert short_versions == {"short": 20, "never-written": 0}
    assert long_versions == {"long": 2000, "never-written": 0}
    assert long <= short + 2
