"""Accessors and the customer of one item of a Meta webhook value.

The fact builders sit beside it (:mod:`adapters.meta.parse_messages`,
:mod:`adapters.meta.parse_statuses`). Pure and total: every accessor tolerates missing
keys and JSON of the wrong type, so a strange item yields ``None`` fields (or ``None``
from a builder, which the caller records as an unsupported item) rather than an
exception. Strings are made storable on the way in: NUL characters and lone surrogates
(both legal in JSON, both refused by PostgreSQL ``jsonb``) become U+FFFD, so one odd
message can never block a delivery's append.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.phones import customer_key, phone_from_wa_id
from events.base import JsonValue
from events.whatsapp import MetaError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_INTEGER = re.compile("-?[0-9]{1,20}")


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
