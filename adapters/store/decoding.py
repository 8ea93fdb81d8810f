"""Decoding stored rows into recorded events, without SQLAlchemy's per-column work.

Split from :mod:`adapters.store.event_store`: one driver call fetches a page, and the
rows are decoded here (our compact JSON, hex ids on SQLite, sealed personal fields
opened with their people's keys); a row that cannot be read names its position.
"""

from __future__ import annotations

import _json
import dataclasses
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, SafeUUID

from adapters.store.people import SEALED, People, sealed_people_in
from events.base import Metadata, RecordedEvent, fast_constructor
from events.codec import decode_payload
from events.errors import CorruptEventError

_SCAN = _json.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: duck type


def loads(text: Any) -> Any:
    """``json.loads`` for our own compact JSON text, without its per-call overhead."""
    if type(text) is str:
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            pass  # not a value at index 0 (leading space?): json.loads says what it is
        else:
            if end == len(text):
                return value
    return json.loads(text)


_loads = loads
_new_uuid = object.__new__
_set = object.__setattr__


def _uuid_from_hex(text: str) -> UUID:
    """``UUID(text)`` for SQLite's 32-digit hex, built without its parsing."""
    if len(text) != 32:
        return UUID(text)
    value: UUID = _new_uuid(UUID)
    _set(value, "int", int(text, 16))  # UUID does the same after its normalisation
    _set(value, "is_safe", SafeUUID.unknown)
    return value


def sealed_people_of(rows: Iterable[Sequence[Any]]) -> set[str]:
    return sealed_people_in([row[6] for row in rows])


def decode_rows(
    rows: Iterable[Sequence[Any]], *, sqlite: bool, people: People
) -> list[RecordedEvent]:
    """``_SELECT`` rows as recorded events; a row that cannot be read names its position.

    SQLite keeps ids as hex text and times as naive UTC text (SQLAlchemy's formats);
    asyncpg gives native UUIDs and aware datetimes.
    """
    with gc_paused():
        return _decode_rows_now(rows, sqlite=sqlite, people=people)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC passes while a page of events is built (none of it forms cycles).

    A page of 1,000 events leaves about 4,000 new tracked objects, which would start
    several young-generation passes and, through them, full passes over the whole heap
    (measured: about a quarter of the read time with a large heap). Paused, the page
    costs one young pass when collection resumes. Only synchronous code runs inside.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _decode_rows_now(
    rows: Iterable[Sequence[Any]], *, sqlite: bool, people: People
) -> list[RecordedEvent]:
    out: list[RecordedEvent] = []
    last_text: Any = None
    last_at = datetime.min
    for position, raw_id, stream, version, type_name, schema_version, data, meta, raw_at in rows:
        try:
            if sqlite:
                if raw_at != last_text:  # rows of one transaction share their recorded_at
                    last_text, last_at = raw_at, _sqlite_time(raw_at)
                at, event_id = last_at, _uuid_from_hex(raw_id)
            else:
                at, event_id = raw_at, raw_id
        except (TypeError, ValueError) as exc:
            raise _corrupt("event_id or recorded_at", exc, position, type_name) from exc
        try:
            payload, metadata = _loads(data), _loads(meta)
        except (TypeError, ValueError) as exc:
            raise _corrupt("JSON", exc, position, type_name) from exc
        if type(payload) is dict and SEALED in payload:
            try:
                payload = people.unseal(type_name, payload)
            except (TypeError, ValueError) as exc:
                raise _corrupt("personal fields", exc, position, type_name) from exc
        out.append(
            _new_recorded(
                position,
                event_id,
                stream,
                version,
                type_name,
                schema_version,
                decode_payload(type_name, schema_version, payload, position=position),
                Metadata.from_json(metadata if type(metadata) is dict else {}),
                at,
            )
        )
    return out


def _corrupt(what: str, exc: Exception, position: int, type_name: str) -> CorruptEventError:
    return CorruptEventError(
        f"stored {what} is invalid: {exc}", position=position, type_name=type_name
    )


def _sqlite_time(text: Any) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _recorded_by_keywords(*values: Any) -> RecordedEvent:
    names = [f.name for f in dataclasses.fields(RecordedEvent)]
    return RecordedEvent(**dict(zip(names, values, strict=True)))


# RecordedEvent(...) with its fields in order, through its slots when that is the same.
_new_recorded: Callable[..., RecordedEvent] = (
    fast_constructor(RecordedEvent) or _recorded_by_keywords
)
