"""Read queries behind the API: keyset pagination and the dealer's row-level filter.

Every query takes a :class:`Scope`. Staff scopes see every row; a dealer scope adds a
``WHERE`` clause (conversations: ``conversation_type = 'dealer'`` and the dealer's own
phone; orders: the dealer's id), so a dealer can never page, search or count their way
into another dealer's rows. Pages are ordered by a (time or position, id) key and the
opaque ``next_cursor`` encodes the last key seen.

Errors: :class:`QueryError` (bad cursor or filter, HTTP 422), :class:`NotFoundError`
(404), :class:`NotVisibleError` (the row exists but the scope hides it, 403) and
:class:`StateConflictError` (409).
"""

from __future__ import annotations

import base64
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    inspect,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.tables import (
    review_dismissals,
    review_queue,
    whatsapp_conversations,
    whatsapp_messages,
)
from adapters.store.engine import Engines
from adapters.store.schema import events

ORDER_RELAYS = "whatsapp_order_relays"
LATENCY_SAMPLE = 200  # recent understood turns the p50 is taken over


class QueryError(ValueError):
    """A cursor or filter the API cannot use (HTTP 422)."""


class NotFoundError(LookupError):
    """No such row (HTTP 404)."""


class NotVisibleError(PermissionError):
    """The row exists but the caller's scope may not see it (HTTP 403)."""


class StateConflictError(Exception):
    """The row is not in a state that allows the request (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a caller may read: everything, or one dealer's."""

    restricted: bool = False
    dealer_id: str | None = None
    dealer_phone: str | None = None  # E.164, from the catalogue

    @classmethod
    def everything(cls) -> Scope:
        """Staff: no row filter."""
        return cls()

    @classmethod
    def dealer(cls, dealer_id: str, phone: str | None) -> Scope:
        """One dealer's rows (an unknown dealer, ``phone=None``, sees no conversation)."""
        return cls(restricted=True, dealer_id=dealer_id, dealer_phone=phone)

    def conversations(self) -> ColumnElement[bool]:
        """The row filter on ``whatsapp_conversations``."""
        if not self.restricted:
            return true()
        if self.dealer_phone is None:
            return false()
        c = whatsapp_conversations.c
        return and_(c.conversation_type == "dealer", c.phone == self.dealer_phone)


