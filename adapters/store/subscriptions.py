"""Subscriptions: named checkpoints that follow the global log.

A :class:`SubscriptionRunner` reads events after its checkpoint and hands each batch to
a handler *inside a write transaction* together with the checkpoint update, so a
projection's rows and its position commit together (exactly-once on the read side).
Wake-ups come from the store's in-process notifier and, on PostgreSQL, from
``LISTEN`` on the log's channel (:class:`PgListener`); a bounded poll interval covers everything
else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.append_sql import PG_CHANNEL
from adapters.store.event_store import EventStore
from events.base import RecordedEvent

log = structlog.get_logger(__name__)
Handler = Callable[[Sequence[RecordedEvent], AsyncConnection], Awaitable[None]]


class BackgroundLoop:
    """A coroutine loop run as one background task: ``start()`` and a clean ``stop()``."""

    _task: asyncio.Task[None] | None = None
    task_name = "background"

    async def run_forever(self) -> None:
        """The loop; subclasses implement it."""
        raise NotImplementedError

    def start(self) -> None:
        """Run in the background."""
        self._task = asyncio.create_task(self.run_forever(), name=self.task_name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class SubscriptionRunner(BackgroundLoop):
    """Feeds a handler every event exactly once, in position order, with its checkpoint."""

    def __init__(
        self,
        store: EventStore,
        name: str,
        handler: Handler,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        min_interval: float = 0.05,
    ) -> None:
        self.store = store
        self.name = name
        self.handler = handler
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.min_interval = min_interval
        self.position = 0
        self.task_name = f"subscription:{name}"

    async def catch_up(self) -> int:
        """Process everything committed so far; returns how many events were handled."""
        handled = 0
        self.position = await self.store.load_checkpoint(self.name)
        while True:
            batch = await self.store.read_all(self.position, self.batch_size)
            if not batch:
                return handled
            async with self.store.transaction() as conn:
                await self.handler(batch, conn)
                await self.store.save_checkpoint(self.name, batch[-1].position, conn)
            self.position = batch[-1].position
            handled += len(batch)

    async def run_forever(self) -> None:
        """Catch up, then wait for wake-ups (or the poll interval) and catch up again.

        After a catch-up that handled events it pauses ``min_interval`` first, as the
        projections do: during a burst the handler then gets the events of many group
        commits in one write transaction (one fsync) instead of one transaction per
        commit; a lone event after a quiet spell is still handled at once.

        A failure (the database is down, say) is logged and retried after the poll
        interval: the subscription recovers by itself when the database comes back.
        """
        while True:
            try:
                if await self.catch_up():
                    await asyncio.sleep(self.min_interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("subscription.failed", name=self.name, error=str(exc)[:200])
                await asyncio.sleep(self.poll_interval)
                continue
            await self.store.notifier.wait(self.position, self.poll_interval)


class PgListener:
    """Relays PostgreSQL ``NOTIFY`` on this log's channel from other processes to the notifier.

    The channel is ``dloop_events_`` and a hash of the database and schema
    (:data:`~adapters.store.append_sql.PG_CHANNEL`): services on other schemas of the same
    database are not heard.

    The LISTEN connection can die (a database restart, a network cut): a keeper task
    checks it every ``check_interval`` seconds, reconnects, and then wakes every local
    subscriber once, since notifications sent meanwhile were lost.
    """

    def __init__(self, store: EventStore, *, check_interval: float = 2.0) -> None:
        self.store = store
        self.check_interval = check_interval
        self.reconnects = 0
        self._conn: Any = None
        self._raw: Any = None
        self._channel = ""
        self._keeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open a dedicated connection and LISTEN (no-op on SQLite); keep it open."""
        if self.store.dialect != "postgresql":
            return
        await self._connect()
        self._keeper = asyncio.create_task(self._keep(), name="pg-listener")

    async def _connect(self) -> None:
        self._conn = await self.store.engines.writer.connect()
        raw = await self._conn.get_raw_connection()
        self._raw = raw.driver_connection
        self._channel = str(await self._raw.fetchval(f"SELECT {PG_CHANNEL}"))
        await self._raw.add_listener(self._channel, self._on_notify)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            if self._raw is not None and not self._raw.is_closed():
                continue
            await self._close_connection()
            try:
                await self._connect()
                self.store.notifier.notify(await self.store.last_position())
            except Exception as exc:
                log.warning("listener.reconnect_failed", error=str(exc)[:200])
                await self._close_connection()
                continue
            self.reconnects += 1
            log.info("listener.reconnected")

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.store.notifier.notify(int(payload))

    async def stop(self) -> None:
        """Stop listening and give the connection back."""
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        await self._close_connection()

    async def _close_connection(self) -> None:
        conn, raw, self._conn, self._raw = self._conn, self._raw, None, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await raw.remove_listener(self._channel, self._on_notify)
        with contextlib.suppress(Exception):
            await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()
