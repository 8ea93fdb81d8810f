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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    or_,
    select,
    true,
    tuple_,
)

from adapters.readmodel.orders import (
    conversation_counters,
    count,
    is_order,
    needs_person,
    order_counters,
    triage,
)
from adapters.readmodel.percentiles import assistant_latency
from adapters.readmodel.schema_who import has_search_index
from adapters.readmodel.search import recent_matches, search, shown_columns
from adapters.readmodel.tables import (
    review_dismissals,
    review_queue,
    whatsapp_conversations,
    whatsapp_messages,
    whatsapp_order_relays,
)
from adapters.store.engine import Engines

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
    attention: bool | None = None  # True: needs a person; False: does not


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Filters of the order and cart lists (already validated)."""

    carts: bool = False
    status: str | None = None
    stage: str | None = None
    dealer_id: str | None = None
    conversation_id: str | None = None


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
        self._fts: bool | None = None  # SQLite's trigram search table exists (asked once)

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
        stmt = select(*shown_columns()).where(scope.conversations())
        if filt.stage is not None:
            stmt = stmt.where(c.stage == filt.stage)
        if filt.type is not None:
            stmt = stmt.where(c.conversation_type == filt.type)
        if filt.assignee is not None:
            stmt = stmt.where(c.assignee == filt.assignee)
        if filt.attention is not None:
            stmt = stmt.where(needs_person() if filt.attention else ~needs_person())
        if filt.q:
            return await self._searched(stmt, filt.q, limit, cursor)
        return await self._newest_first(stmt, limit, cursor)

    async def _searched(self, stmt: Select[Any], q: str, limit: int, cursor: str | None) -> Page:
        """A search page: among the most recent rows first, else with the search index."""
        key = decode_cursor(cursor, datetime) if cursor is not None else None
        if key is None or key[0] is not None:
            async with self.engines.reader.connect() as conn:
                rows = await recent_matches(conn, stmt, q, limit, key)
            if rows is not None:
                last = rows[limit - 1]
                return Page(rows[:limit], encode_cursor((last["last_message_at"], last["id"])))
        if self._fts is None:
            async with self.engines.reader.connect() as conn:
                self._fts = self.engines.dialect == "sqlite" and await has_search_index(conn)
        return await self._newest_first(stmt.where(search(q, fts=self._fts)), limit, cursor)

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
            stmt = select(*shown_columns()).where(c.id == conversation_id)
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
        self, scope: Scope, filt: OrderFilter, *, limit: int, cursor: str | None
    ) -> Page:
        """Orders (``filt.carts`` False) or carts, newest first (see ``readmodel.orders``)."""
        c = whatsapp_order_relays.c
        stmt = select(whatsapp_order_relays).where(is_order(not filt.carts))
        wanted = scope.dealer_id if scope.restricted else filt.dealer_id
        if wanted is not None or scope.restricted:
            stmt = stmt.where(c.dealer_id == wanted)
        if filt.status is not None:
            stmt = stmt.where(c.status == filt.status)
        if filt.stage is not None:
            stmt = stmt.where(c.stage == filt.stage)
        if filt.conversation_id is not None:
            stmt = stmt.where(c.conversation_id == filt.conversation_id)
        if cursor is not None:
            stmt = stmt.where(_after_desc(c.created_at, c.id, decode_cursor(cursor, datetime)))
        stmt = stmt.order_by(c.created_at.desc().nulls_last(), c.id.desc())
        return await self._page(stmt, limit, ("created_at", "id"))

    async def triage(self, scope: Scope) -> list[dict[str, Any]]:
        """Conversations that need a person, longest waiting first."""
        async with self.engines.reader.connect() as conn:
            return await triage(conn, scope.conversations())

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
        """The dashboard's numbers, each counting what its name says (docs/api.md)."""
        m = whatsapp_messages.c
        async with self.engines.reader.connect() as conn:
            out: dict[str, Any] = await conversation_counters(conn)
            out.update(await order_counters(conn))
            out["failed_sends"] = await count(
                conn, whatsapp_messages, and_(m.direction == "outbound", m.status == "failed")
            )
            out["review_queue"] = await count(conn, _review_join(), _review_status() == "open")
            p50, p95 = await assistant_latency(conn)
        out["assistant_latency_p50_ms"], out["assistant_latency_p95_ms"] = p50, p95
        return out


def _review_status() -> ColumnElement[str]:
    return case(
        (review_dismissals.c.item_id.is_not(None), "dismissed"), else_=review_queue.c.status
    )


def _review_join() -> Any:
    return review_queue.outerjoin(
        review_dismissals, review_dismissals.c.item_id == review_queue.c.id
    )


def _review_select() -> Select[Any]:
    """Items with their dismissal applied and the person they concern (phone and name)."""
    d, c = review_dismissals.c, whatsapp_conversations.c
    columns = [col for col in review_queue.c if col.name != "status"]
    joined = _review_join().outerjoin(
        whatsapp_conversations, c.id == review_queue.c.conversation_id
    )
    return select(
        *columns,
        _review_status().label("status"),
        d.dismissed_by,
        d.dismissed_at,
        c.phone,
        c.profile_name,
        c.conversation_type,
    ).select_from(joined)
