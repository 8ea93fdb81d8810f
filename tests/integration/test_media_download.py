"""Media download, transcription and list reading over real HTTP to the local fakes.

The Graph API half runs :class:`~adapters.meta.media.MediaDownloader` through the real
:class:`~adapters.meta.graph.GraphMessenger` against the fake Graph API (Meta's JSON,
expired URLs, oversized and empty files, unknown ids); the model half runs
:class:`Transcriber` and :class:`ListReader` through the ``openai`` SDK against the fake
OpenAI server (scripted answers, errors, timeouts, model fallback).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.openai_assistant import build_openai_client
from adapters.assistant.transcribe import Transcriber
from adapters.assistant.vision import ListReader
from adapters.fakes.graph_api import FakeGraphApi
from adapters.fakes.openai_server import FakeOpenAI, http_error, json_reply, slow, transcript
from adapters.meta.graph import GraphMessenger
from adapters.meta.media import MediaDownloader, MediaError, MediaLimits
from core.ports import AssistantError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "media"
VOICE = FIXTURES / "voice.ogg"
PHOTO = FIXTURES / "list.jpg"
Graph = tuple[FakeGraphApi, GraphMessenger]


async def _no_wait(_seconds: float) -> None:
    """Retries without sleeping (the policy's delays are tested in the outbox suite)."""


def downloader(
    messenger: GraphMessenger, *, audio_bytes: int = 16 << 20, image_bytes: int = 5 << 20
) -> MediaDownloader:
    """A downloader with no backoff waits and the given caps."""
    limits = MediaLimits(audio_bytes=audio_bytes, image_bytes=image_bytes)
    return MediaDownloader(messenger, limits, sleep=_no_wait, jitter=lambda: 0.0)


async def test_a_voice_note_is_downloaded_with_its_hash_type_and_size(graph_client: Graph) -> None:
    """GET /{media-id}, then the bytes with the token; Meta's SHA-256 is checked."""
    fake, messenger = graph_client
    fake.add_media_file("m-voice", VOICE, "audio/ogg; codecs=opus")
    got = await downloader(messenger).download("m-voice", "audio")
    content = VOICE.read_bytes()
    assert (got.content, got.size, got.mime_type) == (content, len(content), "audio/ogg")
    assert got.sha256 == hashlib.sha256(content).hexdigest()
    [lookup, fetch] = fake.requests
    assert lookup.path.endswith("/m-voice")
    assert fetch.path == "/whatsapp_business/attachments/"
    assert fetch.headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_an_expired_url_is_looked_up_again(graph_client: Graph) -> None:
    """A 404 on the download (the URL expired) fetches a new URL once and succeeds."""
    fake, messenger = graph_client
    fake.add_media_file("m-voice", VOICE, "audio/ogg")
    fake.fail_downloads("m-voice", 404)
    got = await downloader(messenger).download("m-voice", "audio")
    assert got.size == VOICE.stat().st_size
    assert [r.path.rsplit("/", 1)[-1] for r in fake.requests] == ["m-voice", "", "m-voice", ""]


async def test_a_url_that_expires_twice_fails_as_expired(graph_client: Graph) -> None:
    """Two 404s in a row: reason ``expired``, no third look-up."""
    fake, messenger = graph_client
    fake.add_media_file("m-voice", VOICE, "audio/ogg")
    fake.fail_downloads("m-voice", 404, 404)
    with pytest.raises(MediaError) as caught:
        await downloader(messenger).download("m-voice", "audio")
    assert caught.value.reason == "expired"
    assert len(fake.requests) == 4


async def test_server_errors_are_retried_then_given_up(graph_client: Graph) -> None:
    """5xx is transient: three attempts in all, then ``unavailable``."""
    fake, messenger = graph_client
    fake.add_media_file("m-voice", VOICE, "audio/ogg")
    fake.fail_downloads("m-voice", 500, 500, 500)
    with pytest.raises(MediaError) as caught:
        await downloader(messenger).download("m-voice", "audio")
    assert caught.value.reason == "unavailable"
    assert sum(r.path.startswith("/whatsapp_business") for r in fake.requests) == 3


async def test_a_stalled_download_times_out_and_is_retried(graph_client: Graph) -> None:
    """A download slower than the client's timeout is a read: retried, then it arrives."""
    fake, messenger = graph_client  # the messenger's timeout is 0.5 s
    fake.add_media_file("m-voice", VOICE, "audio/ogg")
    fake.fail_downloads("m-voice", 0)
    got = await downloader(messenger).download("m-voice", "audio")
    assert got.size == VOICE.stat().st_size
    assert sum(r.path.startswith("/whatsapp_business") for r in fake.requests) == 2


async def test_one_server_error_is_retried_and_succeeds(graph_client: Graph) -> None:
    """A single 503 costs one retry, then the bytes arrive."""
    fake, messenger = graph_client
    fake.add_media_file("m-voice", VOICE, "audio/ogg")
    fake.fail_downloads("m-voice", 503)
    assert (await downloader(messenger).download("m-voice", "audio")).size > 0


async def test_a_media_id_that_does_not_exist_is_not_found(graph_client: Graph) -> None:
    """Meta's error 100 on the look-up: ``not_found`` at once, no retry."""
    fake, messenger = graph_client
    with pytest.raises(MediaError) as caught:
        await downloader(messenger).download("m-nope", "audio")
    assert caught.value.reason == "not_found"
    assert len(fake.requests) == 1


async def test_an_unknown_mime_type_is_refused_before_any_byte(graph_client: Graph) -> None:
    """audio/x-unknown is not on the allow-list: refused after the look-up only."""
    fake, messenger = graph_client
    fake.add_media("m-odd", b"bytes", "audio/x-unknown")
    with pytest.raises(MediaError) as caught:
        await downloader(messenger).download("m-odd", "audio")
    assert caught.value.reason == "mime"
    assert len(fake.requests) == 1


async def test_a_zero_byte_file_is_refused_as_empty(graph_client: Graph) -> None:
    """file_size 0: ``empty``, nothing downloaded."""
    fake, messenger = graph_client
    fake.add_media("m-empty", b"", "audio/ogg")
    with pytest.raises(MediaError) as caught:
        await downloader(messenger).download("m-empty", "audio")
    assert caught.value.reason == "empty"
    assert len(fake.requests) == 1


async def test_an_oversized_file_is_refused_by_its_announced_size(graph_client: Graph) -> None:
    """A photo over the image cap: ``too_large`` before the download."""
    fake, messenger = graph_client
    fake.add_media("m-big", b"\xff\xd8" + b"x" * 4096, "image/jpeg")
    with pytest.raises(MediaError) as caught:
        await downloader(messenger, image_bytes=4096).download("m-big", "image")
    assert caught.value.reason == "too_large"
    assert len(fake.requests) == 1


async def test_the_caps_are_per_kind(graph_client: Graph) -> None:
    """The same 5 KiB passes as audio (cap 16 KiB) and fails as an image (cap 4 KiB)."""
    fake, messenger = graph_client
    fake.add_media("m-a", b"a" * 5120, "audio/ogg")
    fake.add_media("m-i", b"i" * 5120, "image/png")
    reader = downloader(messenger, audio_bytes=16384, image_bytes=4096)
    assert (await reader.download("m-a", "audio")).size == 5120
    with pytest.raises(MediaError):
        await reader.download("m-i", "image")


# --------------------------------------------------------------------------- models


def client_for(fake: FakeOpenAI, timeout: float = 5.0, http: str = "httpx") -> AsyncOpenAI:
    """The SDK client, no SDK retries (the chain is what is under test)."""
    return build_openai_client(
        api_key="sk-test", base_url=fake.base_url, timeout=timeout, max_retries=0, http=http
    )


async def test_a_transcription_is_asked_in_italian_with_the_file(fake_openai: FakeOpenAI) -> None:
    """Multipart with model, language it and the audio; the answer's text comes back."""
    fake_openai.enqueue(transcript("Vorrei due mozzarelle"), endpoint="transcriptions")
    answer = await Transcriber(client_for(fake_openai), ["gpt-4o-mini-transcribe"]).transcribe(
        VOICE.read_bytes(), "audio/ogg"
    )
    assert (answer.text, answer.model) == ("Vorrei due mozzarelle", "gpt-4o-mini-transcribe")
    [request] = fake_openai.requests_to("transcriptions")
    assert (request.body["model"], request.body["language"]) == ("gpt-4o-mini-transcribe", "it")
    assert request.body["file_sha256"] == hashlib.sha256(VOICE.read_bytes()).hexdigest()
    assert request.body["filename"] == "voice.ogg"


async def test_the_gpt_transcribe_family_is_given_the_languages_list(
    fake_openai: FakeOpenAI,
) -> None:
    """``gpt-transcribe`` takes ``languages`` (a list) and never the legacy ``language`` too."""
    fake_openai.enqueue(transcript("Vorrei due mozzarelle"), endpoint="transcriptions")
    answer = await Transcriber(client_for(fake_openai), ["gpt-transcribe"]).transcribe(
        VOICE.read_bytes(), "audio/ogg"
    )
    assert (answer.text, answer.model) == ("Vorrei due mozzarelle", "gpt-transcribe")
    [request] = fake_openai.requests_to("transcriptions")
    assert request.body["languages"] == ["it"]
    assert "language" not in request.body


async def test_a_missing_model_falls_back_to_the_next_of_the_chain(fake_openai: FakeOpenAI) -> None:
    """A 404 "model not found" on the first model: the second answers and is named."""
    fake_openai.enqueue(http_error(404), transcript("ciao"), endpoint="transcriptions")
    answer = await Transcriber(client_for(fake_openai), ["m1", "whisper-1"]).transcribe(
        b"x", "audio/ogg"
    )
    assert (answer.text, answer.model) == ("ciao", "whisper-1")
    assert [r.body["model"] for r in fake_openai.requests_to("transcriptions")] == [
        "m1",
        "whisper-1",
    ]


async def test_a_server_error_does_not_fall_through_the_chain(fake_openai: FakeOpenAI) -> None:
    """A 500 would be the same for every model: one request, then an AssistantError."""
    fake_openai.enqueue(http_error(500), transcript("ciao"), endpoint="transcriptions")
    with pytest.raises(AssistantError, match="HTTP 500"):
        await Transcriber(client_for(fake_openai), ["m1", "m2"]).transcribe(b"x", "audio/ogg")
    assert len(fake_openai.requests_to("transcriptions")) == 1


@pytest.mark.parametrize("http", ["aiohttp", "httpx"])
async def test_a_transcription_timeout_is_an_assistant_error(
    fake_openai: FakeOpenAI, http: str
) -> None:
    """Slower than the client's timeout, on either transport: AssistantError naming it."""
    fake_openai.enqueue(slow(2.0), endpoint="transcriptions")
    client = client_for(fake_openai, timeout=0.3, http=http)
    try:
        with pytest.raises(AssistantError, match="timed out"):
            await Transcriber(client, ["m1"]).transcribe(b"x", "audio/ogg")
    finally:
        await client.close()


async def test_a_photo_goes_as_image_input_with_the_strict_list_schema(
    fake_openai: FakeOpenAI,
) -> None:
    """The image is a data URL in the user message; the schema is strict; lines come back."""
    reading = {
        "is_list": True,
        "lines": [{"words": "mozzarella", "quantity": 2}, {"words": " latte ", "quantity": 0}],
    }
    fake_openai.enqueue(json_reply(reading))
    answer = await ListReader(client_for(fake_openai), ["gpt-4o-mini"]).read(
        PHOTO.read_bytes(), "image/jpeg"
    )
    assert (answer.is_list, answer.lines) == (True, (("mozzarella", 2), ("latte", 1)))
    assert answer.text == "2 mozzarella\n1 latte"
    [request] = fake_openai.requests_to("chat")
    fmt = request.body["response_format"]["json_schema"]
    assert fmt["strict"] is True
    assert fmt["schema"]["additionalProperties"] is False
    image = request.body["messages"][1]["content"][1]["image_url"]["url"]
    assert image.startswith("data:image/jpeg;base64,")
    assert "prezz" not in json.dumps(answer.lines)


async def test_an_answer_off_the_schema_is_an_assistant_error(fake_openai: FakeOpenAI) -> None:
    """A body that does not fit the schema is refused, never half-read."""
    fake_openai.enqueue(json_reply({"lines": "two mozzarellas"}))
    with pytest.raises(AssistantError, match="schema"):
        await ListReader(client_for(fake_openai), ["gpt-4o-mini"]).read(b"x", "image/png")


async def test_by_default_the_fake_sees_no_list(fake_openai: FakeOpenAI) -> None:
    """Unscripted, the fake answers the simplest schema object: not a list."""
    answer = await ListReader(client_for(fake_openai), ["gpt-4o-mini"]).read(b"x", "image/png")
    assert (answer.is_list, answer.lines, answer.text) == (False, (), "")


@pytest.mark.parametrize("http", ["aiohttp", "httpx"])
async def test_media_readings_draw_from_the_shared_budget_on_either_transport(
    fake_openai: FakeOpenAI, http: str
) -> None:
    """A voice note and a photo through the service's client: whole uploads, one grant each."""
    client = client_for(fake_openai, http=http)
    budget = RequestBudget(per_minute=10)
    fake_openai.enqueue(transcript("Vorrei due mozzarelle"), endpoint="transcriptions")
    fake_openai.enqueue(json_reply({"is_list": True, "lines": [{"words": "latte", "quantity": 2}]}))
    try:
        heard = await Transcriber(client, ["m1"], budget).transcribe(
            VOICE.read_bytes(), "audio/ogg"
        )
        seen = await ListReader(client, ["m1"], budget).read(PHOTO.read_bytes(), "image/jpeg")
    finally:
        await client.close()
    assert (heard.text, seen.text) == ("Vorrei due mozzarelle", "2 latte")
    [upload] = fake_openai.requests_to("transcriptions")
    assert upload.body["file_sha256"] == hashlib.sha256(VOICE.read_bytes()).hexdigest()
    assert budget.stats().granted == 2


async def test_each_model_of_a_fall_through_draws_from_the_budget(fake_openai: FakeOpenAI) -> None:
    """A 404 on the first model, an answer from the second: two requests, two grants."""
    budget = RequestBudget(per_minute=10)
    fake_openai.enqueue(http_error(404), transcript("ciao"), endpoint="transcriptions")
    await Transcriber(client_for(fake_openai), ["m1", "m2"], budget).transcribe(b"x", "audio/ogg")
    assert budget.stats().granted == len(fake_openai.requests_to("transcriptions")) == 2


async def test_a_spent_budget_fails_the_reading_without_a_request(fake_openai: FakeOpenAI) -> None:
    """No slot within the wait: an AssistantError naming the budget, nothing sent."""
    budget = RequestBudget(per_minute=1, max_wait=0.0)
    assert budget.try_acquire()
    with pytest.raises(AssistantError, match="budget"):
        await Transcriber(client_for(fake_openai), ["m1"], budget).transcribe(b"x", "audio/ogg")
    with pytest.raises(AssistantError, match="budget"):
        await ListReader(client_for(fake_openai), ["m1"], budget).read(b"x", "image/png")
    assert fake_openai.requests == []
