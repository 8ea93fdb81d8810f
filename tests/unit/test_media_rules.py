"""``core.media``: what a turn makes of voice notes, photos, locations and reactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from core import media
from core.area import parse_area
from core.conversation import ConversationState, PendingCart
from core.conversation_texts import CART_BUTTONS, CONFIRM_ID
from events.conversation import CartProposed, OutboundSent, ReplyKind, ReplyQueued
from events.media import DeliveryLocationShared, ListLine, MediaFailed, MediaHandled, MediaRead
from events.whatsapp import Location, Media, MessageReceived, Reaction

AT = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
KEY = "+393281234567"


def fact(kind: str, wamid: str = "wamid.in1", **parts: Any) -> MessageReceived:
    """An inbound message of ``kind`` with its parts."""
    return MessageReceived(
        wamid=wamid, wa_id="393281234567", phone=KEY, bsuid=None, kind=kind, sent_at=AT, **parts
    )


def voice(media_id: str = "m-1") -> MessageReceived:
    """A push-to-talk voice note."""
    return fact("audio", media=Media(id=media_id, mime_type="audio/ogg; codecs=opus", voice=True))


def photo(caption: str | None = None) -> MessageReceived:
    """A photo, with or without a caption."""
    return fact("image", media=Media(id="m-2", mime_type="image/jpeg", caption=caption))


def read(wamid: str = "wamid.in1", **over: object) -> MediaRead:
    """A recorded transcript (or, with ``operation='vision'``, a list)."""
    base: dict[str, object] = {
        "wamid": wamid,
        "media_id": "m-1",
        "kind": "audio",
        "operation": media.TRANSCRIPTION,
        "sha256": "ab" * 32,
        "mime_type": "audio/ogg",
        "size": 2048,
        "model": "gpt-4o-mini-transcribe",
        "latency_ms": 900,
        "text": "Vorrei 2 mozzarelle e un latte",
    }
    return MediaRead(**{**base, **over})  # type: ignore[arg-type]


def failed(reason: str, kind: str = "audio") -> MediaFailed:
    """A recorded failure of ``reason``."""
    return MediaFailed(
        wamid="wamid.in1", media_id="m-1", kind=kind, stage="download", reason=reason, error="x"
    )


def around(
    state: ConversationState | None = None, history: Sequence[object] = ()
) -> media.Surroundings:
    """Surroundings without a delivery area."""
    return media.Surroundings(state=state or ConversationState(key=KEY), history=tuple(history))


def handled(turn: media.MediaTurn) -> list[tuple[str, str, bool]]:
    """(kind, outcome, review) of the turn's MediaHandled notes."""
    return [(n.kind, n.outcome, n.review) for n in turn.notes if isinstance(n, MediaHandled)]


def test_a_transcript_becomes_the_message_text_and_is_quoted_back() -> None:
    """The voice note reads as typed text; the lead says what was understood."""
    turn = media.prepare([voice()], {"wamid.in1": read()}, around())
    assert [m.text for m in turn.messages] == ["Vorrei 2 mozzarelle e un latte"]
    assert turn.lead == "Ho capito: «Vorrei 2 mozzarelle e un latte»"
    assert handled(turn) == [("audio", "transcribed", False)]


def test_a_voice_note_without_a_reading_gets_the_honest_offline_answer() -> None:
    """Offline: no text, the lead asks to write, nobody needs to look."""
    turn = media.prepare([voice()], {}, around())
    assert [m.text for m in turn.messages] == [None]
    assert turn.lead is not None
    assert "vocale" in turn.lead
    assert "scrivi" in turn.lead
    assert handled(turn) == [("audio", "offline", False)]


@pytest.mark.parametrize("kind", ["image", "video", "sticker"])
def test_other_media_offline_are_answered_without_review(kind: str) -> None:
    """Photos, videos and stickers get their own answer and no review item."""
    turn = media.prepare([fact(kind, media=Media(id="m-9"))], {}, around())
    assert turn.lead
    assert turn.lead != media.prepare([voice()], {}, around()).lead
    assert handled(turn) == [(kind, "offline", False)]


def test_a_document_is_answered_and_put_before_a_person() -> None:
    """A document (a prescription, an invoice) is the one kind a person should read."""
    turn = media.prepare([fact("document", media=Media(id="m-9"))], {}, around())
    assert turn.lead
    assert "operatore" in turn.lead
    assert handled(turn) == [("document", "offline", True)]


def test_a_caption_is_read_as_text_without_a_model() -> None:
    """A captioned photo is its caption, and needs no vision call."""
    message = photo("lista della spesa: 2 uova")
    turn = media.prepare([message], {}, around())
    assert [m.text for m in turn.messages] == ["lista della spesa: 2 uova"]
    assert media.needs_reading(message) is None
    assert turn.lead is None


