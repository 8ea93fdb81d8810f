"""Engines from ``DATABASE_URL``: SQLite (one writer, WAL, FULL sync) or PostgreSQL.

SQLite allows one writer at a time; giving the writer its own single-connection pool makes
that explicit and lets readers use other connections concurrently (WAL). Every write
transaction starts with ``BEGIN IMMEDIATE`` so it takes the write lock up front instead of
failing later with SQLITE_BUSY. ``synchronous=FULL`` because a 200 to Meta is a promise:
NORMAL can lose acknowledged commits on power loss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.store.write_turn import WriteTurn, write_turn


class StoreConfigError(ValueError):
    """``DATABASE_URL`` is unusable; the message is one line meant for the operator."""


@dataclass(frozen=True, slots=True)
class Engines:
    """The writer and reader engines; the same object twice on PostgreSQL."""

    writer: AsyncEngine
    reader: AsyncEngine
    dialect: str  # "sqlite" | "postgresql"

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def parse_database_url(raw: str) -> URL:
    """Validate ``raw`` and return it parsed, or raise :class:`StoreConfigError`."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise StoreConfigError(f"DATABASE_URL is not a database URL: {exc}") from None
    if url.drivername == "sqlite+aiosqlite":
        if not url.database or url.database == ":memory:":
            raise StoreConfigError(
                "DATABASE_URL: SQLite needs a file path (sqlite+aiosqlite:///var/dloop.db)"
            )
        return url
    if url.drivername in {"postgresql+asyncpg", "postgresql"}:
        return url.set(drivername="postgresql+asyncpg")
    raise StoreConfigError(
        f"DATABASE_URL driver {url.drivername!r} is not supported: "
        "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
    )


def create_engines(
    raw_url: str, *, pool_size: int = 10, echo: bool = False, pg_schema: str | None = None
) -> Engines:
    """Build the engines for ``raw_url`` (no I/O yet: connections open lazily).

    ``pg_schema`` puts every table of a PostgreSQL store in that schema (tests use one
    schema each, so they can run side by side on one database).
    """
    url = parse_database_url(raw_url)
    if url.drivername == "sqlite+aiosqlite":
        return _sqlite_engines(url, echo=echo)
    connect_args: dict[str, Any] = {}
    if pg_schema:
        connect_args["server_settings"] = {"search_path": pg_schema}
    engine = create_async_engine(
        url,
        json_serializer=_json_text,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        echo=echo,
        connect_args=connect_args,
    )
    return Engines(writer=engine, reader=engine, dialect="postgresql")


def _sqlite_engines(url: URL, *, echo: bool) -> Engines:
    assert url.database is not None
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    writer = create_async_engine(
        url, pool_size=1, max_overflow=0, echo=echo, json_serializer=_json_text
    )
    reader = create_async_engine(
        url, poolclass=NullPool if echo else None, echo=echo, json_serializer=_json_text
    )
    _configure_sqlite(writer, begin="BEGIN IMMEDIATE", turn=write_turn(url.database))
    _configure_sqlite(reader, begin="BEGIN")
    return Engines(writer=writer, reader=reader, dialect="sqlite")


def _json_text(value: Any) -> str:
    """JSON columns of the read tables keep Italian text readable (and searchable)."""
    return json.dumps(value, ensure_ascii=False)


def _configure_sqlite(engine: AsyncEngine, *, begin: str, turn: WriteTurn | None = None) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that our BEGIN is the one used.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (an erased person's key and phone) are overwritten, not left in
        # free pages (docs/adr/0007-crypto-shredding.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if turn is None:
            conn.exec_driver_sql(begin)
            return
        turn.acquire()  # other processes' writers first finish (adapters/store/write_turn.py)
        try:
            conn.exec_driver_sql(begin)
        except BaseException:
            turn.release()
            raise

    if turn is not None:
        # Dropped as the transaction ends: a waiter finds at most the COMMIT's fsync left.
        event.listen(engine.sync_engine, "commit", lambda _conn: turn.release())
        event.listen(engine.sync_engine, "rollback", lambda _conn: turn.release())
