"""Encoding and planning of appends: pure CPU work, done before the transaction.

Split from :mod:`adapters.store.event_store`. Payloads and metadata become the stored
JSON text (personal fields sealed, ADR 0007) in the caller's coroutine; a batch of units
is then planned against the known ids and stream versions (idempotency and optimistic
concurrency) and its results are filled with the positions drawn.
"""

from __future__ import annotations

import _json
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.store.people import People
from adapters.store.types import (
    Appended,
    AppendRequest,
    AppendResult,
    Expect,
    ExpectedVersion,
    StreamVersionConflictError,
)
from core.phones import is_person_id
from events.base import fast_constructor, personal_fields
from events.codec import encode_payload

Outcome = list[AppendResult] | BaseException
# An encoded event: (id, stored id: hex on SQLite / the UUID on PostgreSQL, type,
# schema version, data JSON, metadata JSON). Kept as a tuple: it is built per event.
EncodedEvent = tuple[UUID, Any, str, int, str, str]


@dataclass(frozen=True, slots=True)
class EncodedRequest:
    """An :class:`AppendRequest` whose events are encoded (see :meth:`EventStore.encode_unit`)."""

    stream: str
    expected: ExpectedVersion
    events: tuple[EncodedEvent, ...]


EncodedUnit = tuple[EncodedRequest, ...]


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder built once (json.dumps builds one per call); output identical to _JSON's.
_ENCODE = _json.make_encoder(
    None, _JSON.default, _json.encode_basestring, None, ":", ",", False, False, True
)


def dumps(value: Any) -> str:
    return "".join(_ENCODE(value, 0))


def stream_person(stream: str) -> str | None:
    """The person id a stream belongs to (``conversation-prs_...``), else None."""
    if stream.startswith("conversation-"):
        key = stream[13:]
        return key if is_person_id(key) else None
    return None


def encode_request(
    request: AppendRequest,
    sqlite: bool,
    memo: dict[int, str],
    people: People,
    unit_people: tuple[str, ...],
) -> EncodedRequest:
    """``memo`` maps ``id(metadata)`` to its JSON; the objects outlive the call."""
    encoded = []
    owner = stream_person(request.stream)
    for e in request.events:
        payload = e.payload
        plain = encode_payload(payload)
        if personal_fields(payload.TYPE):
            sealed_for = (
                _owners(owner, request.sealed_with)
                if owner is not None
                else _delivery_people(payload, unit_people)
            )
            if sealed_for:
                people.seal(payload.TYPE, plain, sealed_for)
        data = dumps(plain)
        stored_id = e.event_id.hex if sqlite else e.event_id  # SQLite: SQLAlchemy's Uuid storage
        metadata = memo.get(id(e.metadata))
        if metadata is None:
            metadata = memo[id(e.metadata)] = dumps(e.metadata.to_json())
        encoded.append((e.event_id, stored_id, payload.TYPE, payload.VERSION, data, metadata))
    return EncodedRequest(request.stream, request.expected, tuple(encoded))


def _owners(owner: str, also: tuple[str, ...]) -> tuple[str, ...]:
    """The stream's person first, then the others its events concern (ADR 0017)."""
    return (owner, *sorted(set(also) - {owner}))


def _delivery_people(payload: Any, unit_people: tuple[str, ...]) -> tuple[str, ...]:
    """A raw delivery outside a person's stream concerns the people of its unit."""
    return unit_people if payload.TYPE == "whatsapp.webhook_received" else ()


Row = tuple[EncodedEvent, str, int]  # the event, its stream and its version


def plan_units(
    units: Sequence[EncodedUnit], known: set[Any], versions: dict[str, int]
) -> tuple[list[Any], list[Row]]:
    """Per unit its planned results or its conflict, and the rows to insert, in order.

    ``known`` holds the stored ids already taken (hex on SQLite, text without dashes on
    PostgreSQL: the form of ``EncodedEvent[1]``'s hex) and grows with each unit planned.
    """
    outcomes: list[Any] = []
    rows: list[Row] = []
    for unit in units:
        planned = _plan_unit(unit, known, versions)
        if isinstance(planned, BaseException):
            outcomes.append(planned)
            continue
        results, unit_rows, unit_versions, unit_ids = planned
        versions.update(unit_versions)
        known.update(unit_ids)
        outcomes.append((results, len(rows)))
        rows.extend(unit_rows)
    return outcomes, rows


def _plan_unit(unit: EncodedUnit, known: set[Any], versions: dict[str, int]) -> Any:
    if len(unit) == 1 and len(unit[0].events) == 1:  # the common unit: one event
        return _plan_one(unit[0], known, versions)
    mine: dict[str, int] = {}  # this unit's versions, over the shared ones (no copy)
    ids: set[Any] = set()
    results: list[tuple[str, list[UUID], list[UUID], int]] = []
    rows: list[Row] = []
    for req in unit:
        current = mine[req.stream] if req.stream in mine else versions.get(req.stream, 0)
        fresh: list[EncodedEvent] = []
        dupes: list[UUID] = []
        for e in req.events:
            key = _id_key(e)
            if key in known or key in ids:
                dupes.append(e[0])
            else:
                ids.add(key)
                fresh.append(e)
        if fresh and not _expected_ok(req.expected, current):
            return StreamVersionConflictError(req.stream, req.expected, current)
        for e in fresh:
            current += 1
            rows.append((e, req.stream, current))
        mine[req.stream] = current
        results.append((req.stream, [e[0] for e in fresh], dupes, current))
    return results, rows, mine, ids


def _plan_one(req: EncodedRequest, known: set[Any], versions: dict[str, int]) -> Any:
    """:func:`_plan_unit` for a unit of one request with one event (same results)."""
    e = req.events[0]
    key = _id_key(e)
    current = versions.get(req.stream, 0)
    if key in known:
        return [(req.stream, [], [e[0]], current)], [], {req.stream: current}, ()
    if not _expected_ok(req.expected, current):
        return StreamVersionConflictError(req.stream, req.expected, current)
    current += 1
    return (
        [(req.stream, [e[0]], [], current)],
        [(e, req.stream, current)],
        {req.stream: current},
        (key,),
    )


def _id_key(e: EncodedEvent) -> Any:
    stored = e[1]
    return stored if type(stored) is str else e[0].hex


def _expected_ok(expected: ExpectedVersion, current: int) -> bool:
    if expected is Expect.ANY:
        return True
    if expected is Expect.NO_STREAM:
        return current == 0
    return expected == current


def fill_positions(outcomes: list[Any], positions: Sequence[int]) -> list[Outcome]:
    filled: list[Outcome] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            filled.append(outcome)
            continue
        planned, offset = outcome
        results: list[AppendResult] = []
        for stream, fresh, dupes, version in planned:
            first = version - len(fresh) + 1
            appended = tuple(
                [_appended(eid, positions[offset + i], first + i) for i, eid in enumerate(fresh)]
            )
            offset += len(fresh)
            results.append(_result(stream, appended, tuple(dupes), version))
        filled.append(results)
    return filled


# The result types built through their slots (same objects, ~2.5x faster, see
# fast_constructor), or by their constructors should they ever stop qualifying.
_appended: Callable[..., Appended] = fast_constructor(Appended) or Appended
_result: Callable[..., AppendResult] = fast_constructor(AppendResult) or AppendResult
