"""Resolving :class:`~adapters.store.types.ExpectAfterFacts` inside the append transaction.

A request expecting ``ExpectAfterFacts(v, facts)`` is accepted when the stream is still at
``v``, or when every event that took it past ``v`` has a type in ``facts``: the ones
already stored (one indexed query per such stream, only when it moved) and the ones
planned ahead of it in the same group-committed batch. Resolution happens after the
append lock (PostgreSQL) or ``BEGIN IMMEDIATE`` (SQLite) is held and before planning, so
nothing can land in between: an accepted request becomes ``Expect.ANY`` and a refused
one expects ``v`` exactly and fails with the usual version conflict.

Events planned ahead in the batch count even if their unit is later refused or turns
out to be a duplicate: refusing a little too often is safe (the caller reloads), never
the reverse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from adapters.store.types import Expect, ExpectAfterFacts

if TYPE_CHECKING:
    from adapters.store.event_store import EncodedRequest, EncodedUnit

_SQLITE_TYPES = "SELECT DISTINCT type FROM events WHERE stream = ? AND version > ?"
_PG_TYPES = "SELECT DISTINCT type FROM events WHERE stream = $1 AND version > $2"
Key = tuple[str, int]


def checks(units: Sequence[EncodedUnit], versions: dict[str, int]) -> list[Key]:
    """The (stream, version) pairs whose stored events after ``version`` must be typed."""
    return sorted(
        {
            (r.stream, r.expected.version)
            for unit in units
            for r in unit
            if isinstance(r.expected, ExpectAfterFacts)
            and versions.get(r.stream, 0) > r.expected.version
        }
    )


def resolve_sqlite(
    db: sqlite3.Connection, units: Sequence[EncodedUnit], versions: dict[str, int]
) -> Sequence[EncodedUnit]:
    """:func:`resolve` with the stored types read on the SQLite writer connection."""
    keys = checks(units, versions)
    if not any(isinstance(r.expected, ExpectAfterFacts) for unit in units for r in unit):
        return units
    stored = {key: {row[0] for row in db.execute(_SQLITE_TYPES, key)} for key in keys}
    return resolve(units, versions, stored)


async def resolve_pg(
    driver: Any, units: Sequence[EncodedUnit], versions: dict[str, int]
) -> Sequence[EncodedUnit]:
    """:func:`resolve` with the stored types read on the PostgreSQL append connection."""
    if not any(isinstance(r.expected, ExpectAfterFacts) for unit in units for r in unit):
        return units
    stored: dict[Key, set[str]] = {}
    for stream, version in checks(units, versions):
        rows = await driver.fetch(_PG_TYPES, stream, version)
        stored[(stream, version)] = {row[0] for row in rows}
    return resolve(units, versions, stored)


def resolve(
    units: Sequence[EncodedUnit], versions: dict[str, int], stored: dict[Key, set[str]]
) -> list[EncodedUnit]:
    """``units`` with every ``ExpectAfterFacts`` replaced by ``Expect.ANY`` or its version."""
    ahead: dict[str, set[str]] = {}  # types planned earlier in this batch, per stream
    out: list[EncodedUnit] = []
    for unit in units:
        out.append(tuple(_resolved(r, versions, stored, ahead) for r in unit))
        for r in unit:
            ahead.setdefault(r.stream, set()).update(e[2] for e in r.events)
    return out


def _resolved(
    r: EncodedRequest,
    versions: dict[str, int],
    stored: dict[Key, set[str]],
    ahead: dict[str, set[str]],
) -> EncodedRequest:
    expected = r.expected
    if not isinstance(expected, ExpectAfterFacts):
        return r
    current = versions.get(r.stream, 0)
    since: set[str] = set(ahead.get(r.stream, ()))
    if current > expected.version:
        since |= stored.get((r.stream, expected.version), set())
    ok = current >= expected.version and _all_in(since, expected.facts)
    return _with(r, Expect.ANY if ok else expected.version)


def _all_in(types: Iterable[str], facts: frozenset[str]) -> bool:
    return all(t in facts for t in types)


def _with(r: EncodedRequest, expected: Expect | int) -> EncodedRequest:
    return type(r)(r.stream, expected, r.events)
