"""Parse one WhatsApp Cloud API webhook delivery into the events to append.

Pure (no I/O, no clock: the caller passes ``received_at``) and total: any bytes give a
:class:`ParsedDelivery` and nothing raises. The delivery itself becomes a
:class:`~events.whatsapp.WebhookReceived` in stream ``delivery-<sha256[:32]>``; every item
becomes one fact, in document order:

* messages and statuses go to the customer's ``conversation-<phone | bsuid:id>`` stream
  (``from`` for messages, ``recipient_id`` for statuses);
* business-level items (template and account updates, calls, echoes, value errors that
  name no single customer) go to ``waba-<entry id>``;
* a body that is not JSON or not a ``whatsapp_business_account`` webhook gives one
  :class:`~events.whatsapp.WebhookBodyInvalid` in the delivery stream.

Event ids are UUIDv5 under :data:`EVENT_ID_NAMESPACE`, from Meta's own ids where they
exist, so a redelivered webhook (same body or not) appends nothing new.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from adapters.meta.parse_items import (
    Party,
    ValueContext,
    clean,
    clean_json,
    items,
    meta_errors,
    obj,
    sender,
    text,
)
from adapters.meta.parse_messages import build_message
from adapters.meta.parse_statuses import preference_of, status_of
from core.phones import conversation_stream
from events.base import Metadata, NewEvent
from events.whatsapp import (
    MessageEdited,
    MessageRevoked,
    UnsupportedItemReceived,
    ValueErrorsReceived,
    WebhookBodyInvalid,
    WebhookReceived,
)

EVENT_ID_NAMESPACE = UUID("33e9af91-b781-4902-8e1c-8f1a04716b41")  # fixed forever
WEBHOOK_OBJECT = "whatsapp_business_account"
_PARSED_FIELDS = frozenset({"messages", "user_preferences"})
_CONTEXT_KEYS = frozenset({"messaging_product", "metadata", "contacts"})
_ID_PREFIX = {MessageEdited.TYPE: "edit", MessageRevoked.TYPE: "revoke"}  # else "message:"
_MAX_DEPTH = 64  # Meta's bodies nest about 10 deep; deeper JSON would strain the codec


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEvent:
    """An event and the stream it is to be appended to."""

    stream: str
    event: NewEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedDelivery:
    """One webhook POST: its verbatim record and the facts parsed from it, in order."""

    delivery: StreamEvent
    facts: tuple[StreamEvent, ...]


def parse_delivery(
    body: bytes, *, received_at: datetime, content_type: str = "application/json"
) -> ParsedDelivery:
    """The events recording ``body``; never raises for any body (``received_at`` tz-aware)."""
    if received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    digest = hashlib.sha256(body).hexdigest()
    delivery_id = uuid5(EVENT_ID_NAMESPACE, "delivery:" + digest)
    out = _Emitter.of(digest, delivery_id, received_at)
    as_text = _text(body)
    record = _record(body, as_text, digest, content_type, received_at)
    delivery = StreamEvent(
        stream="delivery-" + digest[:32],
        event=NewEvent(event_id=delivery_id, payload=record, metadata=out.delivery_metadata),
    )
    document, reason = _load(body, as_text)
    if document is None:
        invalid = WebhookBodyInvalid(body_sha256=digest, reason=reason)
        facts: tuple[StreamEvent, ...] = (out.fact(delivery.stream, "invalid:" + digest, invalid),)
    else:
        facts = _unique(_entries(document, out))
    return ParsedDelivery(delivery=delivery, facts=facts)


def _text(body: bytes) -> str | None:
    """``body`` as UTF-8 text, decoded once for the record and the parser."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _record(
    body: bytes, text_: str | None, digest: str, content_type: str, at: datetime
) -> WebhookReceived:
    as_text = text_
    if as_text is not None and "\x00" in as_text:
        as_text = None  # NUL is valid UTF-8 but no database text column takes it
    return WebhookReceived(
        body=as_text,
        body_b64=None if as_text is not None else base64.b64encode(body).decode("ascii"),
        body_sha256=digest,
        content_type=clean(content_type),
        received_at=at,
    )


