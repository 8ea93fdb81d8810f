"""Journeys through ``/webhook`` with voice notes, photos, locations and reactions (issue 18).

Media is served by the fake Graph API from ``tests/fixtures/media``; the configured
journeys transcribe and read photos through the fake OpenAI server. The main journey runs
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.fakes.openai_server import http_error, json_reply, transcript
from adapters.ops.whatif import what_if
from events.checkout import CheckoutCompleted
from events.conversation import CartConfirmed, CartProposed, ReplyQueued
from events.media import DeliveryLocationShared, MediaFailed, MediaHandled, MediaRead
from events.whatsapp import MessageReceived
from tests.journeys.conftest import CUSTOMER, PET, body
from tests.journeys.media_support import (
    PHOTO,
    VOICE,
    Client,
    Start,
    journeys,
    location,
    media,
    reaction,
    voice,
)

pytestmark = pytest.mark.e2e
SAID = "Vorrei 2 crocchette per cane e una lettiera"
READING = {  # what the fake model answers for SAID (our catalogue ids, checked by us)
    "intent": "order_request",
    "confidence": 0.95,
    "cart": [
        {"product_id": "p-crocc-cane", "quantity": 2, "text": "crocchette per cane"},
        {"product_id": "p-lettiera", "quantity": 1, "text": "lettiera"},
    ],
    "unresolved": [],
    "products": [],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def both(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> AsyncIterator[Start]:
    """Journeys on SQLite, then on PostgreSQL."""
    async for start in journeys(request.param, tmp_path, aiohttp_client):
        yield start


@pytest.fixture
async def sqlite(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[Start]:
    """Journeys on SQLite."""
    async for start in journeys("sqlite", tmp_path, aiohttp_client):
        yield start


async def test_voice_note_cart_thumb_location_relay_configured(both: Start) -> None:
    """Voice note -> "Ho capito" + cart -> 👍 -> checkout: location as address -> relay."""
    j = await both(configured=True)
    assert j.openai is not None
    await j.say(PET, "aiuto")
    j.graph.add_media_file("m-voice", VOICE, "audio/ogg; codecs=opus")
    j.openai.enqueue(transcript(SAID), endpoint="transcriptions")
    j.openai.enqueue(json_reply(READING))
    await j.post(CUSTOMER, voice("m-voice"))
    cart = await j.next_to(CUSTOMER, 0, contains="Totale")
    assert body(cart).startswith(f"Ho capito: «{SAID}»\n\nEcco il tuo carrello")
    assert "47,70" in body(cart)
    await j.post(CUSTOMER, reaction(await j.cart_wamid(CUSTOMER), "👍"))
    await j.next_to(CUSTOMER, 1, contains="Carrello confermato")
    await j.post(CUSTOMER, location(45.4781, 9.2270, name="Casa"))
    asked = await j.next_to(CUSTOMER, 2, contains="Mi manca ancora")
    assert "Via Padova 21, Milano" in body(asked)
    await j.say(CUSTOMER, "lunedì alle 10, pago in contanti")
    await j.next_to(CUSTOMER, 3, contains="Totale con consegna")
    relayed = await j.next_to(PET, 0, contains="Nuovo ordine")
    assert "2 × Crocchette per cane adulto 3 kg" in body(relayed)
    assert "Indirizzo: Via Padova 21, Milano, Casa (posizione 45.4781, 9.227" in body(relayed)
    history = await j.settled(CUSTOMER, 4)
    [heard] = [p for p in history if isinstance(p, MediaRead)]
    assert (heard.media_id, heard.operation, heard.text) == ("m-voice", "transcription", SAID)
    assert heard.model == "gpt-transcribe"  # the default chain
    assert heard.size == VOICE.stat().st_size
    assert any(isinstance(p, CartConfirmed) for p in history)
    [place] = [p for p in history if isinstance(p, DeliveryLocationShared)]
    assert place.inside is True
    [done] = [p for p in history if isinstance(p, CheckoutCompleted)]
    assert done.address.startswith("Via Padova 21, Milano")
    [request] = j.openai.requests_to("transcriptions")
    assert request.body["languages"] == ["it"]  # the gpt-transcribe family's form
    # One budget for every call to the model server: transcription, chat and model checks.
    assert j.deps.llm_budget is not None
    assert j.deps.llm_budget.stats().granted == len(j.openai.requests)
    # Replay (what-if over the log) reads the recorded transcript: the voice note's turn is
    # decided the same way, and nothing is downloaded or transcribed again.
    fetched = [r for r in j.graph.requests if "m-voice" in r.path or "attachments" in r.path]
    report = await what_if(j.deps.store, OfflineAssistant(), load_catalog(None))
    [note] = [p.wamid for p in history if isinstance(p, MessageReceived) and p.kind == "audio"]
    assert [d for d in report.differences if note in d.wamids] == []
    assert len(j.openai.requests_to("transcriptions")) == 1
    assert [r for r in j.graph.requests if "m-voice" in r.path or "attachments" in r.path] == (
        fetched
    )


async def test_the_same_journey_offline_asks_to_write_then_goes_on(both: Start) -> None:
    """Offline: the voice note gets the honest answer; typed, the cart; ❤️; the checkout."""
    j = await both()
    await j.say(PET, "aiuto")
    j.graph.add_media_file("m-voice", VOICE, "audio/ogg; codecs=opus")
    await j.post(CUSTOMER, voice("m-voice"))
    asked = await j.next_to(CUSTOMER, 0, contains="vocale")
    assert body(asked) == (
        "Ho ricevuto il tuo vocale, ma per ora leggo solo i messaggi scritti: me lo scrivi?"
    )
    await j.say(CUSTOMER, SAID)
    await j.next_to(CUSTOMER, 1, contains="Totale")
    await j.post(CUSTOMER, reaction(await j.cart_wamid(CUSTOMER), "❤️"))
    await j.next_to(CUSTOMER, 2, contains="Carrello confermato")
    await j.post(CUSTOMER, location(45.4781, 9.2270))
    await j.next_to(CUSTOMER, 3, contains="Mi manca ancora")
    await j.say(CUSTOMER, "lunedì alle 10, pago in contanti")
    await j.next_to(CUSTOMER, 4, contains="Totale con consegna")
    relayed = await j.next_to(PET, 0, contains="Nuovo ordine")
    assert "Indirizzo: posizione 45.4781, 9.227" in body(relayed)
    history = await j.settled(CUSTOMER, 5)
    assert not any(isinstance(p, MediaRead | MediaFailed) for p in history)
    assert not [r for r in j.graph.requests if "attachments" in r.path or "m-voice" in r.path]
    assert await j.review() == []
    report = await what_if(j.deps.store, OfflineAssistant(), load_catalog(None))
    [note] = [p.wamid for p in history if isinstance(p, MessageReceived) and p.kind == "audio"]
    assert [d for d in report.differences if note in d.wamids] == []  # decided the same again


async def test_each_media_kind_gets_its_own_honest_answer_offline(sqlite: Start) -> None:
    """Audio, photo, video, document, sticker: one answer each; only the document is reviewed."""
    j = await sqlite()
    kinds = [
        ("audio", "audio/ogg", "vocale"),
        ("image", "image/jpeg", "foto"),
        ("video", "video/mp4", "video"),
        ("document", "application/pdf", "documento"),
        ("sticker", "image/webp", "scrivimelo"),
    ]
    for n, (kind, mime, word) in enumerate(kinds):
        await j.post(CUSTOMER, media(kind, f"m-{kind}", mime))
        await j.next_to(CUSTOMER, n, contains=word)
    history = await j.settled(CUSTOMER, len(kinds))
    outcomes = [(p.kind, p.outcome, p.review) for p in history if isinstance(p, MediaHandled)]
    assert outcomes == [(k, "offline", k == "document") for k, _, _ in kinds]
    assert len([p for p in history if isinstance(p, ReplyQueued)]) == len(kinds)
    [item] = await j.review()
    assert "document offline (media m-document)" in item["summary"]


async def test_a_captioned_photo_is_read_as_its_caption(sqlite: Start) -> None:
    """The caption "2 crocchette per cane" makes a cart, offline, with no download."""
    j = await sqlite()
    await j.post(CUSTOMER, media("image", "m-photo", "image/jpeg", caption="2 crocchette per cane"))
    cart = await j.next_to(CUSTOMER, 0, contains="Totale")
    assert "2 × Crocchette per cane adulto 3 kg" in body(cart)
    assert j.graph.requests == [r for r in j.graph.requests if r.path.endswith("/messages")]


async def test_a_photographed_list_is_priced_by_our_catalogue(sqlite: Start) -> None:
    """Vision reads words and quantities only; the cart is matched and priced by us."""
    j = await sqlite(configured=True)
    assert j.openai is not None
    j.graph.add_media_file("m-list", PHOTO, "image/jpeg")
    lines = [{"words": "mozzarella", "quantity": 2}, {"words": "latte", "quantity": 1}]
    j.openai.enqueue(json_reply({"is_list": True, "lines": lines}))  # the vision call
    cart = [
        {"product_id": "p-mozzarella", "quantity": 2, "text": "mozzarella"},
        {"product_id": "p-latte", "quantity": 1, "text": "latte"},
    ]
    j.openai.enqueue(json_reply(READING | {"cart": cart}))  # the understanding of the lines
    await j.post(CUSTOMER, media("image", "m-list", "image/jpeg"))
    sent = await j.next_to(CUSTOMER, 0, contains="Totale")
    assert body(sent).startswith("Dalla foto ho letto: 2 mozzarella, 1 latte\n\nEcco")
    assert "Totale: € 11,59" in body(sent)  # 2 x 4,90 + 1,79 from our catalogue
    vision, understanding = j.openai.requests_to("chat")
    assert vision.body["messages"][1]["content"][1]["type"] == "image_url"
    assert understanding.body["messages"][-1] == {
        "role": "user",
        "content": "2 mozzarella\n1 latte",
    }
    history = await j.settled(CUSTOMER, 1)
    [read] = [p for p in history if isinstance(p, MediaRead)]
    assert (read.operation, read.is_list, read.text) == ("vision", True, "2 mozzarella\n1 latte")


async def test_a_photo_that_is_not_a_list_gets_a_short_question(sqlite: Start) -> None:
    """is_list false: one short question, no cart, nothing reviewed."""
    j = await sqlite(configured=True)
    j.graph.add_media_file("m-cat", PHOTO, "image/jpeg")
    await j.post(CUSTOMER, media("image", "m-cat", "image/jpeg"))
    sent = await j.next_to(CUSTOMER, 0, contains="non mi sembra una lista")
    assert "?" in body(sent)
    history = await j.settled(CUSTOMER, 1)
    assert not any(isinstance(p, CartProposed) for p in history)
    assert await j.review() == []


async def test_a_download_failure_is_answered_once_and_reviewed(both: Start) -> None:
    """Graph API 500s through every retry: one answer, one review item with the media id."""
    j = await both(configured=True)
    j.graph.add_media_file("m-lost", VOICE, "audio/ogg")
    j.graph.fail_downloads("m-lost", 500, 500, 500)
    await j.post(CUSTOMER, voice("m-lost"))
    await j.next_to(CUSTOMER, 0, contains="Non sono riuscito ad ascoltare")
    history = await j.settled(CUSTOMER, 1)
    [failure] = [p for p in history if isinstance(p, MediaFailed)]
    assert (failure.media_id, failure.stage, failure.reason) == (
        "m-lost",
        "download",
        "unavailable",
    )
    assert len([p for p in history if isinstance(p, ReplyQueued)]) == 1
    [item] = await j.review()
    assert "m-lost" in item["summary"]
    assert item["status"] == "open"
    assert j.openai is not None
    assert j.openai.requests_to("transcriptions") == []


async def test_a_transcription_failure_is_answered_and_reviewed(sqlite: Start) -> None:
    """The model answers 500 on the whole chain: one answer, a review item, no retry loop."""
    j = await sqlite(configured=True, llm_transcription_model="whisper-1")
    assert j.openai is not None
    j.graph.add_media_file("m-voice", VOICE, "audio/ogg")
    j.openai.enqueue(http_error(500), endpoint="transcriptions")
    await j.post(CUSTOMER, voice("m-voice"))
    await j.next_to(CUSTOMER, 0, contains="Non sono riuscito ad ascoltare")
    history = await j.settled(CUSTOMER, 1)
    [failure] = [p for p in history if isinstance(p, MediaFailed)]
    assert (failure.stage, failure.reason) == ("transcription", "model")
    assert len(await j.review()) == 1


async def test_a_location_outside_the_area_is_not_taken_as_the_address(sqlite: Start) -> None:
    """In the checkout, Linate is refused and the address is still asked for."""
    j = await sqlite()
    await j.say(CUSTOMER, SAID)
    await j.next_to(CUSTOMER, 0, contains="Totale")
    await j.post(CUSTOMER, reaction(await j.cart_wamid(CUSTOMER)))
    await j.next_to(CUSTOMER, 1, contains="Carrello confermato")
    await j.post(CUSTOMER, location(45.4491, 9.2783, name="Linate"))
    refusal = await j.next_to(CUSTOMER, 2, contains="Mi dispiace")
    assert "indirizzo di consegna" in body(refusal)  # the checkout still asks for it
    history = await j.settled(CUSTOMER, 3)
    assert not any(
        getattr(p, "address", None) for p in history if type(p).__name__.startswith("Checkout")
    )


async def test_a_location_outside_the_area_is_refused(both: Start) -> None:
    """Linate, 7 km from the Duomo: refused politely with the distance; recorded as outside."""
    j = await both()
    await j.post(CUSTOMER, location(45.4491, 9.2783))
    refusal = await j.next_to(CUSTOMER, 0, contains="Mi dispiace")
    assert "7,1 km" in body(refusal)
    assert "entro 5 km" in body(refusal)
    history = await j.settled(CUSTOMER, 1)
    [place] = [p for p in history if isinstance(p, DeliveryLocationShared)]
    assert (place.inside, place.distance_m is not None and place.distance_m > 5000) == (False, True)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "mime", "answer", "reason"),
    [
        (b"\x00\x01", "audio/x-unknown", "tipo di file", "mime"),
        (b"", "audio/ogg", "vuoto", "empty"),
    ],
)
async def test_a_file_we_cannot_take_is_answered_not_reviewed(
    sqlite: Start, content: bytes, mime: str, answer: str, reason: str
) -> None:
    """Unknown MIME type, zero-byte file: answered; the fact kept; no review; no model call."""
    j = await sqlite(configured=True)
    assert j.openai is not None
    j.graph.add_media("m-bad", content, mime)
    await j.post(CUSTOMER, voice("m-bad"))
    await j.next_to(CUSTOMER, 0, contains=answer)
    history = await j.settled(CUSTOMER, 1)
    [failure] = [p for p in history if isinstance(p, MediaFailed)]
    assert failure.reason == reason
    assert [p.kind for p in history if isinstance(p, MessageReceived)] == ["audio"]
    assert await j.review() == []
    assert j.openai.requests_to("transcriptions") == []


async def test_a_media_id_that_does_not_exist_is_answered_and_reviewed(sqlite: Start) -> None:
    """Meta has no such media: the customer is asked to write, a person looks."""
    j = await sqlite(configured=True)
    await j.post(CUSTOMER, voice("m-never-uploaded"))
    await j.next_to(CUSTOMER, 0, contains="Non sono riuscito ad ascoltare")
    history = await j.settled(CUSTOMER, 1)
    [failure] = [p for p in history if isinstance(p, MediaFailed)]
    assert failure.reason == "not_found"
    [item] = await j.review()
    assert "m-never-uploaded" in item["summary"]


async def test_a_reaction_to_a_message_we_never_sent_is_recorded_and_ignored(sqlite: Start) -> None:
    """No reply, the fact kept, the turn processed, the outcome named."""
    j = await sqlite()
    await j.say(CUSTOMER, SAID)
    await j.next_to(CUSTOMER, 0, contains="Totale")
    await j.post(CUSTOMER, reaction("wamid.NEVER-SENT-BY-US"))
    history = await j.settled(CUSTOMER, 2)
    assert [p.outcome for p in history if isinstance(p, MediaHandled)] == ["unknown_message"]
    assert not any(isinstance(p, CartConfirmed) for p in history)
    assert len([p for p in history if isinstance(p, ReplyQueued)]) == 1


async def test_other_reactions_to_the_cart_do_not_confirm_it(sqlite: Start) -> None:
    """😂 on the cart message: ignored, the cart still waits."""
    j = await sqlite()
    await j.say(CUSTOMER, SAID)
    await j.next_to(CUSTOMER, 0, contains="Totale")
    await j.post(CUSTOMER, reaction(await j.cart_wamid(CUSTOMER), "😂"))
    history = await j.settled(CUSTOMER, 2)
    assert [p.outcome for p in history if isinstance(p, MediaHandled)] == ["ignored"]
    assert not any(isinstance(p, CartConfirmed) for p in history)


async def test_an_unreadable_position_in_the_checkout_is_answered_once(sqlite: Start) -> None:
    """No coordinates during the checkout: one "cannot read it" sentence, not two."""
    j = await sqlite()
    await j.say(CUSTOMER, SAID)
    await j.next_to(CUSTOMER, 0, contains="Totale")
    await j.post(CUSTOMER, reaction(await j.cart_wamid(CUSTOMER)))
    await j.next_to(CUSTOMER, 1, contains="Carrello confermato")
    await j.post(CUSTOMER, {"type": "location", "location": {"name": "Casa"}})
    answer = await j.next_to(CUSTOMER, 2, contains="Non riesco a leggere la posizione")
    assert body(answer).count("Non riesco a leggere la posizione") == 1
    history = await j.settled(CUSTOMER, 3)
    assert [p.outcome for p in history if isinstance(p, MediaHandled)][-1] == "unreadable"


async def test_the_model_watcher_also_checks_the_media_chains(sqlite: Start) -> None:
    """Configured, the transcription and vision chains are watched like the assistant's."""
    j = await sqlite(configured=True)
    await j.say(PET, "aiuto")  # the reactors (and the media step) are running
    watcher = j.deps.model_watcher
    assert watcher is not None
    assert "gpt-transcribe" in watcher.models
    assert len(watcher.chains) == 3  # LLM_MODEL, LLM_TRANSCRIPTION_MODEL, LLM_VISION_MODEL
