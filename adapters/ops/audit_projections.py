"""Projections against a fresh fold of the log, without touching the live tables.

The live rows and each projection's checkpoint are read in one snapshot first; the log
is then folded in memory with the same pure projections the runner uses, each only up to
its own checkpoint (a projection that is behind is compared with the log as it had seen
it, and the lag is noted). Rows are matched by primary key, which for every projection
table is the natural key its upserts use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ops.findings import AuditReport
from adapters.readmodel.tables import TABLES
from adapters.readmodel.who import identify
from adapters.store.event_store import EventStore
from events.base import RecordedEvent
from projections.base import Projection, Row, RowKey

MAX_PER_PROJECTION = 25  # findings listed per projection; the rest are counted


@dataclass(slots=True)
class _Fold:
    projection: Projection
    checkpoint: int
    live: dict[RowKey, Row]
    rows: dict[RowKey, Row] = field(default_factory=dict)


def pk_key(table: Table, row: Row) -> RowKey:
    """The row's key as the projections spell it (primary-key columns)."""
    return RowKey.of(table.name, **{c.name: row[c.name] for c in table.primary_key.columns})


async def snapshot(
    store: EventStore, projections: Sequence[Projection]
) -> list[tuple[Projection, int, dict[RowKey, Row]]]:
    """Each projection's checkpoint and live rows, read in one consistent snapshot."""
    out = []
    options = {"isolation_level": "REPEATABLE READ"} if store.dialect == "postgresql" else {}
    async with store.engines.reader.connect() as plain:
        conn = await plain.execution_options(**options)
        async with conn.begin():
            for projection in projections:
                checkpoint = await store.load_checkpoint(f"projection:{projection.name}", conn)
                live: dict[RowKey, Row] = {}
                for name in projection.tables:
                    live.update(await _rows(conn, TABLES[name]))
                out.append((projection, checkpoint, live))
    return out


async def _rows(conn: AsyncConnection, table: Table) -> dict[RowKey, Row]:
    rows = (await conn.execute(select(table))).mappings().all()
    return {pk_key(table, dict(r)): dict(r) for r in rows}


class ProjectionCheck:
    """Folds the log through every projection and diffs the result with the snapshot."""

    def __init__(self, taken: list[tuple[Projection, int, dict[RowKey, Row]]]) -> None:
        self._folds = [_Fold(p, cp, live) for p, cp, live in taken]

    def feed(self, event: RecordedEvent) -> None:
        """Apply one event (in position order) to every projection that has seen it."""
        for fold in self._folds:
            if event.position > fold.checkpoint:
                continue
            keys = fold.projection.needs(event)
            if not keys:
                continue
            current = {k: fold.rows.get(k) for k in keys}
            for change in fold.projection.project(event, current):
                fold.rows[change.key] = change.values

    async def identify(self, store: EventStore) -> None:
        """Write phones and names beside person ids, as the runner does before writing."""
        async with store.engines.reader.connect() as conn:
            for fold in self._folds:
                fold.rows = await identify(conn, store.people, fold.rows)

    def finish(self, report: AuditReport, last_position: int) -> None:
        """Name every missing, extra or differing row; note projections that lag."""
        for fold in self._folds:
            name = fold.projection.name
            if fold.checkpoint < last_position:
                behind = last_position - fold.checkpoint
                report.notes.append(
                    f"projection {name} is {behind} position(s) behind; compared up to"
                    f" its checkpoint {fold.checkpoint}"
                )
            problems = list(_diff(fold))
            for message in problems[:MAX_PER_PROJECTION]:
                report.add("projections", f"{name}: {message}")
            if len(problems) > MAX_PER_PROJECTION:
                more = len(problems) - MAX_PER_PROJECTION
                report.add("projections", f"{name}: ... and {more} more row difference(s)")


def _diff(fold: _Fold) -> list[str]:
    out = []
    for key in sorted(set(fold.rows) | set(fold.live), key=_order):
        expected, live = fold.rows.get(key), fold.live.get(key)
        label = f"{key.table} row {_show_key(key)}"
        if live is None:
            out.append(f"{label} is missing (the log says it should exist)")
        elif expected is None:
            out.append(f"{label} exists but no event produces it")
        else:
            cols = _differing(TABLES[key.table], expected, live)
            if cols:
                shown = "; ".join(f"{c}: live {live.get(c)!r}, log {v!r}" for c, v in cols)
                out.append(f"{label} differs: {shown}")
    return out


def _differing(table: Table, expected: Row, live: Row) -> list[tuple[str, Any]]:
    cols = []
    for column in table.columns:
        if column.name in expected:
            value = expected[column.name]
        else:
            default = column.default
            arg = getattr(default, "arg", None)
            value = None if callable(arg) else arg
        if value != live.get(column.name):
            cols.append((column.name, value))
    return cols


def _order(key: RowKey) -> tuple[str, str]:
    return key.table, repr(key.key)


def _show_key(key: RowKey) -> str:
    return ", ".join(f"{c}={v}" for c, v in key.key)