def test_what_needs_a_model() -> None:
    """Audio needs a transcription, an uncaptioned photo a vision call, text nothing."""
    assert media.needs_reading(voice()) == media.TRANSCRIPTION
    assert media.needs_reading(photo()) == media.VISION
    assert media.needs_reading(fact("text", text="ciao")) is None
    assert media.needs_reading(fact("audio", media=Media(id=None))) is None


def test_a_photographed_list_becomes_its_lines_as_text() -> None:
    """Vision lines become '2 mozzarella' lines; the lead repeats them."""
    lines = (ListLine(words="mozzarella", quantity=2), ListLine(words="latte", quantity=1))
    reading = read(
        kind="image",
        operation=media.VISION,
        text="2 mozzarella\n1 latte",
        is_list=True,
        lines=lines,
    )
    turn = media.prepare([photo()], {"wamid.in1": reading}, around())
    assert [m.text for m in turn.messages] == ["2 mozzarella\n1 latte"]
    assert turn.lead == "Dalla foto ho letto: 2 mozzarella, 1 latte"
    assert handled(turn) == [("image", "list_read", False)]


def test_a_photo_that_is_no_list_gets_a_short_question() -> None:
    """is_list False: no text, the lead asks what the customer needs."""
    reading = read(kind="image", operation=media.VISION, text="", is_list=False)
    turn = media.prepare([photo()], {"wamid.in1": reading}, around())
    assert turn.lead is not None
    assert turn.lead.endswith("Scrivimelo pure.")
    assert handled(turn) == [("image", "not_a_list", False)]


@pytest.mark.parametrize(
    ("reason", "review"),
    [
        ("unavailable", True),
        ("not_found", True),
        ("model", True),
        ("expired", True),
        ("mime", False),
        ("empty", False),
        ("too_large", False),
        ("silence", False),
    ],
)
def test_failures_are_reviewed_unless_the_file_itself_was_refused(
    reason: str, review: bool
) -> None:
    """Download or model failures go to review with their detail; refusals are only answered."""
    turn = media.prepare([voice()], {"wamid.in1": failed(reason)}, around())
    [note] = [n for n in turn.notes if isinstance(n, MediaHandled)]
    assert (note.outcome, note.review, note.media_id) == (
        "failed" if review else "refused",
        review,
        "m-1",
    )
    assert (note.detail is not None) is review
    assert turn.lead


def test_a_failure_answer_says_a_person_was_told() -> None:
    """The customer learns a person will look, not only that it failed."""
    turn = media.prepare([voice()], {"wamid.in1": failed("unavailable")}, around())
    assert turn.lead is not None
    assert "operatore" in turn.lead


# --------------------------------------------------------------------------- reactions


def cart_history(wamid: str = "wamid.CART") -> tuple[ConversationState, list[object]]:
    """A conversation waiting for confirmation of cart c1, sent as ``wamid``."""
    history: list[object] = [
        CartProposed(cart_id="c1", lines=(), total=Decimal("0"), wamids=("wamid.in0",)),
        ReplyQueued(
            outbound_id="o1", to=KEY, kind=ReplyKind.BUTTONS, text="...", buttons=CART_BUTTONS
        ),
        OutboundSent(outbound_id="o1", wamid=wamid),
    ]
    state = ConversationState(
        key=KEY, pending_cart=PendingCart(cart_id="c1", lines=(), total=Decimal("0"))
    )
    return state, history


def reaction(to: str, emoji: str | None = "👍") -> MessageReceived:
    """A reaction to message ``to``."""
    return fact("reaction", wamid="wamid.r1", reaction=Reaction(message_id=to, emoji=emoji))


@pytest.mark.parametrize("emoji", ["👍", "❤️", "❤", "👌", "👍🏽"])
def test_a_yes_reaction_to_the_cart_message_is_the_confirm_button(emoji: str) -> None:
    """👍 ❤️ 👌 (any skin tone) on the current cart message confirm it."""
    state, history = cart_history()
    turn = media.prepare([reaction("wamid.CART", emoji)], {}, around(state, history))
    assert [(m.button_id, m.text) for m in turn.messages] == [(CONFIRM_ID, None)]
    assert handled(turn) == [("reaction", "confirmed", False)]


@pytest.mark.parametrize("emoji", ["😂", "👎", None])
def test_other_emoji_on_the_cart_are_recorded_and_ignored(emoji: str | None) -> None:
    """Any other emoji, or a removed reaction, does nothing."""
    state, history = cart_history()
    turn = media.prepare([reaction("wamid.CART", emoji)], {}, around(state, history))
    assert turn.messages == ()
    assert handled(turn) == [("reaction", "ignored", False)]


def test_a_thumb_on_an_older_message_is_ignored() -> None:
    """A 👍 on another of our messages is not a confirmation."""
    state, history = cart_history()
    history += [OutboundSent(outbound_id="o0", wamid="wamid.OLD")]
    turn = media.prepare([reaction("wamid.OLD")], {}, around(state, history))
    assert (turn.messages, handled(turn)) == ((), [("reaction", "ignored", False)])