def _load(body: bytes, text_: str | None) -> tuple[dict[str, Any] | None, str]:
    """The webhook document, or None and the reason it is not one."""
    if not body.strip():
        return None, "empty body"
    if text_ is None:
        return None, "body is not UTF-8"
    try:
        if text_.startswith("\ufeff"):  # what json.loads says, word for word
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text_, 0)
        document = _DECODER.decode(text_)
    except (ValueError, RecursionError) as exc:
        return None, clean(f"body is not JSON: {exc}"[:200])
    if not isinstance(document, dict):
        return None, f"top-level JSON is a {type(document).__name__}, not an object"
    if document.get("object") != WEBHOOK_OBJECT:
        found = clean(repr(document.get("object"))[:80])
        return None, f"object is {found}, not {WEBHOOK_OBJECT!r}"
    if not isinstance(document.get("entry"), list):
        return None, "entry is missing or not a list"
    # Nesting needs one bracket per level: a body with few brackets needs no walk.
    few = body.count(b"{") + body.count(b"[") <= _MAX_DEPTH
    if not few and _deeper_than(document, _MAX_DEPTH):
        return None, f"JSON nests deeper than {_MAX_DEPTH} levels"
    return document, ""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # built once, not per body


def _deeper_than(document: Any, limit: int) -> bool:
    level: list[Any] = [document]
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def _unique(facts: Iterator[StreamEvent]) -> tuple[StreamEvent, ...]:
    # Meta may repeat an item inside one body; its deterministic id makes it one fact.
    seen: set[UUID] = set()
    kept = []
    for fact in facts:
        if fact.event.event_id not in seen:
            seen.add(fact.event.event_id)
            kept.append(fact)
    return tuple(kept)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Emitter:
    """Wraps payloads in envelopes: deterministic ids and the delivery's metadata."""

    digest: str
    delivery_id: UUID
    received_at: datetime
    delivery_metadata: Metadata  # the raw delivery's: no causation
    fact_metadata: Metadata  # shared by every fact of the delivery (immutable)

    @classmethod
    def of(cls, digest: str, delivery_id: UUID, received_at: datetime) -> _Emitter:
        correlation, at = str(delivery_id), received_at.isoformat()  # once for both
        return cls(
            digest=digest,
            delivery_id=delivery_id,
            received_at=received_at,
            delivery_metadata=_metadata(correlation, None, at),
            fact_metadata=_metadata(correlation, correlation, at),
        )

    def fact(self, stream: str, id_name: str, payload: Any) -> StreamEvent:
        event_id = uuid5(EVENT_ID_NAMESPACE, id_name)
        metadata = self.fact_metadata
        return StreamEvent(
            stream=stream, event=NewEvent(event_id=event_id, payload=payload, metadata=metadata)
        )

    def unsupported(
        self, raw: Any, path: str, field: str | None, waba_id: str | None
    ) -> StreamEvent:
        payload = UnsupportedItemReceived(
            field=field, path=path, waba_id=waba_id, raw=clean_json(raw)
        )
        id_name = f"unsupported:{self.digest}:{path}"
        return self.fact(_waba_stream(waba_id), id_name, payload)


def _metadata(correlation: str, causation: str | None, received_at: str) -> Metadata:
    return Metadata(
        correlation_id=correlation,
        causation_id=causation,
        source="webhook",
        extra={"received_at": received_at},
    )


def _waba_stream(waba_id: str | None) -> str:
    return "waba-" + (waba_id or "unknown")


def _stream(key: str | None, waba_id: str | None) -> str:
    return conversation_stream(key) if key else _waba_stream(waba_id)


def _entries(document: Mapping[str, Any], out: _Emitter) -> Iterator[StreamEvent]:
    for i, entry in enumerate(document["entry"]):
        path = f"entry[{i}]"
        changes = entry.get("changes") if isinstance(entry, dict) else None
        waba_id = text(entry, "id") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            yield out.unsupported(entry, path, None, waba_id)
            continue
        for j, change in enumerate(changes):
            yield from _change(change, f"{path}.changes[{j}]", waba_id, out)


