"""``dloop-bot bench store``: our event store against the ``eventsourcing`` library.

Same process, same machine, same events, on SQLite (a temporary file, WAL,
``synchronous=FULL``) and on PostgreSQL (a fresh schema per phase in the ``test``
database, dropped afterwards). Phases, each on an empty store:

* ``single``: one event per transaction, each to a new stream, one after another;
* ``group``: ours through :class:`GroupCommitter` with 64 concurrent producers, against
  eventsourcing's one event per transaction (it has no group commit);
* ``bulk``: 1,000 events per transaction (``commit_units`` / ``insert_events``);
* ``read``: every event of the bulk store read back in pages of 1,000, decoded into event
  objects.

Both sides pay for encoding (our codec / eventsourcing's mapper) inside the timing;
building the event objects and creating the empty store (our migrations, eventsourcing's
``create_table``) happen before it. The event objects (the fixture, about 300,000 Python
objects for 20,000 events) are frozen out of the cyclic GC and a collection runs before
every phase, on both sides, so that a full collection over the fixture (about 0.1 s here)
lands in no phase by chance. Results are events per second.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import psycopg
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from sqlalchemy.engine import make_url

from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.migrations import migrate
from adapters.store.types import AppendRequest, Expect
from events.base import Metadata, NewEvent, event

BULK = 1000  # events per transaction in the bulk phase, and page size when reading
PRODUCERS = 64
# The goals of issue 2: ours / eventsourcing, per phase.
GOALS = {"single": None, "group": 10.0, "bulk": 1.0, "read": 2.0}
LABELS = {
    "single": "1 event per transaction",
    "group": f"group commit, {PRODUCERS} producers (vs es 1/tx)",
    "bulk": f"bulk, {BULK} events per transaction",
    "read": "read back, decoded",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the result table."""

    backend: str
    phase: str
    ours: float  # events/s
    eventsourcing: float  # events/s
    ratio: float
    goal: float | None
    met: bool | None


PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
_TEXTS = (
    "Buongiorno, vorrei sapere se la crostata di ricotta è disponibile per sabato mattina",
    "Ciao! Posso ordinare due pizze margherita e una diavola per le 20:30? Grazie mille",
    "Salve, il pacco non è ancora arrivato: potete controllare lo stato della spedizione?",
)


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class BenchNoted:
    """A customer's message, noted by the benchmark: the usual field types, flat."""

    TYPE: ClassVar[str] = "bench.message_noted"
    VERSION: ClassVar[int] = 1

    wamid: str
    phone: str
    text: str
    amount: Decimal
    sent_at: datetime
    tags: tuple[str, ...]


@dataclass(frozen=True)
class EsBenchNoted(DomainEvent):
    """The same event for eventsourcing (adds originator id, version and timestamp)."""

    wamid: str
    phone: str
    text: str
    amount: Decimal
    sent_at: datetime
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """One event, in both libraries' shapes, and the new stream it goes to."""

    stream: str
    ours: NewEvent
    theirs: EsBenchNoted


def make_samples(n: int) -> list[Sample]:
    """``n`` realistic events, each for a stream of its own."""
    base = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        stream_id = uuid.uuid4()
        fields: dict[str, Any] = {
            "wamid": f"wamid.HBgMMzkzNDc{i:010d}FQIAEhgU",
            "phone": f"+39347{i % 10_000_000:07d}",
            "text": _TEXTS[i % len(_TEXTS)],
            "amount": Decimal(f"{i % 100}.90"),
            "sent_at": base + timedelta(seconds=i),
            "tags": ("inbound", "text"),
        }
        meta = Metadata(correlation_id=str(uuid.uuid4()), source="bench")
        ours = NewEvent(event_id=uuid.uuid4(), payload=BenchNoted(**fields), metadata=meta)
        theirs = EsBenchNoted(
            originator_id=stream_id, originator_version=1, timestamp=base, **fields
        )
        out.append(Sample(f"bench-{stream_id}", ours, theirs))
    return out


def _chunks(samples: Sequence[Sample], size: int) -> Iterator[Sequence[Sample]]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


async def pg_reachable(pg_url: str) -> str | None:
    """None when PostgreSQL answers at ``pg_url``, else the reason it does not."""
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(pg_url), timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return str(exc)
    await conn.close()
    return None


def _asyncpg_dsn(pg_url: str) -> str:
    return make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)


