"""Stored snapshots of folded stream state: a cold start reads the tail, not the stream.

A :class:`~adapters.engine.stream_cache.StreamCache` miss (a restart, an evicted stream)
would fold a long conversation from its first event. With a :class:`Snapshots` store the
cache starts from the latest snapshot of that stream instead and reads only the events
after its version. A snapshot is one row per (stream, name): the folded value encoded by
the events codec, the version it covers and the schema it was written with. The schema
is a fingerprint of the value's dataclass fields (names and types, recursively), so a
change to the state's shape makes old snapshots unusable: they are ignored, the stream
is folded from the start and a new snapshot replaces the old one (rebuilt on demand).

Snapshots are never trusted over the log: ``dloop-bot audit`` folds every snapshotted
stream afresh up to the snapshot's version and reports any difference (check
``snapshots``). They hold personal data decoded from the log (a conversation's last lines),
so erasing a person deletes their snapshots (:func:`delete_snapshots`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.store.engine import Engines
from adapters.store.migrations import migration
from events.codec import decode_dataclass, encode_payload

M = TypeVar("M")
_meta = MetaData()
stream_snapshots = Table(
    "stream_snapshots",
    _meta,
    Column("stream", String(200), primary_key=True),
    Column("name", String(64), primary_key=True),  # whose fold: conversation, outbox...
    Column("schema", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)


@migration(11, "stream snapshots")
def _create(conn: Connection, _dialect: str) -> None:
    stream_snapshots.create(conn)


def fingerprint(cls: type[Any]) -> str:
    """A short digest of ``cls``'s fields and their types, nested dataclasses included."""
    return hashlib.sha256(_shape(cls, set()).encode()).hexdigest()[:16]


def _shape(hint: Any, seen: set[Any]) -> str:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if hint in seen:
            return hint.__qualname__
        seen.add(hint)
        hints = typing.get_type_hints(hint)
        inner = ",".join(
            f"{f.name}:{_shape(hints[f.name], seen)}" for f in dataclasses.fields(hint)
        )
        return f"{hint.__qualname__}({inner})"
    args = typing.get_args(hint)
    if args:
        origin = typing.get_origin(hint)
        return (
            f"{getattr(origin, '__qualname__', origin)}[{','.join(_shape(a, seen) for a in args)}]"
        )
    return getattr(hint, "__qualname__", repr(hint))


@dataclass(frozen=True, slots=True)
class Codec(Generic[M]):
    """How a cache's value becomes a stored dataclass and back (None: not worth storing)."""

    name: str
    stored: type[Any]  # the dataclass written to the row
    to_stored: Callable[[M], Any | None]
    from_stored: Callable[[str, Any], M]  # (stream, stored) -> value


class Snapshots(Generic[M]):
    """Latest snapshot per stream for one kind of fold (see the module docstring)."""

    def __init__(
        self,
        engines: Engines,
        codec: Codec[M],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engines, self.codec, self._clock = engines, codec, clock
        self.schema = fingerprint(codec.stored)

    async def load(self, stream: str) -> tuple[M, int] | None:
        """The snapshot of ``stream`` if one exists with today's schema."""
        table = stream_snapshots
        query = select(table.c.schema, table.c.version, table.c.data).where(
            table.c.stream == stream, table.c.name == self.codec.name
        )
        async with self.engines.reader.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        if row.schema != self.schema:
            return None
        stored = decode_dataclass(self.codec.stored, json.loads(row.data))
        return self.codec.from_stored(stream, stored), int(row.version)

    def keeps(self, value: M) -> bool:
        """True when ``value`` is worth a snapshot (the codec can store it)."""
        return self.codec.to_stored(value) is not None

    async def save(self, stream: str, value: M, version: int) -> None:
        """Replace the snapshot of ``stream`` with ``value`` at ``version`` (if storable)."""
        stored = self.codec.to_stored(value)
        if stored is None:
            return
        row = {
            "stream": stream,
            "name": self.codec.name,
            "schema": self.schema,
            "version": version,
            "data": json.dumps(encode_payload(stored), ensure_ascii=False, separators=(",", ":")),
            "saved_at": self._clock(),
        }
        insert = sqlite_insert if self.engines.dialect == "sqlite" else pg_insert
        statement = insert(stream_snapshots).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=["stream", "name"],
            set_={k: statement.excluded[k] for k in ("schema", "version", "data", "saved_at")},
        )
        async with self.engines.writer.begin() as conn:
            await conn.execute(statement)

    async def all(self) -> list[tuple[str, int, M | None]]:
        """Every snapshot of this fold: (stream, version, value; None if of another schema)."""
        t = stream_snapshots
        query = select(t.c.stream, t.c.schema, t.c.version, t.c.data).where(
            t.c.name == self.codec.name
        )
        async with self.engines.reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        out: list[tuple[str, int, M | None]] = []
        for r in rows:
            value = None
            if r.schema == self.schema:
                value = self.codec.from_stored(
                    r.stream, decode_dataclass(self.codec.stored, json.loads(r.data))
                )
            out.append((r.stream, int(r.version), value))
        return out


async def delete_snapshots(engines: Engines, stream: str) -> None:
    """Forget every snapshot of ``stream`` (an erasure: they hold decoded personal data)."""
    async with engines.writer.begin() as conn:
        await conn.execute(delete(stream_snapshots).where(stream_snapshots.c.stream == stream))
