"""The directory of people: person ids, their subjects and data keys (ADR 0007).

:class:`KeyStore` is the small port :class:`~adapters.store.people.People` keeps its keys
behind; :class:`DbKeyStore` is the default, the ``person_keys`` table of the event
store's database (migration 8); :class:`MemoryKeyStore` holds them in a dict (tests, and
the shape a KMS or vault adapter would follow). Deleting a row is the erasure: the phone,
the mapping and the key go together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Connection,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.store.engine import Engines
from adapters.store.migrations import migration
from adapters.store.schema import UtcDateTime

metadata = MetaData()

person_keys = Table(
    "person_keys",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("subject", String(255), nullable=False, unique=True),  # the phone or bsuid key
    Column("key", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


@migration(8, "person keys: pseudonymous people and their data keys (crypto-shredding)")
def _person_keys(conn: Connection, _dialect: str) -> None:
    person_keys.create(conn)


class KeyStore(Protocol):
    """Where person ids, their subjects (phone keys) and their data keys are kept."""

    async def find(self, subject: str) -> tuple[str, bytes] | None:
        """``(person id, key)`` of ``subject``, or None."""
        ...

    async def create(self, subject: str, person_id: str, key: bytes) -> tuple[str, bytes]:
        """Store a new person; when ``subject`` already has one, return that one instead."""
        ...

    async def load(self, person_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """``person id -> (subject, key)`` for those still held (erased ones are absent)."""
        ...

    async def delete(self, person_id: str) -> bool:
        """Forget the person for good (subject, mapping and key); False if unknown."""
        ...


class DbKeyStore:
    """The default :class:`KeyStore`: the ``person_keys`` table of the event store's database."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self._waiting: list[tuple[str, str, bytes, asyncio.Future[tuple[str, bytes]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def find(self, subject: str) -> tuple[str, bytes] | None:
        """See :class:`KeyStore`."""
        stmt = select(person_keys.c.person_id, person_keys.c.key).where(
            person_keys.c.subject == subject
        )
        async with self.engines.reader.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else (str(row[0]), bytes(row[1]))

    async def create(self, subject: str, person_id: str, key: bytes) -> tuple[str, bytes]:
        """See :class:`KeyStore`; a concurrent creator's row wins (unique subject).

        New people arriving together are written in ONE transaction (as group commit does
        for events): a burst of first messages from new numbers costs one commit, not one
        each.
        """
        done: asyncio.Future[tuple[str, bytes]] = asyncio.get_running_loop().create_future()
        self._waiting.append((subject, person_id, key, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="person-keys")
        return await done

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                winners = await self._insert(batch)
            except Exception as exc:  # handed to every waiting caller
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for subject, _, _, done in batch:
                won = winners.get(subject)
                if done.done():
                    continue
                if won is None:
                    done.set_exception(RuntimeError(f"person of {subject[:4]}... not stored"))
                else:
                    done.set_result(won)

    async def _insert(
        self, batch: list[tuple[str, str, bytes, Any]]
    ) -> dict[str, tuple[str, bytes]]:
        """Insert the batch (existing subjects kept); every subject's stored person."""
        now = datetime.now(UTC)
        rows = [
            {"person_id": pid, "subject": subject, "key": key, "created_at": now}
            for subject, pid, key, _ in batch
        ]
        insert = (sqlite_insert if self.engines.dialect == "sqlite" else pg_insert)(person_keys)
        subjects = sorted({subject for subject, *_ in batch})
        cols = (person_keys.c.subject, person_keys.c.person_id, person_keys.c.key)
        async with self.engines.writer.begin() as conn:
            await conn.execute(insert.on_conflict_do_nothing(), rows)
            found = await conn.execute(select(*cols).where(person_keys.c.subject.in_(subjects)))
            return {str(s): (str(p), bytes(k)) for s, p, k in found.all()}

    async def load(self, person_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """See :class:`KeyStore`."""
        wanted = sorted(set(person_ids))
        if not wanted:
            return {}
        cols = (person_keys.c.person_id, person_keys.c.subject, person_keys.c.key)
        out: dict[str, tuple[str, bytes]] = {}
        async with self.engines.reader.connect() as conn:
            for i in range(0, len(wanted), 500):
                stmt = select(*cols).where(person_keys.c.person_id.in_(wanted[i : i + 500]))
                for pid, subject, key in (await conn.execute(stmt)).all():
                    out[str(pid)] = (str(subject), bytes(key))
        return out

    async def delete(self, person_id: str) -> bool:
        """See :class:`KeyStore`."""
        async with self.engines.writer.begin() as conn:
            done = await conn.execute(
                delete(person_keys).where(person_keys.c.person_id == person_id)
            )
        return bool(done.rowcount)


class MemoryKeyStore:
    """A :class:`KeyStore` in a dict (tests, and the shape a KMS adapter would follow)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, bytes]] = {}

    async def find(self, subject: str) -> tuple[str, bytes] | None:
        """See :class:`KeyStore`."""
        for pid, (held, key) in self._rows.items():
            if held == subject:
                return pid, key
        return None

    async def create(self, subject: str, person_id: str, key: bytes) -> tuple[str, bytes]:
        """See :class:`KeyStore`."""
        found = await self.find(subject)
        if found is not None:
            return found
        self._rows[person_id] = (subject, key)
        return person_id, key

    async def load(self, person_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """See :class:`KeyStore`."""
        return {p: self._rows[p] for p in person_ids if p in self._rows}

    async def delete(self, person_id: str) -> bool:
        """See :class:`KeyStore`."""
        return self._rows.pop(person_id, None) is not None