class OurSide:
    """Our store, on a fresh SQLite file or PostgreSQL schema for every phase."""

    def __init__(self, backend: str, tmp: Path, pg_url: str) -> None:
        self.backend, self.tmp, self.pg_url = backend, tmp, pg_url
        self._engines: Engines | None = None
        self._schema: str | None = None
        self._store: EventStore | None = None

    async def fresh(self) -> None:
        """An empty store for the next phase (not timed)."""
        await self._fresh()

    async def _fresh(self) -> EventStore:
        await self.close()
        name = f"ours_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            self._engines = create_engines(f"sqlite+aiosqlite:///{self.tmp}/{name}.db")
        else:
            conn = await asyncpg.connect(_asyncpg_dsn(self.pg_url))
            await conn.execute(f'CREATE SCHEMA "{name}"')
            await conn.close()
            self._schema = name
            self._engines = create_engines(self.pg_url, pg_schema=name)
        await migrate(self._engines)
        self._store = EventStore(self._engines)
        return self._store

    async def single(self, samples: Sequence[Sample]) -> None:
        """One ``append`` (one transaction) per event."""
        store = self._ready()
        for s in samples:
            await store.append(s.stream, Expect.NO_STREAM, [s.ours])

    async def group(self, samples: Sequence[Sample], producers: int) -> None:
        """``producers`` coroutines, each appending its share one event at a time."""
        committer = GroupCommitter(self._ready())
        await committer.start()

        async def produce(share: Sequence[Sample]) -> None:
            for s in share:
                await committer.append([AppendRequest(s.stream, Expect.NO_STREAM, [s.ours])])

        try:
            await asyncio.gather(*(produce(samples[k::producers]) for k in range(producers)))
        finally:
            await committer.close()

    async def bulk(self, samples: Sequence[Sample], size: int) -> None:
        """``commit_units`` with ``size`` one-event units per call."""
        store = self._ready()
        for chunk in _chunks(samples, size):
            units = [[AppendRequest(s.stream, Expect.NO_STREAM, [s.ours])] for s in chunk]
            for outcome in await store.commit_units(units):
                if isinstance(outcome, BaseException):
                    raise outcome

    def _ready(self) -> EventStore:
        assert self._store is not None, "fresh() first"
        return self._store

    async def read(self, page: int) -> int:
        """Read the last store back with ``read_all``; returns the number of events."""
        count, after = 0, 0
        while batch := await self._ready().read_all(after, page):
            count += len(batch)
            after = batch[-1].position
        return count

    async def close(self) -> None:
        """Dispose the engines and drop the PostgreSQL schema, if any."""
        if self._engines is not None:
            await self._engines.dispose()
            self._engines = self._store = None
        if self._schema is not None:
            conn = await asyncpg.connect(_asyncpg_dsn(self.pg_url))
            await conn.execute(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE')
            await conn.close()
            self._schema = None


class EsSide:
    """eventsourcing's application recorder and mapper, fresh for every phase."""

    def __init__(self, backend: str, tmp: Path, pg_url: str) -> None:
        self.backend, self.tmp = backend, tmp
        self.url = make_url(pg_url)
        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
        self.mapper: Mapper[uuid.UUID] = Mapper(transcoder=transcoder)
        self._datastore: SQLiteDatastore | PostgresDatastore | None = None
        self._schema: str | None = None
        self._recorder: ApplicationRecorder | None = None

    def fresh(self) -> None:
        """An empty store for the next phase (not timed)."""
        self._fresh()

    def _ready(self) -> ApplicationRecorder:
        assert self._recorder is not None, "fresh() first"
        return self._recorder

    def _fresh(self) -> ApplicationRecorder:
        self.close()
        name = f"es_{uuid.uuid4().hex[:12]}"
        recorder: ApplicationRecorder
        if self.backend == "sqlite":
            sqlite = SQLiteDatastore(str(self.tmp / f"{name}.db"))
            recorder = SQLiteApplicationRecorder(sqlite)
            self._datastore = sqlite
        else:
            self._pg_admin(f'CREATE SCHEMA "{name}"')
            self._schema = name
            pg = PostgresDatastore(
                self.url.database or "test", self.url.host or "127.0.0.1", self.url.port or 5432,
                self.url.username or "postgres", self.url.password or "", schema=name,
            )  # fmt: skip
            recorder = PostgresApplicationRecorder(pg)
            self._datastore = pg
        recorder.create_table()
        self._recorder = recorder
        return recorder

    def _pg_admin(self, sql: str) -> None:
        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.encode())

    async def single(self, samples: Sequence[Sample]) -> None:
        """One ``insert_events`` (one transaction) per event."""
        recorder, to_stored = self._ready(), self.mapper.to_stored_event
        for s in samples:
            recorder.insert_events([to_stored(s.theirs)])

    async def bulk(self, samples: Sequence[Sample], size: int) -> None:
        """``insert_events`` with ``size`` events per call: its best bulk path."""
        recorder, to_stored = self._ready(), self.mapper.to_stored_event
        for chunk in _chunks(samples, size):
            recorder.insert_events([to_stored(s.theirs) for s in chunk])

    async def read(self, page: int) -> int:
        """Read the last store back with ``select_notifications`` and the mapper."""
        assert self._recorder is not None
        count, start, decode = 0, 1, self.mapper.to_domain_event
        while batch := self._recorder.select_notifications(start, page):
            events_ = [decode(n) for n in batch]
            count += len(events_)
            start = batch[-1].id + 1
        return count

    def close(self) -> None:
        """Close the datastore and drop the PostgreSQL schema, if any."""
        if self._datastore is not None:
            self._datastore.close()
            self._datastore = self._recorder = None
        if self._schema is not None:
            self._pg_admin(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE')
            self._schema = None


def build_parser() -> argparse.ArgumentParser:
    """The options of ``bench store``."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench store", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events per phase")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres"
    )
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL database to use")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the store benchmark and print the table (or JSON)."""
    args = build_parser().parse_args(argv)
    if args.events < 1:
        print("bench store: --events must be at least 1", file=sys.stderr)
        return 2
    rows, notes = asyncio.run(run(args.events, args.backends.split(","), args.pg_url))
    if args.json:
        print(json.dumps({"events": args.events, "results": [asdict(r) for r in rows]}, indent=2))
    else:
        print(render(rows, args.events))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


async def run(n: int, backends: list[str], pg_url: str) -> tuple[list[Row], list[str]]:
    """Every phase on every reachable backend; returns rows and notes on skipped parts."""
    samples = make_samples(n)
    gc.collect()
    gc.freeze()  # the fixture lives to the end: keep it out of every collection
    try:
        return await _run_backends(samples, backends, pg_url)
    finally:
        gc.unfreeze()


async def _run_backends(
    samples: list[Sample], backends: list[str], pg_url: str
) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dloop-bench-") as tmp:
        for backend in (b.strip() for b in backends if b.strip()):
            if backend == "postgres" and (problem := await pg_reachable(pg_url)):
                notes.append(f"PostgreSQL skipped: {problem}")
                continue
            ours = OurSide(backend, Path(tmp), pg_url)
            theirs = EsSide(backend, Path(tmp), pg_url)
            rows.extend(await _backend_rows(backend, ours, theirs, samples))
    return rows, notes


async def _backend_rows(
    backend: str, ours: OurSide, theirs: EsSide, samples: list[Sample]
) -> list[Row]:
    n = len(samples)
    es_single = _rate(n, await _timed(lambda: theirs.single(samples), theirs.fresh))
    es_bulk = _rate(n, await _timed(lambda: theirs.bulk(samples, BULK), theirs.fresh))
    es_read = _rate(*await _timed_count(lambda: theirs.read(BULK)))
    theirs.close()
    our_single = _rate(n, await _timed(lambda: ours.single(samples), ours.fresh))
    our_group = _rate(n, await _timed(lambda: ours.group(samples, PRODUCERS), ours.fresh))
    our_bulk = _rate(n, await _timed(lambda: ours.bulk(samples, BULK), ours.fresh))
    our_read = _rate(*await _timed_count(lambda: ours.read(BULK)))
    await ours.close()
    pairs = {
        "single": (our_single, es_single),
        "group": (our_group, es_single),
        "bulk": (our_bulk, es_bulk),
        "read": (our_read, es_read),
    }
    return [_row(backend, phase, *pair) for phase, pair in pairs.items()]


def _row(backend: str, phase: str, ours: float, theirs: float) -> Row:
    ratio = ours / theirs if theirs else 0.0
    goal = GOALS[phase]
    met = None if goal is None else ratio >= goal
    return Row(backend, phase, round(ours), round(theirs), round(ratio, 2), goal, met)


async def _timed(
    work: Callable[[], Awaitable[None]], prepare: Callable[[], Awaitable[None] | None]
) -> float:
    """Seconds ``work`` takes on a fresh store (``prepare``), after a GC collection."""
    ready = prepare()
    if inspect.isawaitable(ready):
        await ready
    gc.collect()
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def _timed_count(work: Callable[[], Awaitable[int]]) -> tuple[int, float]:
    gc.collect()
    started = time.perf_counter()
    count = await work()
    return count, time.perf_counter() - started


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def render(rows: list[Row], n: int) -> str:
    """A Markdown table of ``rows``."""
    lines = [
        f"Event store, {n} events per phase (events/s; ratio = ours / eventsourcing)",
        "",
        "| backend | phase | ours | eventsourcing | ratio | goal |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        goal = "-" if r.goal is None else f">= {r.goal:g}x {'met' if r.met else 'MISSED'}"
        lines.append(
            f"| {r.backend} | {LABELS[r.phase]} | {r.ours:,.0f} | {r.eventsourcing:,.0f}"
            f" | {r.ratio:.2f} | {goal} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
