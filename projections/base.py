"""The projection contract: pure functions from an event and current rows to row changes.

A projection names the rows an event touches (:meth:`Projection.needs`), receives their
current values (None for a row that does not exist yet) and returns full-row upserts keyed
by natural keys. The runner in ``adapters/readmodel`` loads and writes the rows and the
checkpoint in one transaction, so applying an event twice, or rebuilding from position
0, gives the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from events.base import RecordedEvent

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RowKey:
    """A row by table and natural key (column, value) pairs."""

    table: str
    key: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, table: str, **key: Any) -> RowKey:
        """``RowKey.of("whatsapp_messages", id="...")``."""
        if len(key) == 1:  # the usual case: one id column, nothing to sort
            return cls(table, tuple(key.items()))
        return cls(table, tuple(sorted(key.items())))


@dataclass(frozen=True, slots=True)
class Upsert:
    """Write ``values`` (the complete row, key columns included) at ``key``."""

    key: RowKey
    values: Mapping[str, Any]


Current = Mapping[RowKey, Row | None]


class Projection(Protocol):
    """A read-model builder; implementations are pure."""

    name: str
    tables: tuple[str, ...]
    event_types: frozenset[str]  # every type ``needs`` may accept: a rebuild reads only these

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The rows ``project`` wants to see for ``event`` (empty: not interested)."""
        ...

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """The row changes ``event`` causes, given the current rows it asked for."""
        ...