def _change(change: Any, path: str, waba_id: str | None, out: _Emitter) -> Iterator[StreamEvent]:
    field = text(change, "field") if isinstance(change, dict) else None
    value = change.get("value") if isinstance(change, dict) else None
    if field not in _PARSED_FIELDS or not isinstance(value, dict):
        yield out.unsupported(change, path, field, waba_id)
        return
    meta = obj(value, "metadata")
    ctx = ValueContext(
        waba_id=waba_id,
        field=field,
        phone_number_id=text(meta, "phone_number_id"),
        display_phone_number=text(meta, "display_phone_number"),
        contacts=tuple(c for c in items(value, "contacts") if isinstance(c, dict)),
        received_at=out.received_at,
    )
    for key, part in value.items():
        where = f"{path}.value.{clean(key)}"
        if key in _CONTEXT_KEYS:
            continue
        if key in {"messages", "statuses", "user_preferences"} and isinstance(part, list):
            for k, item in enumerate(part):
                yield _item(key, item, f"{where}[{k}]", ctx, out)
        elif key == "errors" and isinstance(part, list):
            yield _value_errors(value, part, where, ctx, out)
        else:
            yield out.unsupported(part, where, field, waba_id)


def _item(key: str, item: Any, path: str, ctx: ValueContext, out: _Emitter) -> StreamEvent:
    if not isinstance(item, dict):
        return out.unsupported(item, path, ctx.field, ctx.waba_id)
    if key == "messages":
        return _message(item, path, ctx, out)
    if key == "statuses":
        status = status_of(item, ctx)
        if status is None:
            return out.unsupported(item, path, ctx.field, ctx.waba_id)
        id_name = f"status:{status.wamid}:{status.status}:{text(item, 'timestamp')}"
        if status.participant_phone or status.participant_bsuid:
            id_name += f":{status.participant_phone}:{status.participant_bsuid}"
        key_of = Party(wa_id=None, phone=status.phone, bsuid=status.bsuid).key
        return out.fact(_stream(key_of, ctx.waba_id), id_name, status)
    preference = preference_of(item, ctx)
    party = Party(wa_id=None, phone=preference.phone, bsuid=preference.bsuid)
    id_name = (
        f"preference:{preference.wa_id}:{preference.bsuid}:{preference.category}"
        f":{preference.value}:{text(item, 'timestamp')}"
    )
    return out.fact(_stream(party.key, ctx.waba_id), id_name, preference)


def _message(item: dict[str, Any], path: str, ctx: ValueContext, out: _Emitter) -> StreamEvent:
    party = sender(item, ctx)
    built = build_message(item, ctx, party)
    if built is None:
        wamid = text(item, "id")
        payload = UnsupportedItemReceived(
            field=ctx.field,
            path=path,
            waba_id=ctx.waba_id,
            wamid=wamid,
            phone=party.phone,
            bsuid=party.bsuid,
            raw=clean_json(item),
        )
        id_name = f"unsupported-message:{wamid}" if wamid else f"unsupported:{out.digest}:{path}"
        return out.fact(_stream(party.key, ctx.waba_id), id_name, payload)
    id_name = f"{_ID_PREFIX.get(built.TYPE, 'message')}:{built.wamid}"
    return out.fact(_stream(party.key, ctx.waba_id), id_name, built)


def _value_errors(
    value: Mapping[str, Any], errors: list[Any], path: str, ctx: ValueContext, out: _Emitter
) -> StreamEvent:
    payload = ValueErrorsReceived(
        field=ctx.field,
        path=path,
        waba_id=ctx.waba_id,
        phone_number_id=ctx.phone_number_id,
        display_phone_number=ctx.display_phone_number,
        errors=meta_errors(errors),
    )
    # Errors beside the messages of a single customer belong to that conversation.
    keys = {sender(m, ctx).key for m in items(value, "messages") if isinstance(m, dict)}
    key = keys.pop() if len(keys) == 1 else None
    return out.fact(_stream(key, ctx.waba_id), f"value-errors:{out.digest}:{path}", payload)