@dataclass(frozen=True, slots=True)
class Page:
    """Rows of one page and the cursor of the next (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """Optional filters of the conversation list (already validated)."""

    stage: str | None = None
    type: str | None = None
    assignee: str | None = None
    q: str | None = None


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor for a (time or position, id) key."""
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, first: type) -> tuple[Any, str]:
    """The key of ``cursor``; ``first`` is ``datetime`` or ``int``. Raises QueryError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        head, ident = json.loads(raw)
        if not isinstance(ident, str):
            raise TypeError("id")
        if head is None:
            return None, ident
        if first is datetime:
            when = datetime.fromisoformat(head)
            if when.tzinfo is None:
                raise TypeError("naive")
            return when, ident
        if isinstance(head, bool) or not isinstance(head, int):
            raise TypeError("position")
        return head, ident
    except (ValueError, TypeError) as exc:
        raise QueryError("cursor is not one this API gave out") from exc


def _after_desc(col: Any, ident: Any, key: tuple[Any, str]) -> ColumnElement[bool]:
    """Rows after ``key`` in ``col DESC NULLS LAST, id DESC`` order."""
    head, last_id = key
    if head is None:
        return and_(col.is_(None), ident < last_id)
    return or_(col < head, and_(col == head, ident < last_id), col.is_(None))


def _after_asc(col: Any, ident: Any, key: tuple[Any, str]) -> ColumnElement[bool]:
    """Rows after ``key`` in ``col ASC NULLS FIRST, id ASC`` order."""
    head, last_id = key
    if head is None:
        return or_(and_(col.is_(None), ident > last_id), col.is_not(None))
    return or_(col > head, and_(col == head, ident > last_id))


class ReadModel:
    """The read queries of the API over the reader engine."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines

    async def _page(self, stmt: Select[Any], limit: int, key: tuple[str, str]) -> Page:
        async with self.engines.reader.connect() as conn:
            rows = [dict(r) for r in (await conn.execute(stmt.limit(limit + 1))).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = encode_cursor((rows[-1][key[0]], rows[-1][key[1]])) if more and rows else None
        return Page(rows, cursor)

    # -- conversations -------------------------------------------------------------------

    async def conversations(
        self, scope: Scope, filt: ConversationFilter, *, limit: int, cursor: str | None
    ) -> Page:
        """Conversations, newest message first."""
        c = whatsapp_conversations.c
        stmt = select(whatsapp_conversations).where(scope.conversations())
        if filt.stage is not None:
            stmt = stmt.where(c.stage == filt.stage)
        if filt.type is not None:
            stmt = stmt.where(c.conversation_type == filt.type)
        if filt.assignee is not None:
            stmt = stmt.where(c.assignee == filt.assignee)
        if filt.q:
            needle = filt.q.lower()
            stmt = stmt.where(
                or_(
                    func.lower(c.phone).contains(needle, autoescape=True),
                    func.lower(cast(c.context, Text)).contains(needle, autoescape=True),
                )
            )
        return await self._newest_first(stmt, limit, cursor)

    async def _newest_first(self, stmt: Select[Any], limit: int, cursor: str | None) -> Page:
        """``stmt`` ordered by ``last_message_at DESC NULLS LAST, id DESC``, one page.

        Two index-friendly parts instead of one OR: the rows with a time, walked by the
        row value ``(last_message_at, id) < cursor`` along the ``(stage|type|assignee,)
        last_message_at DESC, id DESC`` indexes (migration 6), then, when the page is not
        full, the rows without one by id. Same order and pages as the single query.
        """
        c = whatsapp_conversations.c
        head, last_id = decode_cursor(cursor, datetime) if cursor is not None else (None, None)
        rows: list[dict[str, Any]] = []
        async with self.engines.reader.connect() as conn:
            if cursor is None or head is not None:
                timed = stmt.where(c.last_message_at.is_not(None))
                if head is not None:
                    after = tuple_(
                        bindparam(None, head, type_=c.last_message_at.type),
                        bindparam(None, last_id, type_=c.id.type),
                    )
                    timed = timed.where(tuple_(c.last_message_at, c.id) < after)
                timed = timed.order_by(c.last_message_at.desc().nulls_last(), c.id.desc())
                rows = [dict(r) for r in (await conn.execute(timed.limit(limit + 1))).mappings()]
            if len(rows) <= limit:
                untimed = stmt.where(c.last_message_at.is_(None))
                if head is None and last_id is not None:
                    untimed = untimed.where(c.id < last_id)
                untimed = untimed.order_by(c.id.desc()).limit(limit + 1 - len(rows))
                rows += [dict(r) for r in (await conn.execute(untimed)).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        key = (rows[-1]["last_message_at"], rows[-1]["id"]) if more and rows else None
        return Page(rows, encode_cursor(key) if key is not None else None)

    async def conversation(self, scope: Scope, conversation_id: str) -> dict[str, Any]:
        """One conversation; NotFoundError, or NotVisibleError outside ``scope``."""
        c = whatsapp_conversations.c
        async with self.engines.reader.connect() as conn:
            stmt = select(whatsapp_conversations).where(c.id == conversation_id)
            row = (await conn.execute(stmt.where(scope.conversations()))).mappings().first()
            if row is not None:
                return dict(row)
            exists = (await conn.execute(select(c.id).where(c.id == conversation_id))).first()
        if exists is None:
            raise NotFoundError(f"no conversation {conversation_id!r}")
        raise NotVisibleError("this conversation belongs to someone else")

    async def messages(self, conversation_id: str, *, limit: int, cursor: str | None) -> Page:
        """The messages of a conversation (already checked visible), oldest first."""
        m = whatsapp_messages.c
        stmt = select(whatsapp_messages).where(m.conversation_id == conversation_id)
        if cursor is not None:
            stmt = stmt.where(_after_asc(m.created_at, m.id, decode_cursor(cursor, datetime)))
        stmt = stmt.order_by(m.created_at.asc().nulls_first(), m.id.asc())
        return await self._page(stmt, limit, ("created_at", "id"))

    # -- orders --------------------------------------------------------------------------

    async def orders(
        self,
        scope: Scope,
        *,
        status: str | None,
        dealer_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """Order relays, newest first; an empty page while the table does not exist."""
        async with self.engines.reader.connect() as conn:
            table = await _order_relays(conn)
        if table is None:
            return Page([], None)
        c = table.c
        stmt = select(table)
        wanted = scope.dealer_id if scope.restricted else dealer_id
        if wanted is not None or scope.restricted:
            if "dealer_id" not in c:
                return Page([], None)  # no dealer column: nothing can be shown safely
            stmt = stmt.where(c.dealer_id == wanted)
        if status is not None:
            stmt = stmt.where(c.status == status)
        if cursor is not None:
            stmt = stmt.where(_after_desc(c.created_at, c.id, decode_cursor(cursor, datetime)))
        stmt = stmt.order_by(c.created_at.desc().nulls_last(), c.id.desc())
        return await self._page(stmt, limit, ("created_at", "id"))

    # -- review queue --------------------------------------------------------------------

    async def review(self, *, status: str | None, limit: int, cursor: str | None) -> Page:
        """Review items, newest problem first, with dismissals applied."""
        r = review_queue.c
        stmt = _review_select()
        if status is not None:
            stmt = stmt.where(_review_status() == status)
        if cursor is not None:
            stmt = stmt.where(_after_desc(r.position, r.id, decode_cursor(cursor, int)))
        stmt = stmt.order_by(r.position.desc(), r.id.desc())
        return await self._page(stmt, limit, ("position", "id"))

    async def review_item(self, item_id: str) -> dict[str, Any]:
        """One review item with its dismissal applied; NotFoundError when there is none."""
        stmt = _review_select().where(review_queue.c.id == item_id)
        async with self.engines.reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise NotFoundError(f"no review item {item_id!r}")
        return dict(row)

    async def dismiss(self, item_id: str, *, by: str, at: datetime) -> dict[str, Any]:
        """Dismiss an open review item; NotFoundError or StateConflictError otherwise."""
        stmt = _review_select().where(review_queue.c.id == item_id)
        async with self.engines.writer.begin() as conn:
            row = (await conn.execute(stmt)).mappings().first()
            if row is None:
                raise NotFoundError(f"no review item {item_id!r}")
            if row["status"] != "open":
                raise StateConflictError(f"review item is {row['status']}, not open")
            await conn.execute(
                review_dismissals.insert().values(item_id=item_id, dismissed_by=by, dismissed_at=at)
            )
            row = (await conn.execute(stmt)).mappings().first()
        assert row is not None
        return dict(row)

    # -- counters ------------------------------------------------------------------------

    async def counters(self) -> dict[str, Any]:
        """Open conversations, pending orders, failed sends, open review items, p50 latency."""
        c, m = whatsapp_conversations.c, whatsapp_messages.c
        async with self.engines.reader.connect() as conn:
            open_ = await _count(conn, whatsapp_conversations, c.stage == "open")
            failed = await _count(
                conn, whatsapp_messages, and_(m.direction == "outbound", m.status == "failed")
            )
            review = await _count(conn, _review_join(), _review_status() == "open")
            relays = await _order_relays(conn)
            pending = None
            if relays is not None:
                pending = await _count(conn, relays, relays.c.status == "pending")
            latency = await _latency_p50(conn)
        return {
            "open_conversations": open_,
            "pending_orders": pending,
            "failed_sends": failed,
            "review_queue": review,
            "assistant_latency_p50_ms": latency,
        }


def _review_status() -> ColumnElement[str]:
    return case(
        (review_dismissals.c.item_id.is_not(None), "dismissed"), else_=review_queue.c.status
    )


def _review_join() -> Any:
    return review_queue.outerjoin(
        review_dismissals, review_dismissals.c.item_id == review_queue.c.id
    )


def _review_select() -> Select[Any]:
    d = review_dismissals.c
    columns = [col for col in review_queue.c if col.name != "status"]
    return select(
        *columns, _review_status().label("status"), d.dismissed_by, d.dismissed_at
    ).select_from(_review_join())


async def _count(conn: AsyncConnection, table: Any, where: ColumnElement[bool]) -> int:
    stmt = select(func.count()).select_from(table).where(where)
    return int((await conn.execute(stmt)).scalar() or 0)


async def _order_relays(conn: AsyncConnection) -> Table | None:
    """The order-relay table reflected from the database, or None before it exists."""

    def reflect(sync_conn: Any) -> Table | None:
        if not inspect(sync_conn).has_table(ORDER_RELAYS):
            return None
        return Table(ORDER_RELAYS, MetaData(), autoload_with=sync_conn)

    return await conn.run_sync(reflect)


async def _latency_p50(conn: AsyncConnection) -> float | None:
    stmt = (
        select(events.c.data)
        .where(events.c.type == "conversation.message_understood")
        .order_by(events.c.position.desc())
        .limit(LATENCY_SAMPLE)
    )
    samples: list[int] = []
    for (data,) in await conn.execute(stmt):
        trace = json.loads(data).get("trace") or {}
        if not trace.get("cached") and isinstance(trace.get("latency_ms"), int):
            samples.append(trace["latency_ms"])
    return float(statistics.median(samples)) if samples else None
