"""Status and preference items of a webhook delivery, as facts (pure, total).

Split from :mod:`adapters.meta.parse`, which walks the delivery and names the streams and
event ids; here only the fields of one ``statuses`` or ``user_preferences`` item are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.meta.parse_items import (
    ValueContext,
    epoch,
    flag,
    items,
    meta_errors,
    obj,
    sender,
    text,
)
from core.phones import phone_from_wa_id
from events.whatsapp import (
    Pricing,
    StatusConversation,
    StatusReceived,
    UserPreferencesReceived,
)


def status_of(item: Mapping[str, Any], ctx: ValueContext) -> StatusReceived | None:
    """The status item as a fact; None without the message id or the status."""
    wamid, status = text(item, "id"), text(item, "status")
    if wamid is None or status is None:
        return None
    recipient = text(item, "recipient_id")
    group = text(item, "recipient_type") == "group"
    participant = text(item, "recipient_participant_id")
    return StatusReceived(
        wamid=wamid,
        status=status,
        recipient_id=recipient,
        phone=phone_from_wa_id(recipient) if recipient and not group else None,
        bsuid=text(item, "recipient_user_id"),
        recipient_type=text(item, "recipient_type"),
        participant_phone=phone_from_wa_id(participant) if participant else None,
        participant_bsuid=text(item, "recipient_participant_user_id"),
        status_type=text(item, "type"),
        waba_id=ctx.waba_id,
        phone_number_id=ctx.phone_number_id,
        display_phone_number=ctx.display_phone_number,
        timestamp=epoch(item.get("timestamp")) or ctx.received_at,
        biz_opaque_callback_data=text(item, "biz_opaque_callback_data"),
        conversation=_conversation(obj(item, "conversation")),
        pricing=_pricing(obj(item, "pricing")),
        errors=meta_errors(items(item, "errors")),
    )


def _conversation(part: Mapping[str, Any]) -> StatusConversation | None:
    if not part:
        return None
    return StatusConversation(
        id=text(part, "id"),
        origin_type=text(obj(part, "origin"), "type"),
        expires_at=epoch(part.get("expiration_timestamp")),
    )


def _pricing(part: Mapping[str, Any]) -> Pricing | None:
    if not part:
        return None
    return Pricing(
        billable=flag(part, "billable"),
        pricing_model=text(part, "pricing_model"),
        category=text(part, "category"),
        type=text(part, "type"),
    )


def preference_of(item: Mapping[str, Any], ctx: ValueContext) -> UserPreferencesReceived:
    """A customer's marketing preference change (``user_preferences`` item) as a fact."""
    wa_id = text(item, "wa_id")
    party = sender({"from": wa_id, "from_user_id": text(item, "user_id")}, ctx)
    return UserPreferencesReceived(
        wa_id=wa_id,
        phone=party.phone,
        bsuid=party.bsuid,
        waba_id=ctx.waba_id,
        phone_number_id=ctx.phone_number_id,
        display_phone_number=ctx.display_phone_number,
        category=text(item, "category"),
        value=text(item, "value"),
        detail=text(item, "detail"),
        signup_id=text(item, "signup_id"),
        changed_at=epoch(item.get("timestamp")) or ctx.received_at,
    )
