"""The shared tail cache answers exactly as the database would, with fewer reads."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.store.tail_cache import TailCache
from events.base import Metadata, RecordedEvent
from tests.support.sample_events import Noted


def _log(positions: list[int]) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            position=p,
            event_id=uuid.uuid4(),
            stream="s",
            version=i + 1,
            type=Noted.TYPE,
            schema_version=1,
            payload=Noted(text=str(p)),
            metadata=Metadata(),
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for i, p in enumerate(positions)
    ]


class FakeLog:
    """A log in memory that grows, with gaps in positions (as PostgreSQL sequences leave)."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.reads = 0

    def grow(self, positions: list[int]) -> None:
        self.events += _log(positions)

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        self.reads += 1
        await asyncio.sleep(0)  # a real read suspends, letting other followers queue up
        return [e for e in self.events if e.position > after][:limit]


def test_followers_at_the_head_share_one_database_read() -> None:
    """Five followers asking at the same position cost one read.

    As in the store, the cache knows the committed position (the notifier's): the first
    follower's read reached it, so it answers for the four that waited behind it.
    """
    log = FakeLog()
    log.grow([1, 2, 3])
    cache = TailCache(log.read_all, committed=lambda: log.events[-1].position)

    async def run() -> list[list[int]]:
        await cache.read_all(0, 100)
        log.grow([5, 8])
        answers = await asyncio.gather(*(cache.read_all(3, 100) for _ in range(5)))
        return [[e.position for e in a] for a in answers]

    answers = asyncio.run(run())
    assert answers == [[5, 8]] * 5
    assert log.reads == 2


@settings(max_examples=200, deadline=None)
@given(
    growth=st.lists(st.lists(st.integers(1, 3), min_size=0, max_size=5), min_size=1, max_size=8),
    asks=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 7)), min_size=1, max_size=30),
    capacity=st.integers(1, 20),
)
def test_every_answer_equals_the_databases(
    growth: list[list[int]], asks: list[tuple[int, int]], capacity: int
) -> None:
    """Whatever the interleaving of growth and reads, the cache agrees with the log."""
    log = FakeLog()
    cache = TailCache(log.read_all, capacity=capacity)

    async def run() -> None:
        position = 0
        for step, (after, limit) in enumerate(asks):
            if step < len(growth):
                for gap in growth[step]:
                    position += gap
                    log.grow([position])
            got = await cache.read_all(after, limit)
            want = [e for e in log.events if e.position > after][:limit]
            assert [e.position for e in got] == [e.position for e in want]

    asyncio.run(run())


def test_a_short_read_by_one_follower_does_not_cut_short_another() -> None:
    """A follower waiting behind a head read with a small limit still gets all it asked for."""
    log = FakeLog()
    log.grow([1])
    cache = TailCache(log.read_all)

    async def run() -> tuple[list[int], list[int]]:
        await cache.read_all(0, 10)
        log.grow([2, 3, 4])
        small, big = await asyncio.gather(cache.read_all(1, 1), cache.read_all(1, 100))
        return [e.position for e in small], [e.position for e in big]

    assert asyncio.run(run()) == ([2], [2, 3, 4])


class GatedLog(FakeLog):
    """A :class:`FakeLog` whose reads after ``gate_after`` wait until the gate opens."""

    def __init__(self, gate_after: int) -> None:
        super().__init__()
        self.gate_after = gate_after
        self.gate = asyncio.Event()
        self.held = asyncio.Event()  # a gated read is waiting

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        if after == self.gate_after:
            self.held.set()
            await self.gate.wait()
        return await super().read_all(after, limit)


def test_a_reader_ahead_of_the_run_never_reorders_it_under_a_head_read() -> None:
    """A follower starting past the run's head (the metrics tail at start-up, from the last
    position) while another extends the run: the followers waiting still get the log in
    order, each event once (issue 15: the split's worker sent replies twice)."""
    log = GatedLog(gate_after=5)
    log.grow(list(range(1, 21)))
    cache = TailCache(log.read_all)

    async def run() -> list[int]:
        await cache.read_all(0, 5)  # the run covers (0, 5]
        extending = asyncio.create_task(cache.read_all(5, 3))  # a head read, held
        await log.held.wait()
        waiting = asyncio.create_task(cache.read_all(5, 100))  # behind it, on the lock
        await asyncio.sleep(0)
        ahead = asyncio.create_task(cache.read_all(12, 100))  # past the head: its own read
        for _ in range(5):  # its database read completes while the head read is held
            await asyncio.sleep(0)
        log.gate.set()
        await asyncio.gather(extending, ahead)
        return [e.position for e in await waiting]

    assert asyncio.run(run()) == list(range(6, 21))


class SnapshotLog(FakeLog):
    """A log whose reads take their snapshot at once and answer when the gate opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        self.reads += 1
        snapshot = [e for e in self.events if e.position > after][:limit]
        await self.gate.wait()
        return snapshot


def _read_your_writes(committed: bool) -> list[int]:
    log = SnapshotLog()
    written = [0]  # the position the writer's commit announced
    cache = (
        TailCache(log.read_all, committed=lambda: written[0])
        if committed
        else TailCache(log.read_all)
    )

    async def run() -> list[int]:
        await cache.read_all(0, 100)  # the run starts: (0, 0]
        log.gate.clear()
        follower = asyncio.create_task(cache.read_all(0, 100))  # snapshot taken: empty
        await asyncio.sleep(0)
        log.grow([1])  # the writer commits, then asks at once
        written[0] = 1
        mine = asyncio.create_task(cache.read_all(0, 100))
        await asyncio.sleep(0)
        log.gate.set()
        await follower
        return [e.position for e in await mine]

    return asyncio.run(run())


def test_a_reader_sees_its_own_commit_though_a_head_read_was_in_flight() -> None:
    """A head read that started before a commit does not answer for the committer.

    The writer's event must be in its own next read, with or without the store's
    committed position to go by (found in CI: a webhook answered 200, then read nothing).
    """
    assert _read_your_writes(committed=True) == [1]
    assert _read_your_writes(committed=False) == [1]


def test_a_write_from_another_process_is_read_though_the_committed_position_lags() -> None:
    """The committed position knows only this process's writes: it never stops a read.

    Another process (a CLI import, the other half of a split) commits; nobody here was told.
    The next follower at the head must still ask the database (found in CI: an imported
    product never reached the running service).
    """
    log = FakeLog()
    log.grow([1])
    cache = TailCache(log.read_all, committed=lambda: 1)

    async def run() -> list[int]:
        await cache.read_all(0, 100)
        await cache.read_all(1, 100)  # a head read that found the end of the log
        log.grow([2])  # committed elsewhere; our committed position still says 1
        return [e.position for e in await cache.read_all(1, 100)]

    assert asyncio.run(run()) == [2]
