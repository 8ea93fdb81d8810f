"""What a turn makes of voice notes, photos, other media, locations and reactions.

The shell reads media first (download and model call, recorded as ``MediaRead`` or
``MediaFailed``); :func:`prepare` then turns the turn's facts and those recorded readings
into the messages the conversation rules read, exactly as if typed: a transcript or a
photographed list becomes the message's text, a 👍 / ❤️ / 👌 on the current cart message
becomes the Confermo button, other reactions are dropped. It also returns the events that
say how each item was treated (``MediaHandled``, ``DeliveryLocationShared``) and the
*lead*: the sentence that opens the reply ("Ho capito: «...»"), or the whole reply when
nothing readable is left (the honest offline answer per kind). Pure: replay gives the
same result from the same recorded readings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from core import media_texts as texts
from core.area import DeliveryArea, distance_m
from core.conversation import ConversationState, TurnMessage
from core.conversation_texts import CONFIRM_ID
from events.conversation import CartProposed, OutboundSent, ReplyQueued, Sender
from events.media import DeliveryLocationShared, MediaFailed, MediaHandled, MediaRead
from events.outbox import OutboundReconciled
from events.whatsapp import MessageReceived

TRANSCRIPTION, VISION = "transcription", "vision"
CONFIRM_EMOJI = frozenset({"👍", "❤", "👌"})
MEDIA_KINDS = frozenset({"audio", "image", "video", "document", "sticker"})
REFUSALS = frozenset({"mime", "too_large", "empty", "silence"})  # the customer's file, not us
_MODIFIERS = {0xFE0F, 0xFE0E, *range(0x1F3FB, 0x1F400)}  # variation selectors, skin tones

Reading = MediaRead | MediaFailed


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaTurn:
    """The turn as the conversation rules read it, and what the media part adds."""

    messages: tuple[TurnMessage, ...]  # empty when only ignored reactions came
    notes: tuple[object, ...]  # MediaHandled / DeliveryLocationShared events
    lead: str | None  # opens whatever the rules answer (see :func:`lead_with`)
    alone: str | None = None  # the answer when the rules have none better (no text left)


@dataclass(frozen=True, slots=True, kw_only=True)
class Surroundings:
    """What else :func:`prepare` reads: the conversation, its past events, the area."""

    state: ConversationState
    history: Sequence[object]  # the stream's payloads so far
    area: DeliveryArea | None = None
    zones: str | None = None  # the delivery zones' name, for the refusal


def needs_reading(message: MessageReceived) -> str | None:
    """The model call a message needs (``transcription``, ``vision``), or None."""
    media = message.media
    if media is None or not media.id:
        return None
    if message.kind == "audio":
        return TRANSCRIPTION
    if message.kind == "image" and not (media.caption or "").strip():
        return VISION
    return None


def prepare(
    facts: Sequence[MessageReceived], readings: Mapping[str, Reading], around: Surroundings
) -> MediaTurn:
    """Rewrite the turn's facts with the recorded ``readings`` (keyed by wamid)."""
    messages: list[TurnMessage] = []
    notes: list[object] = []
    leads: list[str] = []
    thanks: list[str] = []  # said only when nothing else answers (a position taken)
    for fact in facts:
        message, handled, lead = _one(fact, readings.get(fact.wamid), around)
        if message is not None:
            messages.append(message)
        notes.extend(handled)
        if lead:
            (thanks if _checkout_answers(handled) else leads).append(lead)
    return MediaTurn(
        messages=tuple(messages),
        notes=tuple(notes),
        lead="\n".join(leads) or None,
        alone="\n".join(leads + thanks) or None,
    )


_CHECKOUT_OUTCOMES = frozenset({"inside_area", "no_area", "unreadable"})


def _checkout_answers(handled: list[object]) -> bool:
    """A position the checkout reads itself (taken, or unreadable): said only when alone."""
    return any(isinstance(n, MediaHandled) and n.outcome in _CHECKOUT_OUTCOMES for n in handled)


def recorded_readings(history: Iterable[object]) -> dict[str, Reading]:
    """The readings already recorded in a stream (its events or their payloads), by wamid."""
    out: dict[str, Reading] = {}
    for item in history:
        payload = getattr(item, "payload", item)
        if isinstance(payload, MediaRead | MediaFailed):
            out[payload.wamid] = payload
    return out


def lead_with(decisions: Iterable[object], lead: str | None) -> list[object]:
    """``decisions`` with ``lead`` opening the bot's first reply.

    Unchanged without a lead, or when that reply already opens with it (it was the
    whole answer, given through ``TurnContext.media_reply``).
    """
    out = list(decisions)
    if not lead:
        return out
    for i, item in enumerate(out):
        if isinstance(item, ReplyQueued) and item.sender is Sender.BOT and item.text:
            if not item.text.startswith(lead):
                out[i] = replace(item, text=f"{lead}\n\n{item.text}")
            break
    return out


_Result = tuple[TurnMessage | None, list[object], str | None]


