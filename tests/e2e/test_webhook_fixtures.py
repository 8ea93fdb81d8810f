"""Every sample delivery from Meta's documentation, signed and posted over HTTP.

The samples come from the MIT-licensed pywa project (see tests/fixtures/meta-webhooks/
ORIGIN.md). Each must be answered 200, kept verbatim, and produce the facts listed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Deps
from adapters.meta.signature import sign
from tests.e2e.conftest import SECRET, Client

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks"

# file -> the fact type every case of that file must produce first
EXPECTED_FIRST_FACT = {
    "account_update": "whatsapp.unsupported_item_received",
    "call_connect": "whatsapp.unsupported_item_received",
    "call_permission_update": "whatsapp.message_received",
    "call_status": "whatsapp.unsupported_item_received",
    "call_terminate": "whatsapp.unsupported_item_received",
    "callback_button": "whatsapp.message_received",
    "callback_selection": "whatsapp.message_received",
    "deleted_message": "whatsapp.message_revoked",
    "edited_message": "whatsapp.message_edited",
    "flow_completion": "whatsapp.message_received",
    "message": "whatsapp.message_received",
    "message_status": "whatsapp.status_received",
    "outgoing_message": "whatsapp.unsupported_item_received",
    "system": "whatsapp.message_received",
    "template_category_update": "whatsapp.unsupported_item_received",
    "template_components_update": "whatsapp.unsupported_item_received",
    "template_quality_update": "whatsapp.unsupported_item_received",
    "template_status_update": "whatsapp.unsupported_item_received",
    "user_marketing_preferences": "whatsapp.user_preferences_received",
}
# message.json case -> the kind recorded on its MessageReceived
MESSAGE_KINDS = {
    "text": "text",
    "image": "image",
    "video": "video",
    "document": "document",
    "audio": "audio",
    "voice": "audio",
    "static_sticker": "sticker",
    "reaction": "reaction",
    "current_location": "location",
    "contacts": "contacts",
    "order": "order",
    "unsupported": "unsupported",
}


def _cases() -> list[tuple[str, str, Any]]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        for name, body in json.loads(path.read_text(encoding="utf-8")).items():
            out.append((path.stem, name, body))
    return out


def test_every_fixture_file_has_an_expectation() -> None:
    """A new fixture file cannot slip in untested."""
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(EXPECTED_FIRST_FACT)


@pytest.mark.parametrize(
    ("file", "case", "document"), _cases(), ids=lambda v: v if isinstance(v, str) else ""
)
async def test_fixture_is_recorded_verbatim_with_its_facts(
    service: tuple[Client, Deps], file: str, case: str, document: Any
) -> None:
    """200, the raw bytes kept, the expected fact type (and message kind) stored."""
    client, deps = service
    body = json.dumps(document, ensure_ascii=False, indent=1).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 200, await resp.text()
    stored = await deps.store.read_all(0, 1000)
    assert stored[0].type == "whatsapp.webhook_received"
    assert stored[0].payload.body.encode() == body
    facts = stored[1:]
    assert facts, "a delivery must produce at least one fact"
    assert facts[0].type == EXPECTED_FIRST_FACT[file]
    if file == "message" and case in MESSAGE_KINDS:
        assert facts[0].payload.kind == MESSAGE_KINDS[case]
