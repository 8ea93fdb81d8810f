"""Tamper evidence: a per-stream SHA-256 hash chain over the stored events (ADR 0003).

The ``events`` table is left exactly as the store writes it. A follower (the
:class:`HashChainSealer`, a subscription named ``ops:hash-chain``) reads each new row as
stored and writes ``event_hashes(position, stream, version, hash)`` where::

    hash = sha256(prev_hash_of_stream, position, event_id, stream, version, type,
                  schema_version, recorded_at, metadata, data_for_hash)

each part length-prefixed, so no two different rows hash alike. ``data_for_hash`` is the
stored ``data`` text, except for ``whatsapp.webhook_received`` where the raw ``body``
(and ``body_b64``) are left out: ``body_sha256`` stays in and commits to the body, so
the retention job can drop bodies without breaking the chain, and audit checks each kept
body against its digest. ``dloop-bot audit`` recomputes the chain (:class:`ChainVerifier`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ops.rawlog import SELECT_EVENTS, RawEvent, raw_event, raw_events, table_exists
from adapters.store.append_sql import driver_connection, in_driver_thread
from adapters.store.event_store import EventStore
from adapters.store.migrations import migration
from adapters.store.subscriptions import SubscriptionRunner
from adapters.store.write_turn import WriteTurn, write_turn
from events.whatsapp import WebhookReceived

CHECKPOINT = "ops:hash-chain"
GENESIS = "0" * 64
BODY_FIELDS = ("body", "body_b64", "~")  # "~": the body sealed for its people (ADR 0007)

metadata = MetaData()

event_hashes = Table(
    "event_hashes",
    metadata,
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("stream", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream", "version", name="uq_event_hashes_stream_version"),
)


@migration(4, "tamper evidence: per-stream hash chain")
def _event_hashes(conn: Connection, _dialect: str) -> None:
    event_hashes.create(conn)


def data_for_hash(row: RawEvent) -> str:
    """The ``data`` text that is chained (webhook bodies excluded, see the module doc)."""
    if row.type != WebhookReceived.TYPE:
        return row.data
    try:
        data = json.loads(row.data)
    except ValueError:
        return row.data
    if not isinstance(data, dict):
        return row.data
    kept = {k: v for k, v in data.items() if k not in BODY_FIELDS}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev: str, row: RawEvent) -> str:
    """The chained hash of ``row`` after ``prev`` (the stream's previous hash)."""
    parts = (
        prev,
        str(row.position),
        row.event_id_text,
        row.stream,
        str(row.version),
        row.type,
        str(row.schema_version),
        row.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        row.metadata,
        data_for_hash(row),
    )
    digest = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8", "surrogatepass")
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
    return digest.hexdigest()


_SEAL = {
    "postgresql": pg_insert(event_hashes).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(event_hashes).on_conflict_do_nothing(),
}
_ROWS_AFTER = text(SELECT_EVENTS + " WHERE position > :after ORDER BY position LIMIT :limit")


class HashChainSealer(SubscriptionRunner):
    """Follows the log and appends each row's chained hash, with its checkpoint.

    A subscription like the projections (run it among ``Deps.workers``), but it reads
    the rows as stored rather than decoded: a row the codec cannot read is still sealed.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        batch_size: int = 2000,
        min_interval: float = 0.25,
        **options: float,
    ) -> None:
        # Nothing waits for a seal: during a burst, one transaction per quarter second.
        super().__init__(
            store,
            CHECKPOINT,
            _unused_handler,
            batch_size=batch_size,
            min_interval=min_interval,
            **options,
        )
        self._heads: dict[str, tuple[int, str]] = {}  # stream -> (version, hash)

    async def catch_up(self) -> int:
        """Seal the committed rows after the checkpoint; returns how many were sealed.

        Returns after a pass that found fewer than ``batch_size`` rows: everything
        committed before that read is sealed, and the caller's pause (``min_interval``)
        then gathers the next commits of a burst into one pass instead of chasing each one.
        """
        if self.store.dialect == "sqlite":
            return await self._catch_up_sqlite()
        sealed = 0
        while True:
            # One connection and transaction per pass: the checkpoint, the rows after it,
            # their hashes and the new checkpoint (each connection taken is a ping here).
            async with self.store.transaction() as conn:
                self.position = await self.store.load_checkpoint(self.name, conn)
                params = {"after": self.position, "limit": self.batch_size}
                rows = [raw_event(r) for r in (await conn.execute(_ROWS_AFTER, params)).all()]
                if rows:
                    await self._seal(conn, rows)
                    await self.store.save_checkpoint(self.name, rows[-1].position, conn)
            if not rows:
                return sealed
            self.position = rows[-1].position
            sealed += len(rows)
            if len(rows) < self.batch_size:
                return sealed

    async def _catch_up_sqlite(self) -> int:
        """:meth:`catch_up` on SQLite: each pass is ONE call on the writer's driver thread.

        The checkpoint read, the rows read, the chaining, the insert and the checkpoint
        save run in one ``BEGIN IMMEDIATE`` transaction as one queued function (as the
        group commit's append does): one thread hop per pass instead of one per statement
        and fetch. The stream heads learnt are kept only once the pass committed.
        """
        sealed = 0
        turn = write_turn(self.store.engines.writer.url.database)
        while True:
            now = self.store.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            job = SealJob(self.name, self.batch_size, now)
            async with self.store.engines.writer.connect() as conn:
                driver = await driver_connection(conn)
                done: tuple[int, int, dict[str, tuple[int, str]]] = await in_driver_thread(
                    driver, sqlite_seal_pass, job, self._heads, turn
                )
            count, self.position, heads = done
            self._heads.update(heads)
            sealed += count
            if count < self.batch_size:
                return sealed

    async def _seal(self, conn: AsyncConnection, rows: Sequence[RawEvent]) -> None:
        values = []
        for row in rows:
            prev = await self._prev(conn, row)
            digest = chain_hash(prev, row)
            self._heads[row.stream] = (row.version, digest)
            values.append(
                {"position": row.position, "stream": row.stream, "version": row.version,
                 "hash": digest}
            )  # fmt: skip
        # executemany of one statement: compiled once and cached, where a multi-row
        # VALUES of a different length each batch was compiled again every time.
        await conn.execute(_SEAL[self.store.dialect], values)

    async def _prev(self, conn: AsyncConnection, row: RawEvent) -> str:
        head = self._heads.get(row.stream)
        if head is not None and head[0] == row.version - 1:
            return head[1]
        if row.version <= 1:
            return GENESIS
        stmt = select(event_hashes.c.hash).where(
            event_hashes.c.stream == row.stream, event_hashes.c.version < row.version
        )
        found = (await conn.execute(stmt.order_by(event_hashes.c.version.desc()).limit(1))).first()
        return GENESIS if found is None else str(found[0])


_SQLITE_CHECKPOINT = "SELECT position FROM checkpoints WHERE name = ?"
_SQLITE_ROWS_AFTER = SELECT_EVENTS + " WHERE position > ? ORDER BY position LIMIT ?"
_SQLITE_PREV = (
    "SELECT hash FROM event_hashes WHERE stream = ? AND version < ? ORDER BY version DESC LIMIT 1"
)
_SQLITE_SEAL = (
    "INSERT INTO event_hashes (position, stream, version, hash) VALUES (?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
_SQLITE_MOVE = "UPDATE checkpoints SET position = ?, updated_at = ? WHERE name = ?"
_SQLITE_NEW = "INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?)"


class SealJob(NamedTuple):
    """What one SQLite sealing pass is asked: whose checkpoint, how many rows, the time."""

    name: str
    limit: int
    now: str  # the checkpoint's ``updated_at`` as SQLAlchemy stores it on SQLite


def sqlite_seal_pass(
    db: sqlite3.Connection,
    job: SealJob,
    heads: Mapping[str, tuple[int, str]],
    turn: WriteTurn | None,
) -> tuple[int, int, dict[str, tuple[int, str]]]:
    """One sealing transaction, run on the writer's driver thread (see ``_catch_up_sqlite``).

    Returns the rows sealed, the checkpoint after the pass and the stream heads it chained
    (``heads`` is only read: the caller keeps the new heads once this returned).
    """
    if turn is not None:
        turn.acquire()  # as every write transaction: adapters/store/write_turn.py
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            done = _sqlite_seal(db, job, heads)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    finally:
        if turn is not None:
            turn.release()
    return done


def _sqlite_seal(
    db: sqlite3.Connection, job: SealJob, heads: Mapping[str, tuple[int, str]]
) -> tuple[int, int, dict[str, tuple[int, str]]]:
    found = db.execute(_SQLITE_CHECKPOINT, (job.name,)).fetchone()
    after = 0 if found is None else int(found[0])
    rows = raw_events(db.execute(_SQLITE_ROWS_AFTER, (after, job.limit)).fetchall())
    if not rows:
        return 0, after, {}
    new: dict[str, tuple[int, str]] = {}
    values = []
    for row in rows:
        head = new.get(row.stream) or heads.get(row.stream)
        if head is not None and head[0] == row.version - 1:
            prev = head[1]
        elif row.version <= 1:
            prev = GENESIS
        else:
            stored = db.execute(_SQLITE_PREV, (row.stream, row.version)).fetchone()
            prev = GENESIS if stored is None else str(stored[0])
        digest = chain_hash(prev, row)
        new[row.stream] = (row.version, digest)
        values.append((row.position, row.stream, row.version, digest))
    db.executemany(_SQLITE_SEAL, values)
    position = rows[-1].position
    if found is None:
        db.execute(_SQLITE_NEW, (job.name, position, job.now))
    else:
        db.execute(_SQLITE_MOVE, (position, job.now, job.name))
    return len(rows), position, new


async def _unused_handler(*_args: object) -> None:  # catch_up is overridden
    return None


async def seal(store: EventStore) -> int:
    """Bring the hash chain up to date once (``dloop-bot audit --seal``, tests, benches)."""
    return await HashChainSealer(store).catch_up()


@dataclass(slots=True)
class ChainVerifier:
    """Recomputes the chain page by page, in position order, naming every row that differs.

    Hashes are loaded one page of positions at a time, so memory stays flat on big logs.
    A sealed hash whose row is gone is reported and still used as the stream's previous
    hash, so each damaged row is named once rather than every row after it.
    """

    store: EventStore
    sealed_until: int  # the sealer's checkpoint: rows after it are not sealed yet
    findings: list[tuple[str, str]] = field(default_factory=list)  # (check, message)
    checked: int = 0
    _after: int = 0
    _last: dict[str, tuple[int, str]] = field(default_factory=dict)

    async def check_page(self, rows: Sequence[RawEvent]) -> None:
        """Verify one page of rows (pages in position order, contiguous)."""
        until = min(rows[-1].position, self.sealed_until) if rows else self._after
        hashes = await self._load(self._after, until) if until > self._after else {}
        self._after = max(self._after, until)
        by_position = {r.position: r for r in rows if r.position <= until}
        for position in sorted(set(by_position) | set(hashes)):
            row, sealed = by_position.get(position), hashes.get(position)
            if row is None and sealed is not None:
                self._gone(position, sealed)
            elif row is not None:
                self._check(row, sealed)

    async def finish(self) -> None:
        """Sealed hashes after the last row belong to rows that no longer exist."""
        if self.sealed_until > self._after:
            for position, sealed in sorted(
                (await self._load(self._after, self.sealed_until)).items()
            ):
                self._gone(position, sealed)
            self._after = self.sealed_until

    async def _load(self, after: int, until: int) -> dict[int, tuple[str, int, str]]:
        stmt = select(event_hashes).where(
            event_hashes.c.position > after, event_hashes.c.position <= until
        )
        async with self.store.engines.reader.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {int(p): (s, int(v), h) for p, s, v, h in rows}

    def _check(self, row: RawEvent, sealed: tuple[str, int, str] | None) -> None:
        self.checked += 1
        if sealed is None:
            self._found(row.position, row.stream, row.version, "is not in the hash chain"
                        " (inserted after sealing?)")  # fmt: skip
            return
        if (sealed[0], sealed[1]) != (row.stream, row.version) or (
            chain_hash(self._prev(row), row) != sealed[2]
        ):
            self._found(row.position, row.stream, row.version, "does not match its sealed"
                        " hash (tampered?)")  # fmt: skip
        self._last[row.stream] = (row.version, sealed[2])

    def _prev(self, row: RawEvent) -> str:
        if row.version <= 1:
            return GENESIS
        last = self._last.get(row.stream)
        return GENESIS if last is None else last[1]

    def _gone(self, position: int, sealed: tuple[str, int, str]) -> None:
        stream, version, digest = sealed
        self._found(position, stream, version, "was sealed but the row is gone")
        self._last[stream] = (version, digest)

    def _found(self, position: int, stream: str, version: int, what: str) -> None:
        self.findings.append(("hash_chain", f"position {position} ({stream} v{version}) {what}"))


async def load_verifier(store: EventStore, until: int) -> ChainVerifier | None:
    """A verifier for rows up to ``until``; None when the chain table is not installed."""
    if not await table_exists(store.engines, event_hashes.name):
        return None
    sealed = min(await store.load_checkpoint(CHECKPOINT), until)
    return ChainVerifier(store=store, sealed_until=sealed)
