"""Sealed personal fields: every shipped event with PERSONAL fields round-trips, and erases.

The golden samples are sealed with a person's key exactly as the event store does it,
opened again (the same payload), then opened after the key is gone (still decodes, with
text fields read as ``[erased]``). See docs/adr/0007-crypto-shredding.md.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

from adapters.store.people import SEALED, People, sealed_people_in
from adapters.store.person_keys import MemoryKeyStore
from events.base import ERASED, personal_fields, registered_events
from events.codec import decode_payload, encode_payload
from events.errors import CorruptEventError
from tests.unit.test_golden_events import CURRENT, golden

SEALED_TYPES = [(t, v) for t, v in CURRENT if personal_fields(t)]


def _people(*subjects: str) -> tuple[People, list[str]]:
    people = People(MemoryKeyStore())
    ids = [asyncio.run(people.person_of(s)) for s in subjects]
    return people, ids


def test_some_events_declare_personal_fields() -> None:
    """The inbound message, the raw body and reply texts are declared personal."""
    assert {"phone", "profile_name", "text", "media"} <= personal_fields(
        "whatsapp.message_received"
    )
    assert personal_fields("whatsapp.webhook_received") == {"body", "body_b64"}
    assert "text" in personal_fields("conversation.reply_queued")
    assert personal_fields("outbox.attempted") == frozenset()


@pytest.mark.parametrize(("type_name", "version"), SEALED_TYPES)
def test_sealed_golden_sample_opens_to_the_same_payload(type_name: str, version: int) -> None:
    """Seal, then open: the decoded payload equals the one decoded from clear data."""
    people, [pid] = _people("+393281234567")
    data = golden(type_name, version)["data"]
    sealed = copy.deepcopy(data)
    people.seal(type_name, sealed, (pid,))
    assert SEALED in sealed
    assert not personal_fields(type_name) & {k for k, v in sealed.items() if v not in (None, [])}
    text = json.dumps(sealed)
    assert sealed_people_in([text.replace(" ", "")]) == {pid}
    assert decode_payload(type_name, version, sealed) == decode_payload(type_name, version, data)


@pytest.mark.parametrize(("type_name", "version"), SEALED_TYPES)
def test_erased_golden_sample_still_decodes(type_name: str, version: int) -> None:
    """After the key is deleted the event decodes; text fields read as the erased marker."""
    people, [pid] = _people("+393281234567")
    data = golden(type_name, version)["data"]
    sealed = copy.deepcopy(data)
    people.seal(type_name, sealed, (pid,))
    asyncio.run(people.erase(pid))
    payload = decode_payload(type_name, version, sealed)
    assert type(payload) is registered_events()[type_name]
    encoded = encode_payload(payload)
    for name in personal_fields(type_name):
        if isinstance(data.get(name), str) and data[name]:
            assert encoded[name] == ERASED, name
    clear = {k: v for k, v in data.items() if k not in personal_fields(type_name)}
    assert {k: encoded[k] for k in clear} == clear  # the facts that are not personal stay


def test_a_body_naming_two_people_is_gone_when_either_is_erased() -> None:
    """One key derived from everyone the delivery names: erasing one person erases it."""
    people, [anna, bruno] = _people("+393281234567", "+393471112233")
    data: dict[str, Any] = golden("whatsapp.webhook_received", 1)["data"]
    sealed = copy.deepcopy(data)
    people.seal("whatsapp.webhook_received", sealed, (anna, bruno))
    opened = decode_payload("whatsapp.webhook_received", 1, copy.deepcopy(sealed))
    assert opened.body == data["body"]
    asyncio.run(people.erase(bruno))
    assert decode_payload("whatsapp.webhook_received", 1, sealed).body == ERASED


def test_tampered_ciphertext_is_a_corrupt_event() -> None:
    """AES-GCM authenticates: a changed byte is reported, never decoded into garbage."""
    people, [pid] = _people("+393281234567")
    data = copy.deepcopy(golden("whatsapp.message_received", 1)["data"])
    people.seal("whatsapp.message_received", data, (pid,))
    blob = data[SEALED]["c"]
    data[SEALED]["c"] = blob[:-6] + ("A" if blob[-6] != "A" else "B") + blob[-5:]
    with pytest.raises(CorruptEventError, match="authentication"):
        decode_payload("whatsapp.message_received", 1, data)


def test_a_person_id_says_nothing_about_the_phone() -> None:
    """Random ids: the same phone in two directories gets unrelated ids."""
    _, [first] = _people("+393281234567")
    _, [second] = _people("+393281234567")
    assert first != second
    assert first.startswith("prs_")
    assert "3281234567" not in first
