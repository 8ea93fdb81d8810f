"""Synthetic deliveries over HTTP: big batches, failed statuses, senders without a phone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.bootstrap import Deps
from adapters.meta.signature import sign
from tests.conftest import person_stream
from tests.e2e.conftest import SECRET, Client

pytestmark = pytest.mark.e2e
Service = tuple[Client, Deps]
META = {"display_phone_number": "390212345678", "phone_number_id": "1234567890"}


def _value(**parts: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "metadata": META, **parts}


def _text(sender: str, wamid: str, text: str) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": "1764237600",
        "type": "text",
        "text": {"body": text},
    }


def _body(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": entries}, ensure_ascii=False
    ).encode()


async def _post(client: Client, body: bytes) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 200, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


async def test_thousand_items_in_entries_and_changes_all_become_facts_in_order(
    service: Service,
) -> None:
    """4 entries x 5 changes x 50 messages: 1,000 facts, document order kept."""
    client, deps = service
    entries = []
    for e in range(4):
        changes = []
        for c in range(5):
            messages = [
                _text(f"39328{e}{c}{m:05d}", f"wamid.B{e}.{c}.{m}", f"messaggio {m}")
                for m in range(50)
            ]
            changes.append({"field": "messages", "value": _value(messages=messages)})
        entries.append({"id": f"WABA{e}", "changes": changes})
    answer = await _post(client, _body(entries))
    assert answer["facts"] == 1000
    stored = [
        e for e in await deps.store.read_all(0, 5000) if e.type == "whatsapp.message_received"
    ]
    assert [e.payload.wamid for e in stored] == [
        f"wamid.B{e}.{c}.{m}" for e in range(4) for c in range(5) for m in range(50)
    ]


@pytest.mark.parametrize(
    ("code", "title"),
    [(131047, "Re-engagement message"), (131026, "Message undeliverable")],
)
async def test_failed_status_keeps_its_error_code_title_and_details(
    service: Service, code: int, title: str
) -> None:
    """A failed status is stored with every error field."""
    client, deps = service
    status = {
        "id": "wamid.OUT1",
        "status": "failed",
        "timestamp": "1764237600",
        "recipient_id": "393281234567",
        "errors": [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": f"details of {code}"},
                "href": "https://example.invalid/errors",
            }
        ],
    }
    await _post(
        client,
        _body(
            [{"id": "WABA", "changes": [{"field": "messages", "value": _value(statuses=[status])}]}]
        ),
    )
    [fact] = [e for e in await deps.store.read_all(0, 100) if e.type == "whatsapp.status_received"]
    assert fact.stream == person_stream("+393281234567")
    assert "3281234567" not in fact.stream
    [error] = fact.payload.errors
    assert (error.code, error.title, error.details) == (code, title, f"details of {code}")


async def test_sender_without_phone_number_is_keyed_by_user_id(service: Service) -> None:
    """A business-scoped user id stands in for the phone; nothing fails."""
    client, deps = service
    message = {
        "from_user_id": "IT.13491208655302741918",
        "id": "wamid.BSUID1",
        "timestamp": "1764237600",
        "type": "text",
        "text": {"body": "ciao"},
    }
    contacts = [{"profile": {"name": "Giulia"}, "user_id": "IT.13491208655302741918"}]
    await _post(
        client,
        _body(
            [
                {
                    "id": "WABA",
                    "changes": [
                        {
                            "field": "messages",
                            "value": _value(contacts=contacts, messages=[message]),
                        }
                    ],
                }
            ]
        ),
    )
    [fact] = [e for e in await deps.store.read_all(0, 100) if e.type == "whatsapp.message_received"]
    assert fact.payload.phone is None
    assert fact.stream == person_stream("bsuid:IT.13491208655302741918")
    assert "IT.1349" not in fact.stream
