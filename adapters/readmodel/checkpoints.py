"""The projections' checkpoints of one batch moved in one statement, not one per projection.

Every batch the projections runner applies moves up to one checkpoint per projection, in
the transaction that wrote their rows. One ``UPDATE`` per projection (built, compiled and
executed each time, then an ``INSERT`` when it touched no row) was the runner's largest
statement count per turn; here the moved checkpoints that already exist go out as one
``UPDATE`` executed for all of them (executemany, the statement compiled once), and the
new ones as one ``INSERT``. Which names exist is known from the read the runner makes in
the same transaction, so no row count is needed (drivers do not report one reliably for
executemany).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.schema import checkpoints

_MOVE = (
    checkpoints.update()
    .where(checkpoints.c.name == bindparam("b_name"))
    .values(position=bindparam("b_position"), updated_at=bindparam("b_at"))
)


async def save_checkpoints(
    conn: AsyncConnection, moved: Mapping[str, int], known: Collection[str], now: datetime
) -> None:
    """Set each ``moved`` name to its position inside the caller's transaction.

    ``known`` holds the names that have a row (read in the same transaction); the others
    are inserted.
    """
    existing = [
        {"b_name": name, "b_position": position, "b_at": now}
        for name, position in moved.items()
        if name in known
    ]
    new = [
        {"name": name, "position": position, "updated_at": now}
        for name, position in moved.items()
        if name not in known
    ]
    if existing:
        await conn.execute(_MOVE, existing)
    if new:
        await conn.execute(checkpoints.insert(), new)
