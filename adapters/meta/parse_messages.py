"""Builders for one ``messages[]`` item of a Meta webhook value: the message facts.

Pure and total like the accessors they use (:mod:`adapters.meta.parse_items`): a strange
item yields ``None`` fields, or ``None`` from :func:`build_message` for an item without an
id or of an unknown type, which the caller records as an unsupported item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from adapters.meta.parse_items import (
    Party,
    ValueContext,
    clean_json,
    decimal,
    epoch,
    flag,
    items,
    meta_errors,
    obj,
    sender,
    text,
    whole,
)
from core.phones import phone_from_wa_id
from events.base import fast_constructor
from events.whatsapp import (
    ButtonReply,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    Order,
    OrderItem,
    Reaction,
    Referral,
    ReferredProduct,
    SystemNotice,
)

MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
MESSAGE_KINDS = MEDIA_KINDS | frozenset(
    {
        "text",
        "location",
        "contacts",
        "interactive",
        "button",
        "order",
        "reaction",
        "system",
        "unsupported",
        "unknown",  # Meta's older name for "unsupported"
        "request_welcome",  # the user opened the chat for the first time
    }
)
_REFERRAL_KEYS = tuple(f.name for f in fields(Referral))
# MessageReceived from its values in field order, through its slots: the same object as
# the keyword call (24 fields) in a third of the time (see fast_constructor).
_RECEIVED_FIELDS = tuple(f.name for f in fields(MessageReceived))
_received: Callable[..., MessageReceived] = fast_constructor(MessageReceived) or (
    lambda *values: MessageReceived(**dict(zip(_RECEIVED_FIELDS, values, strict=True)))
)

Built = MessageReceived | MessageEdited | MessageRevoked


def build_message(
    message: Mapping[str, Any], ctx: ValueContext, party: Party | None = None
) -> Built | None:
    """The fact for one ``messages[]`` item; None when it has no id or an unknown type.

    ``party``: the item's :func:`~adapters.meta.parse_items.sender`, when the caller has it.
    """
    wamid = text(message, "id")
    kind = text(message, "type")
    if wamid is None or kind is None:
        return None
    if party is None:
        party = sender(message, ctx)
    sent_at = epoch(message.get("timestamp")) or ctx.received_at
    if kind == "edit":
        return _edited(wamid, message, party, ctx, sent_at)
    if kind == "revoke":
        return MessageRevoked(
            wamid=wamid,
            original_wamid=text(obj(message, "revoke"), "original_message_id"),
            **_party_fields(party, ctx),
            sent_at=sent_at,
        )
    if kind not in MESSAGE_KINDS:
        return None
    values = _content(kind, message)
    values.update(_party_fields(party, ctx))
    values.update(wamid=wamid, parent_bsuid=party.parent_bsuid, kind=kind, sent_at=sent_at)
    return _received(*map(values.__getitem__, _RECEIVED_FIELDS))


def _party_fields(party: Party, ctx: ValueContext) -> dict[str, Any]:
    return {
        "wa_id": party.wa_id,
        "phone": party.phone,
        "bsuid": party.bsuid,
        "profile_name": party.profile_name,
        "waba_id": ctx.waba_id,
        "phone_number_id": ctx.phone_number_id,
        "display_phone_number": ctx.display_phone_number,
    }


def _edited(
    wamid: str, message: Mapping[str, Any], party: Party, ctx: ValueContext, sent_at: datetime
) -> MessageEdited:
    edit = obj(message, "edit")
    new = obj(edit, "message")
    kind = text(new, "type")
    return MessageEdited(
        wamid=wamid,
        original_wamid=text(edit, "original_message_id"),
        **_party_fields(party, ctx),
        sent_at=sent_at,
        kind=kind,
        text=text(obj(new, "text"), "body"),
        media=_media(new, kind),
        context=_context(new),
    )


def _content(kind: str, message: Mapping[str, Any]) -> dict[str, Any]:
    unsupported = obj(message, "unsupported")
    return {
        "text": text(obj(message, "text"), "body") if kind == "text" else None,
        "media": _media(message, kind),
        "location": _location(obj(message, "location")) if kind == "location" else None,
        "contacts": tuple(clean_json(c) for c in items(message, "contacts")),
        "interactive": _interactive(obj(message, "interactive")),
        "button": _button(obj(message, "button")),
        "order": _order(obj(message, "order")),
        "reaction": _reaction(message) if kind == "reaction" else None,
        "system": _system(message) if kind == "system" else None,
        "referral": _referral(obj(message, "referral")),
        "context": _context(message),
        "unsupported_type": text(unsupported, "type"),
        "errors": meta_errors(items(message, "errors")),
    }


def _media(message: Mapping[str, Any], kind: str | None) -> Media | None:
    if kind not in MEDIA_KINDS:
        return None
    part = obj(message, str(kind))
    if not part:
        return None
    return Media(
        id=text(part, "id"),
        mime_type=text(part, "mime_type"),
        sha256=text(part, "sha256"),
        caption=text(part, "caption"),
        filename=text(part, "filename"),
        voice=flag(part, "voice"),
        animated=flag(part, "animated"),
        url=text(part, "url"),
    )


def _location(part: Mapping[str, Any]) -> Location:
    return Location(
        latitude=decimal(part.get("latitude")),
        longitude=decimal(part.get("longitude")),
        name=text(part, "name"),
        address=text(part, "address"),
        url=text(part, "url"),
    )


def _interactive(part: Mapping[str, Any]) -> InteractiveReply | None:
    if not part:
        return None
    kind = text(part, "type") or "unknown"
    reply = obj(part, kind)
    return InteractiveReply(
        type=kind,
        id=text(reply, "id"),
        title=text(reply, "title"),
        description=text(reply, "description"),
        response_json=text(reply, "response_json"),
        body=text(reply, "body"),
        name=text(reply, "name"),
        raw=clean_json(part),
    )


def _button(part: Mapping[str, Any]) -> ButtonReply | None:
    if not part:
        return None
    return ButtonReply(payload=text(part, "payload"), text=text(part, "text"))


def _order(part: Mapping[str, Any]) -> Order | None:
    if not part:
        return None
    lines = tuple(
        OrderItem(
            product_retailer_id=text(line, "product_retailer_id") or "",
            quantity=whole(line.get("quantity")) or 0,  # 0: Meta's value was not a number
            item_price=decimal(line.get("item_price")),
            currency=text(line, "currency"),
        )
        for line in items(part, "product_items")
        if isinstance(line, dict)
    )
    return Order(catalog_id=text(part, "catalog_id"), text=text(part, "text"), items=lines)


def _reaction(message: Mapping[str, Any]) -> Reaction:
    part = obj(message, "reaction")
    # Meta removes a reaction by sending an empty emoji, or none at all.
    return Reaction(message_id=text(part, "message_id"), emoji=text(part, "emoji") or None)


def _system(message: Mapping[str, Any]) -> SystemNotice:
    part = obj(message, "system")
    identity = obj(message, "identity")
    new_wa_id = text(part, "wa_id")
    return SystemNotice(
        type=text(part, "type"),
        body=text(part, "body"),
        new_wa_id=new_wa_id,
        new_phone=phone_from_wa_id(new_wa_id) if new_wa_id else None,
        new_bsuid=text(part, "user_id"),
        identity_hash=text(identity, "hash"),
        identity_acknowledged=flag(identity, "acknowledged"),
    )


def _referral(part: Mapping[str, Any]) -> Referral | None:
    if not part:
        return None
    return Referral(**{key: text(part, key) for key in _REFERRAL_KEYS})


def _context(message: Mapping[str, Any]) -> MessageContext | None:
    part = obj(message, "context")
    if not part:
        return None
    product = obj(part, "referred_product")
    return MessageContext(
        sender=text(part, "from"),
        message_id=text(part, "id"),
        forwarded=flag(part, "forwarded") is True,
        frequently_forwarded=flag(part, "frequently_forwarded") is True,
        referred_product=ReferredProduct(
            catalog_id=text(product, "catalog_id"),
            product_retailer_id=text(product, "product_retailer_id"),
        )
        if product
        else None,
    )
