"""Text search over conversations: phone, profile name and recent messages.

``q`` is two substring ``LIKE``s, on ``phone`` and on ``search_text`` (kept lower case by
the projection). On PostgreSQL with ``pg_trgm`` each is answered from its trigram index
(migration 10). On SQLite with the FTS5 trigram table of migration 10 a ``q`` of three
characters or more is a phrase ``MATCH`` on it (the same substring test,
case-insensitive, over both columns); shorter ones, and databases without the table,
scan. A page is first looked for among the :data:`SEARCH_WINDOW` most recent rows (an
index walk that a common word fills at once);
when they hold less than a page, the indexed query finds the rest (a rare word: few rows,
cheap to sort). Both give the same page as the plain query would.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    column,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.tables import whatsapp_conversations

SEARCH_WINDOW = 500  # most recent rows a search looks at before using its index
TRIGRAM = 3  # shorter needles have no trigram to look up


def shown_columns() -> list[Any]:
    """The conversation columns the API answers (``search_text`` is the index's, not theirs)."""
    return [col for col in whatsapp_conversations.c if col.name != "search_text"]


def search(q: str, *, fts: bool = False) -> ColumnElement[bool]:
    """The row filter of a search for ``q`` (``fts``: SQLite's trigram table exists)."""
    c = whatsapp_conversations.c
    if fts and len(q) >= TRIGRAM:
        phrase = '"' + q.replace('"', '""') + '"'
        matched = (
            text("SELECT rowid FROM conversations_search WHERE conversations_search MATCH :phrase")
            .bindparams(phrase=phrase)
            .columns(column("rowid"))
        )
        return literal_column("whatsapp_conversations.rowid").in_(matched)
    return or_(
        c.phone.contains(q, autoescape=True),
        c.search_text.contains(q.lower(), autoescape=True),
    )


def before(key: tuple[Any, str]) -> ColumnElement[bool]:
    """Rows after the cursor ``key`` in newest-first order (rows with a time only)."""
    c = whatsapp_conversations.c
    after = tuple_(
        bindparam(None, key[0], type_=c.last_message_at.type),
        bindparam(None, key[1], type_=c.id.type),
    )
    return tuple_(c.last_message_at, c.id) < after


async def recent_matches(
    conn: AsyncConnection,
    stmt: Select[Any],
    q: str,
    limit: int,
    key: tuple[Any, str] | None,
) -> list[dict[str, Any]] | None:
    """``limit + 1`` matches among the most recent rows after ``key``, or None if fewer."""
    c = whatsapp_conversations.c
    recent = stmt.with_only_columns(c.id, c.last_message_at, c.phone, c.search_text)
    recent = recent.where(c.last_message_at.is_not(None))
    if key is not None:
        recent = recent.where(before(key))
    # The inbox index's own order (NULLS LAST spelled out for PostgreSQL): an index walk.
    # The filter applies to the window's rows (a subquery with LIMIT is not flattened), so
    # no planner trades the walk for the trigram index on a word half the rows contain.
    newest = (c.last_message_at.desc().nulls_last(), c.id.desc())
    window = recent.order_by(*newest).limit(SEARCH_WINDOW).subquery("recent")
    w = window.c
    matched = (
        select(w.id, w.last_message_at)
        .where(or_(w.phone.contains(q, autoescape=True), _lower_contains(w.search_text, q)))
        .order_by(w.last_message_at.desc().nulls_last(), w.id.desc())
        .limit(limit + 1)
        .subquery("matched")
    )
    found = (
        select(*shown_columns())
        .join_from(whatsapp_conversations, matched, matched.c.id == c.id)
        .order_by(matched.c.last_message_at.desc().nulls_last(), matched.c.id.desc())
    )
    rows = [dict(r) for r in (await conn.execute(found)).mappings()]
    return rows if len(rows) > limit else None


def _lower_contains(column: Any, q: str) -> ColumnElement[bool]:
    return column.contains(q.lower(), autoescape=True)  # type: ignore[no-any-return]