def _one(fact: MessageReceived, reading: Reading | None, around: Surroundings) -> _Result:
    if fact.kind == "reaction":
        return _reaction(fact, around)
    if fact.kind == "location":
        return _location(fact, around)
    if fact.kind not in MEDIA_KINDS:
        return TurnMessage.from_fact(fact), [], None
    plain = TurnMessage.from_fact(fact)
    media_id = fact.media.id if fact.media is not None else None
    if plain.text:  # a caption is read as text
        return plain, [_handled(fact, "caption", media_id)], None
    if isinstance(reading, MediaRead):
        return _read(fact, plain, reading)
    if isinstance(reading, MediaFailed):
        review = reading.reason not in REFUSALS
        detail = f"{reading.stage} {reading.reason}: {reading.error}"[:500]
        outcome = "failed" if review else "refused"
        lead = texts.FAILED.get(fact.kind) if review else texts.REFUSED.get(reading.reason)
        handled = _handled(fact, outcome, media_id, review=review, detail=detail)
        return plain, [handled], lead or texts.OFFLINE.get(fact.kind)
    review = fact.kind == "document"  # a prescription or an invoice: a person reads it
    handled = _handled(fact, "offline", media_id, review=review, detail="no reader for documents")
    return plain, [handled], texts.OFFLINE.get(fact.kind)


def _read(fact: MessageReceived, plain: TurnMessage, reading: MediaRead) -> _Result:
    if reading.operation == TRANSCRIPTION:
        heard = reading.text.strip()
        message = replace(plain, text=heard)
        return message, [_handled(fact, "transcribed", reading.media_id)], texts.heard(heard)
    if reading.is_list and reading.lines:
        pairs = tuple((line.words, line.quantity) for line in reading.lines)
        message = replace(plain, text=reading.text)
        return message, [_handled(fact, "list_read", reading.media_id)], texts.list_read(pairs)
    return plain, [_handled(fact, "not_a_list", reading.media_id)], texts.NOT_A_LIST


def _handled(
    fact: MessageReceived,
    outcome: str,
    media_id: str | None = None,
    *,
    review: bool = False,
    detail: str | None = None,
) -> MediaHandled:
    return MediaHandled(
        wamid=fact.wamid,
        kind=fact.kind,
        outcome=outcome,
        media_id=media_id,
        review=review,
        detail=detail if review else None,
    )


def _reaction(fact: MessageReceived, around: Surroundings) -> _Result:
    reaction = fact.reaction
    target = reaction.message_id if reaction is not None else None
    cart = around.state.pending_cart
    current = cart_message_wamid(around.history, cart.cart_id) if cart is not None else None
    if target is not None and target == current and confirms(reaction.emoji if reaction else None):
        message = TurnMessage(
            wamid=fact.wamid, kind="reaction", text=None, button_id=CONFIRM_ID, sent_at=fact.sent_at
        )
        return message, [_handled(fact, "confirmed")], None
    known = target is not None and target in sent_wamids(around.history)
    return None, [_handled(fact, "ignored" if known else "unknown_message")], None


def confirms(emoji: str | None) -> bool:
    """True for 👍, ❤️ or 👌 (any skin tone, with or without the emoji presentation mark)."""
    if not emoji:
        return False
    bare = "".join(ch for ch in emoji if ord(ch) not in _MODIFIERS)
    return bare in CONFIRM_EMOJI


def cart_message_wamid(history: Sequence[object], cart_id: str) -> str | None:
    """Meta's id of the message that proposed cart ``cart_id`` (None until it was sent)."""
    outbound: str | None = None
    proposed = False
    for item in history:
        if isinstance(item, CartProposed):
            proposed, outbound = item.cart_id == cart_id, None
        elif proposed and outbound is None and isinstance(item, ReplyQueued):
            if any(b.id == CONFIRM_ID for b in item.buttons):
                outbound = item.outbound_id
        elif isinstance(item, OutboundSent | OutboundReconciled) and item.outbound_id == outbound:
            return item.wamid
    return None


def sent_wamids(history: Sequence[object]) -> frozenset[str]:
    """Meta's ids of every message we sent in this conversation."""
    return frozenset(
        item.wamid for item in history if isinstance(item, OutboundSent | OutboundReconciled)
    )


def _location(fact: MessageReceived, around: Surroundings) -> _Result:
    place, plain = fact.location, TurnMessage.from_fact(fact)
    if place is None or place.latitude is None or place.longitude is None:
        return plain, [_handled(fact, "unreadable")], texts.NO_POSITION
    label = place.name or place.address
    shared = DeliveryLocationShared(
        wamid=fact.wamid,
        latitude=str(place.latitude),
        longitude=str(place.longitude),
        name=place.name,
        address=place.address,
    )
    area = around.area
    if area is None:
        return plain, [shared, _handled(fact, "no_area")], texts.location_inside(label)
    metres = round(
        distance_m(area.latitude, area.longitude, float(place.latitude), float(place.longitude))
    )
    inside = metres <= area.radius_m
    shared = replace(shared, inside=inside, distance_m=metres)
    if inside:
        return plain, [shared, _handled(fact, "inside_area")], texts.location_inside(label)
    lead = texts.location_outside(area, metres, around.zones)
    # Not the checkout's address: the turn goes on without the position.
    return replace(plain, location=None), [shared, _handled(fact, "outside_area")], lead
