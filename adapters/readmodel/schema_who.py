"""Migrations 9 and 10: the read tables say who, and text search gets a trigram index.

Migration 9 adds the person columns (``person_id``, ``profile_name``), the triage columns
of conversations, the sender of messages and the order columns of relays (tables made
before it lack them; newer ones got them at creation), then empties the three seed tables
and resets their checkpoints: the running service replays the log into them on start.

Migration 10 indexes the searched columns (``phone`` and ``search_text``) for substring
search: on PostgreSQL with ``pg_trgm`` GIN indexes, when the extension is installed or
can be installed; on SQLite an FTS5 table with the trigram tokenizer over the same two
columns (external content, kept current by triggers), when the library has it. Without
either the same ``LIKE`` query scans (docs/adr/0013-read-side-people-and-search.md).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, inspect, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.tables import (
    whatsapp_conversations,
    whatsapp_messages,
    whatsapp_order_relays,
)
from adapters.store.migrations import migration
from adapters.store.schema import checkpoints

_NEW_COLUMNS = {
    whatsapp_conversations: (
        "person_id",
        "profile_name",
        "attention",
        "attention_since",
        "search_text",
    ),
    whatsapp_messages: ("person_id", "profile_name", "sender", "agent"),
    whatsapp_order_relays: (
        "person_id",
        "profile_name",
        "confirmed_at",
        "stage_changed_at",
        "dealer_silent_at",
    ),
}
_INDEXES = (
    "ix_conversations_person ON whatsapp_conversations (person_id)",
    "ix_conversations_attention ON whatsapp_conversations (attention)",
    "ix_messages_person ON whatsapp_messages (person_id)",
    "ix_order_relays_confirmed ON whatsapp_order_relays (confirmed_at, created_at)",
    "ix_order_relays_conversation ON whatsapp_order_relays (conversation_id)",
)
REBUILT = tuple(t.name for t in _NEW_COLUMNS)
TRGM_INDEXES = {
    "ix_conversations_search_trgm": "search_text",
    "ix_conversations_phone_trgm": "phone",
}


@migration(9, "read tables say who: person columns, triage, senders, orders vs carts")
def _who(conn: Connection, dialect: str) -> None:
    for table, names in _NEW_COLUMNS.items():
        present = {c["name"] for c in inspect(conn).get_columns(table.name)}
        for name in names:
            if name in present:
                continue
            kind = table.c[name].type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))
    for index in _INDEXES:
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {index}"))
    for table in _NEW_COLUMNS:  # replayed from position 0 by the running service
        conn.execute(delete(table))
    marks = [f"projection:{n}" for n in REBUILT]
    conn.execute(update(checkpoints).where(checkpoints.c.name.in_(marks)).values(position=0))


FTS = "conversations_search"  # SQLite: the FTS5 trigram index of phone and search_text
_FTS_TABLE = (
    "CREATE VIRTUAL TABLE conversations_search USING fts5(phone, search_text,"
    " content='whatsapp_conversations', content_rowid='rowid', tokenize='trigram')"
)
_FTS_ADD = (
    "INSERT INTO conversations_search(rowid, phone, search_text)"
    " VALUES (new.rowid, new.phone, new.search_text);"
)
_FTS_DROP = (
    "INSERT INTO conversations_search(conversations_search, rowid, phone, search_text)"
    " VALUES ('delete', old.rowid, old.phone, old.search_text);"
)
_FTS_TRIGGERS = {
    "AFTER INSERT": _FTS_ADD,
    "AFTER DELETE": _FTS_DROP,
    "AFTER UPDATE": _FTS_DROP + " " + _FTS_ADD,
}


@migration(10, "text search: trigram indexes on conversations (pg_trgm or SQLite FTS5)")
def _trigram(conn: Connection, dialect: str) -> None:
    if dialect == "sqlite":
        _sqlite_trigram(conn)
        return
    schema = trigram_schema(conn)
    if schema is None:
        return  # no extension and no right to create it: the plain LIKE scan stays
    for name, column in TRGM_INDEXES.items():
        conn.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {name} ON whatsapp_conversations"
                f' USING gin ({column} "{schema}".gin_trgm_ops)'
            )
        )


def _sqlite_trigram(conn: Connection) -> None:
    """The FTS5 trigram table, its triggers and its first fill (skipped without FTS5)."""
    try:
        with conn.begin_nested():
            conn.execute(text(_FTS_TABLE))
    except DBAPIError:
        return  # no FTS5 or no trigram tokenizer (SQLite before 3.34): LIKE scans
    for n, (when, body) in enumerate(_FTS_TRIGGERS.items()):
        trigger = f"CREATE TRIGGER conversations_search_{n} {when} ON whatsapp_conversations"
        conn.execute(text(f"{trigger} BEGIN {body} END"))
    conn.execute(text("INSERT INTO conversations_search(conversations_search) VALUES ('rebuild')"))


async def has_search_index(conn: AsyncConnection) -> bool:
    """True when SQLite's FTS5 trigram table exists (PostgreSQL's indexes need no asking)."""
    stmt = text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name")
    return (await conn.execute(stmt, {"name": FTS})).first() is not None


async def compact_search_index(conn: AsyncConnection) -> None:
    """Merge the FTS5 segments on SQLite so deleted rows leave no terms behind (erasure)."""
    if conn.dialect.name == "sqlite" and await has_search_index(conn):
        await conn.execute(
            text("INSERT INTO conversations_search(conversations_search) VALUES ('optimize')")
        )


def trigram_schema(conn: Connection) -> str | None:
    """The schema ``pg_trgm`` lives in, installing it into ``public`` when allowed.

    Installed into ``public``, not the first schema of the search path: a schema that is
    dropped later (a test's) would take the extension and every index using it along.
    """
    found = _installed(conn)
    if found is not None:
        return found
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    except DBAPIError:
        pass  # not available, or another process won the race: look again
    return _installed(conn)


def _installed(conn: Connection) -> str | None:
    stmt = text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    )
    value = conn.execute(stmt).scalar()
    return None if value is None else str(value)