def test_a_reaction_to_a_message_we_never_sent_is_marked_unknown() -> None:
    """A wamid we never sent: recorded as unknown_message, nothing else."""
    state, history = cart_history()
    turn = media.prepare([reaction("wamid.NEVER")], {}, around(state, history))
    assert (turn.messages, turn.lead) == ((), None)
    assert handled(turn) == [("reaction", "unknown_message", False)]


def test_a_thumb_without_a_pending_cart_confirms_nothing() -> None:
    """After the cart closed, the same 👍 is ignored."""
    _, history = cart_history()
    turn = media.prepare([reaction("wamid.CART")], {}, around(ConversationState(key=KEY), history))
    assert handled(turn) == [("reaction", "ignored", False)]


# --------------------------------------------------------------------------- locations


def place(lat: str, lon: str, name: str | None = None) -> MessageReceived:
    """A shared location."""
    return fact(
        "location", location=Location(latitude=Decimal(lat), longitude=Decimal(lon), name=name)
    )


def in_area(state: ConversationState | None = None) -> media.Surroundings:
    """Surroundings with 5 km around the Duomo."""
    return media.Surroundings(
        state=state or ConversationState(key=KEY),
        history=(),
        area=parse_area("45.4642,9.1900,5km"),
        zones="Milano centro",
    )


def test_a_location_inside_the_area_is_taken_for_the_delivery() -> None:
    """Inside: recorded with its distance, passed on to the checkout, thanked if alone."""
    turn = media.prepare([place("45.4781", "9.2270", name="Casa")], {}, in_area())
    [shared] = [n for n in turn.notes if isinstance(n, DeliveryLocationShared)]
    assert (shared.inside, shared.name) == (True, "Casa")
    assert shared.distance_m is not None
    assert 3000 < shared.distance_m < 3300
    [message] = turn.messages
    assert message.location is not None  # the checkout reads it as the address
    assert turn.lead is None  # the checkout's own answer needs no preface
    assert turn.alone is not None
    assert "(Casa)" in turn.alone
    assert handled(turn) == [("location", "inside_area", False)]


def test_a_location_outside_the_area_is_refused_politely() -> None:
    """Linate, 7 km away: refused, saying how far and the radius."""
    turn = media.prepare([place("45.4491", "9.2783")], {}, in_area())
    [shared] = [n for n in turn.notes if isinstance(n, DeliveryLocationShared)]
    assert shared.inside is False
    assert turn.lead is not None
    assert "Mi dispiace" in turn.lead
    assert "entro 5 km" in turn.lead
    assert "7,1 km" in turn.lead
    assert turn.alone == turn.lead
    assert [m.location for m in turn.messages] == [None]  # never the checkout's address
    assert handled(turn) == [("location", "outside_area", False)]


def test_without_an_area_every_location_is_taken() -> None:
    """No DLOOP_DELIVERY_AREA: no verdict, the position is still recorded."""
    turn = media.prepare([place("41.9010", "12.5016")], {}, around())
    [shared] = [n for n in turn.notes if isinstance(n, DeliveryLocationShared)]
    assert (shared.inside, shared.distance_m) == (None, None)
    assert handled(turn) == [("location", "no_area", False)]


def test_a_location_without_coordinates_asks_for_the_address() -> None:
    """Coordinates missing: nothing recorded but the outcome, and a question."""
    turn = media.prepare(
        [fact("location", location=Location(latitude=None, longitude=None))], {}, in_area()
    )
    assert handled(turn) == [("location", "unreadable", False)]
    assert turn.lead is None  # during the checkout, its own question says it
    assert turn.alone is not None
    assert "indirizzo" in turn.alone


# --------------------------------------------------------------------------- leads


def test_the_lead_opens_the_first_bot_reply_only() -> None:
    """lead_with prefixes the first reply; later ones and other events are untouched."""
    first = ReplyQueued(outbound_id="a", to=KEY, kind=ReplyKind.TEXT, text="Ecco il carrello")
    second = ReplyQueued(outbound_id="b", to=KEY, kind=ReplyKind.TEXT, text="Altro")
    assert media.lead_with([first], "Ecco") == [first]  # already opens with it: as is
    out = media.lead_with(["x", first, second], "Ho capito: «ciao»")
    assert out[1].text == "Ho capito: «ciao»\n\nEcco il carrello"  # type: ignore[attr-defined]
    assert out[2] is second
    assert out[0] == "x"
    assert media.lead_with([first], None) == [first]


def test_text_messages_pass_through_untouched() -> None:
    """A plain text turn is the same turn, with no notes."""
    turn = media.prepare([fact("text", text="ciao")], {}, around())
    assert ([m.text for m in turn.messages], turn.notes, turn.lead) == (["ciao"], (), None)
