"""Which stream an operator means: a phone, a conversation id, an order relay or a name."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.ops.rawlog import streams_like
from adapters.store.event_store import EventStore
from core.phones import conversation_stream, normalize_phone, phone_from_wa_id
from projections.messages import conversation_id


class TargetError(ValueError):
    """The operator's target names no stream; the message says why, in one line."""


def parse_phone(raw: str) -> str:
    """The E.164 form of a phone in any usual spelling; raises TargetError."""
    phone = normalize_phone(raw) or phone_from_wa_id(raw)
    if phone is None:
        raise TargetError(f"{raw!r} is not a phone number (try +39...)")
    return phone


async def phone_stream(store: EventStore, raw: str) -> str:
    """The conversation stream of a phone in any usual spelling; raises TargetError.

    Streams are named by the person id (docs/adr/0007-crypto-shredding.md), looked up
    here and never created; a phone with no person falls back to a stream named by the
    phone (logs written before pseudonyms).
    """
    phone = parse_phone(raw)
    person = await store.people.find(phone)
    return conversation_stream(person or phone)


async def conversation_stream_of(store: EventStore, cid: str) -> str:
    """The conversation stream whose projected id is ``cid`` (found from the log itself)."""
    wanted = cid.strip().lower()
    for stream in await streams_like(store.engines, "conversation-"):
        if conversation_id(stream) == wanted:
            return stream
    raise TargetError(f"no conversation stream has id {cid!r}")


async def resolve(
    store: EventStore,
    *,
    phone: str | None = None,
    conversation: str | None = None,
    order: str | None = None,
    stream: str | None = None,
) -> str:
    """The stream named by exactly one of the arguments."""
    given = [v for v in (phone, conversation, order, stream) if v]
    if len(given) != 1:
        raise TargetError("give exactly one of --phone, --conversation, --order, --stream")
    if phone:
        return await phone_stream(store, phone)
    if conversation:
        return await conversation_stream_of(store, conversation)
    if order:
        return order if order.startswith("order-") else f"order-{order}"
    assert stream is not None
    return stream


def parse_time(raw: str) -> datetime:
    """An ISO 8601 time (``2026-01-31``, ``2026-01-31T10:00+01:00``); naive means UTC."""
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise TargetError(f"{raw!r} is neither a position nor an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def parse_until(raw: str) -> tuple[int | None, datetime | None]:
    """``--until``: a position (digits) or a time."""
    text = raw.strip()
    if text.isdigit():
        return int(text), None
    return None, parse_time(text)
