"""Inbound WhatsApp facts: what Meta's Cloud API webhooks told us, as recorded events.

Every webhook delivery is recorded verbatim (:class:`WebhookReceived`) and parsed into
the facts below, in document order. Facts are never rejected: anything the parser does
not model is kept with its raw JSON (:class:`UnsupportedItemReceived`). Sender fields are
``wa_id`` (as Meta sent it), ``phone`` (E.164, when the sender has a phone number) and
``bsuid`` (Meta's business-scoped user id, when present); at least one of ``phone`` and
``bsuid`` keys the customer's conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from events.base import JsonValue, event

# --------------------------------------------------------------------------- parts


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaError:
    """One error object from Meta (on a status, a message or a whole webhook value)."""

    code: int | None  # 131047 re-engagement window, 131026 undeliverable, ...
    title: str | None = None
    message: str | None = None
    details: str | None = None  # error_data.details
    href: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """An image, audio, video, document or sticker attachment (download it by ``id``)."""

    id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None  # audio recorded in WhatsApp (push-to-talk)
    animated: bool | None = None  # stickers only
    url: str | None = None  # present in newer webhooks; still needs the access token


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """A shared location; coordinates kept exactly as Meta wrote them."""

    latitude: Decimal | None
    longitude: Decimal | None
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractiveReply:
    """The customer tapped a reply button, picked a list row or completed a flow."""

    type: str  # button_reply | list_reply | nfm_reply | call_permission_reply | ...
    id: str | None = None
    title: str | None = None
    description: str | None = None
    response_json: str | None = None  # nfm_reply: the flow's answers, a JSON string
    body: str | None = None  # nfm_reply
    name: str | None = None  # nfm_reply: "flow"
    raw: JsonValue = None  # the whole ``interactive`` object, for reply types not modelled


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonReply:
    """The customer tapped a quick-reply button of a template message."""

    payload: str | None
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItem:
    """One line of a WhatsApp catalogue order."""

    product_retailer_id: str
    quantity: int
    item_price: Decimal | None  # unit price as Meta wrote it
    currency: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """A cart the customer sent from the WhatsApp catalogue."""

    catalog_id: str | None
    text: str | None
    items: tuple[OrderItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    """An emoji reaction to a message; ``emoji`` None means the reaction was removed."""

    message_id: str | None
    emoji: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemNotice:
    """A system message: the user changed number or identity."""

    type: str | None  # user_changed_number | customer_identity_changed | ...
    body: str | None = None
    new_wa_id: str | None = None
    new_phone: str | None = None  # new_wa_id in E.164
    new_bsuid: str | None = None
    identity_hash: str | None = None
    identity_acknowledged: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """The ad or post (click-to-WhatsApp) that brought the customer here."""

    source_url: str | None = None
    source_type: str | None = None
    source_id: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferredProduct:
    """The catalogue product a customer asked about ("Message business" on a product)."""

    catalog_id: str | None
    product_retailer_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageContext:
    """What a message replies to, or that it was forwarded."""

    sender: str | None = None  # context.from: who wrote the quoted message
    message_id: str | None = None  # the quoted message's wamid
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: ReferredProduct | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusConversation:
    """The billing conversation of a status (absent since Graph API v24)."""

    id: str | None
    origin_type: str | None = None  # service | utility | marketing | authentication ...
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pricing:
    """Pricing of a status: old shape (billable, CBP) or new shape (PMP, type)."""

    billable: bool | None = None
    pricing_model: str | None = None  # CBP (per conversation) | PMP (per message)
    category: str | None = None
    type: str | None = None  # PMP: regular | free_customer_service | free_entry_point


# --------------------------------------------------------------------------- events


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookReceived:
    """A signed webhook POST, recorded verbatim before anything acts on it."""

    TYPE: ClassVar[str] = "whatsapp.webhook_received"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"body", "body_b64"})

    body: str | None  # the body as UTF-8 text; None when it is not (see body_b64)
    body_b64: str | None  # base64 of the raw bytes when they are not storable UTF-8 text
    body_sha256: str  # hex digest of the raw bytes
    content_type: str
    received_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookBodyInvalid:
    """A signed delivery whose body is not JSON or not a WhatsApp webhook."""

    TYPE: ClassVar[str] = "whatsapp.webhook_body_invalid"
    VERSION: ClassVar[int] = 1

    body_sha256: str
    reason: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived:
    """A customer's WhatsApp message reached the webhook. A fact: never rejected."""

    TYPE: ClassVar[str] = "whatsapp.message_received"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset(
        {
            "wa_id",
            "phone",
            "bsuid",
            "parent_bsuid",
            "profile_name",
            "text",
            "media",
            "location",
            "contacts",
            "interactive",
            "button",
            "order",
            "system",
            "referral",
            "context",
        }
    )

    wamid: str  # Meta's id: the natural idempotency key
    wa_id: str | None  # sender as Meta wrote it (``from``)
    phone: str | None  # E.164; None for users known only by their BSUID
    bsuid: str | None
    parent_bsuid: str | None = None
    profile_name: str | None = None
    waba_id: str | None = None
    phone_number_id: str | None = None  # our number that received it
    display_phone_number: str | None = None
    kind: str  # text | image | audio | ... | order | interactive | unsupported
    text: str | None = None  # text messages only; captions live in ``media``
    sent_at: datetime  # Meta's timestamp (the delivery time when Meta gave none)
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[JsonValue, ...] = ()  # shared contact cards, as Meta sent them
    interactive: InteractiveReply | None = None
    button: ButtonReply | None = None
    order: Order | None = None
    reaction: Reaction | None = None
    system: SystemNotice | None = None
    referral: Referral | None = None
    context: MessageContext | None = None
    unsupported_type: str | None = None  # kind "unsupported": what Meta could not show
    errors: tuple[MetaError, ...] = ()


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited:
    """The customer edited an earlier message (text, or a media caption)."""

    TYPE: ClassVar[str] = "whatsapp.message_edited"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset(
        {"wa_id", "phone", "bsuid", "profile_name", "text", "media", "context"}
    )

    wamid: str  # the edit's own id
    original_wamid: str | None
    wa_id: str | None
    phone: str | None
    bsuid: str | None
    profile_name: str | None = None
    waba_id: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    sent_at: datetime
    kind: str | None  # the edited message's type
    text: str | None = None
    media: Media | None = None
    context: MessageContext | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRevoked:
    """The customer deleted a message for everyone."""

    TYPE: ClassVar[str] = "whatsapp.message_revoked"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"wa_id", "phone", "bsuid", "profile_name"})

    wamid: str  # the revoke's own id
    original_wamid: str | None
    wa_id: str | None
    phone: str | None
    bsuid: str | None
    profile_name: str | None = None
    waba_id: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    sent_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReceived:
    """Meta reported the fate of one of our outbound messages (sent, delivered, read...)."""

    TYPE: ClassVar[str] = "whatsapp.status_received"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset(
        {"recipient_id", "phone", "bsuid", "participant_phone", "participant_bsuid"}
    )

    wamid: str  # our outbound message's id, as Meta returned it on send
    status: str  # sent | delivered | read | played | failed | ... (lower case as sent)
    recipient_id: str | None  # as Meta wrote it (a wa_id, or a group id)
    phone: str | None
    bsuid: str | None
    recipient_type: str | None = None  # "group" for group messages
    participant_phone: str | None = None  # group statuses: the member concerned
    participant_bsuid: str | None = None
    status_type: str | None = None  # "call" for call statuses
    waba_id: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    timestamp: datetime
    biz_opaque_callback_data: str | None = None  # our own outbound id, echoed back
    conversation: StatusConversation | None = None
    pricing: Pricing | None = None
    errors: tuple[MetaError, ...] = ()


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ValueErrorsReceived:
    """Meta attached errors to a whole webhook value rather than to one item."""

    TYPE: ClassVar[str] = "whatsapp.value_errors_received"
    VERSION: ClassVar[int] = 1

    field: str | None
    path: str  # e.g. ``entry[0].changes[1].value.errors``
    waba_id: str | None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    errors: tuple[MetaError, ...]


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class UserPreferencesReceived:
    """A user stopped, resumed or signed up for marketing messages."""

    TYPE: ClassVar[str] = "whatsapp.user_preferences_received"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"wa_id", "phone", "bsuid"})

    wa_id: str | None
    phone: str | None
    bsuid: str | None
    waba_id: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    category: str | None  # marketing_messages
    value: str | None  # stop | resume | signup
    detail: str | None = None
    signup_id: str | None = None
    changed_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedItemReceived:
    """A webhook item this code does not model, kept whole so a later version can read it."""

    TYPE: ClassVar[str] = "whatsapp.unsupported_item_received"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"phone", "bsuid", "raw"})

    field: str | None  # the change's field: messages, calls, account_update, ...
    path: str  # where it sat, e.g. ``entry[0].changes[1]``
    waba_id: str | None
    wamid: str | None = None  # message-like items: their id, when they have one
    phone: str | None = None  # message-like items: the customer, when known
    bsuid: str | None = None
    raw: JsonValue  # the item's JSON, verbatim
