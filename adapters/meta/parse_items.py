"""Builders turning one item of a Meta webhook value into a fact payload.

Pure and total: every accessor tolerates missing keys and JSON of the wrong type, so a
strange item yields ``None`` fields (or ``None`` from a builder, which the caller records
as an unsupported item) rather than an exception. Strings are made storable on the way
in: NUL characters and lone surrogates (both legal in JSON, both refused by PostgreSQL
``jsonb``) become U+FFFD, so one odd message can never block a delivery's append.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.phones import customer_key, phone_from_wa_id
from events.base import JsonValue
from events.whatsapp import (
    ButtonReply,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    MetaError,
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
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_INTEGER = re.compile("-?[0-9]{1,20}")
_REFERRAL_KEYS = tuple(f.name for f in fields(Referral))


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueContext:
    """What a ``changes[].value`` says about all of its items."""

    waba_id: str | None
    field: str | None
    phone_number_id: str | None
    display_phone_number: str | None
    contacts: tuple[Mapping[str, Any], ...]
    received_at: datetime  # stands in for a missing or unreadable Meta timestamp


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """A customer as one item names them."""

    wa_id: str | None
    phone: str | None
    bsuid: str | None
    parent_bsuid: str | None = None
    profile_name: str | None = None

    @property
    def key(self) -> str | None:
        """Conversation key: phone, else ``bsuid:<id>``, else None."""
        return customer_key(self.phone, self.bsuid)


# --------------------------------------------------------------------------- accessors


def clean(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD (storable anywhere)."""
    if text.isascii():  # O(1) in CPython; only NUL can be there
        return text.replace("\x00", "\ufffd") if "\x00" in text else text
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def clean_json(value: Any) -> JsonValue:
    """A copy of parsed JSON with every string (keys too) passed through :func:`clean`."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def text(obj: Mapping[str, Any], key: str) -> str | None:
    """``obj[key]`` as a string (numbers are ids too), else None."""
    value = obj.get(key)
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def obj(parent: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` when it is a JSON object, else an empty one."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def items(parent: Mapping[str, Any], key: str) -> list[Any]:
    """``parent[key]`` when it is a JSON list, else an empty one."""
    value = parent.get(key)
    return value if isinstance(value, list) else []


def flag(parent: Mapping[str, Any], key: str) -> bool | None:
    """``parent[key]`` when it is a boolean, else None."""
    value = parent.get(key)
    return value if isinstance(value, bool) else None


def whole(value: Any) -> int | None:
    """An integer from an int, an integral float or a digit string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def decimal(value: Any) -> Decimal | None:
    """An exact finite Decimal from a JSON number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # shortest repr: the digits Meta wrote
    if not isinstance(value, int | str):
        return None
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def epoch(value: Any) -> datetime | None:
    """A UTC datetime from Meta's epoch seconds (int or digit string), else None."""
    seconds = whole(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def meta_errors(raw: Sequence[Any]) -> tuple[MetaError, ...]:
    """Meta's error objects (on a status, a message or a value)."""
    return tuple(
        MetaError(
            code=whole(e.get("code")),
            title=text(e, "title"),
            message=text(e, "message"),
            details=text(obj(e, "error_data"), "details"),
            href=text(e, "href"),
        )
        for e in raw
        if isinstance(e, dict)
    )


# --------------------------------------------------------------------------- people


def sender(message: Mapping[str, Any], ctx: ValueContext) -> Party:
    """The customer who sent ``message``, completed from the value's ``contacts``."""
    wa_id = text(message, "from")
    user_id = text(message, "from_user_id")
    contact = _contact_for(wa_id, user_id, ctx.contacts)
    wa_id = wa_id or text(contact, "wa_id")
    return Party(
        wa_id=wa_id,
        phone=phone_from_wa_id(wa_id) if wa_id else None,
        bsuid=user_id or text(contact, "user_id"),
        parent_bsuid=text(message, "from_parent_user_id") or text(contact, "parent_user_id"),
        profile_name=text(obj(contact, "profile"), "name"),
    )


def _contact_for(
    wa_id: str | None, user_id: str | None, contacts: tuple[Mapping[str, Any], ...]
) -> Mapping[str, Any]:
    for contact in contacts:
        if wa_id is not None and text(contact, "wa_id") == wa_id:
            return contact
        if user_id is not None and text(contact, "user_id") == user_id:
            return contact
    if wa_id is None and user_id is None and len(contacts) == 1:
        return contacts[0]  # an item without a sender: the value's only contact wrote it
    return {}


# --------------------------------------------------------------------------- messages

Built = MessageReceived | MessageEdited | MessageRevoked


def build_message(message: Mapping[str, Any], ctx: ValueContext) -> Built | None:
    """The fact for one ``messages[]`` item; None when it has no id or an unknown type."""
    wamid = text(message, "id")
    kind = text(message, "type")
    if wamid is None or kind is None:
        return None
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
    return MessageReceived(
        wamid=wamid,
        **_party_fields(party, ctx),
        parent_bsuid=party.parent_bsuid,
        kind=kind,
        sent_at=sent_at,
        **_content(kind, message),
    )


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
