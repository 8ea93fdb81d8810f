"""``dloop-bot selftest``: post signed sample deliveries to a running service and report.

The samples cover every message type we model, a batch of statuses, an unknown type and
a duplicate redelivery. Each is judged by the service's own answer: accepted (HTTP 200),
recorded (at least one fact), and, for the duplicate, acknowledged without new facts.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.meta.signature import HEADER, sign

PHONE = "393280000001"
Item = dict[str, Any]


def _msg(kind: str, part: Any, run: str, **extra: Any) -> Item:
    return {
        "from": PHONE,
        "id": f"wamid.SELFTEST.{run}.{kind}",
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: part,
        **extra,
    }


def _media(kind: str) -> Callable[[str], Item]:
    def make(run: str) -> Item:
        return _msg(
            kind,
            {"id": f"MEDIA{kind}", "mime_type": "application/octet-stream", "sha256": "00"},
            run,
        )

    return make


SAMPLES: dict[str, Callable[[str], Item]] = {
    "text": lambda r: _msg("text", {"body": "Ciao, vorrei 2 crocchette per cane"}, r),
    "image": _media("image"),
    "audio": _media("audio"),
    "video": _media("video"),
    "document": _media("document"),
    "sticker": _media("sticker"),
    "location": lambda r: _msg(
        "location", {"latitude": 45.4642, "longitude": 9.19, "name": "Duomo"}, r
    ),
    "contacts": lambda r: _msg(
        "contacts",
        [{"name": {"formatted_name": "Mario Rossi"}, "phones": [{"phone": "+39 333 111 2222"}]}],
        r,
    ),
    "interactive": lambda r: _msg(
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "confirm", "title": "Confermo"}},
        r,
    ),
    "button": lambda r: _msg("button", {"payload": "SI", "text": "Sì"}, r),
    "order": lambda r: _msg(
        "order",
        {
            "catalog_id": "CAT1",
            "product_items": [
                {
                    "product_retailer_id": "p-lettiera",
                    "quantity": 1,
                    "item_price": 9.9,
                    "currency": "EUR",
                }
            ],
        },
        r,
    ),
    "reaction": lambda r: _msg("reaction", {"message_id": "wamid.X", "emoji": "👍"}, r),
    "unknown_type": lambda r: _msg("hologram", {"shape": "cube"}, r),
}


def delivery(messages: list[Item] | None = None, statuses: list[Item] | None = None) -> bytes:
    """A Meta-shaped body with the given items, serialised as Meta does (raw UTF-8)."""
    value: Item = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390200000000", "phone_number_id": "SELFTEST"},
        "contacts": [{"profile": {"name": "Selftest"}, "wa_id": PHONE}],
    }
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "SELFTEST", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(document, ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One sample's verdict."""

    name: str
    status: int
    facts: int
    duplicate: bool
    ok: bool
    detail: str = ""


def plan(run: str) -> list[tuple[str, bytes, bool]]:
    """(name, body, expect_duplicate) for every sample of one run."""
    cases = [(name, delivery([make(run)]), False) for name, make in SAMPLES.items()]
    statuses = [
        {
            "id": f"wamid.SELFTEST.{run}.out",
            "status": s,
            "timestamp": str(int(time.time()) + i),
            "recipient_id": PHONE,
        }
        for i, s in enumerate(("sent", "delivered", "read"))
    ]
    cases.append(("status_batch", delivery(statuses=statuses), False))
    cases.append(("duplicate", cases[0][1], True))
    return cases


async def run_selftest(url: str, secret: str, *, request_timeout: float = 10.0) -> list[CaseResult]:
    """Post every sample to ``url`` (the service's /webhook) and judge each answer."""
    run = uuid.uuid4().hex[:8]
    results = []
    client_timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        for name, body, expect_duplicate in plan(run):
            results.append(
                await _post(
                    session,
                    url=url,
                    secret=secret,
                    name=name,
                    body=body,
                    expect_duplicate=expect_duplicate,
                )
            )
    return results


async def _post(
    session: aiohttp.ClientSession,
    *,
    url: str,
    secret: str,
    name: str,
    body: bytes,
    expect_duplicate: bool,
) -> CaseResult:
    headers = {"Content-Type": "application/json", HEADER: sign(body, secret)}
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            answer = await resp.json(content_type=None)
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return CaseResult(name, 0, 0, False, False, f"{type(exc).__name__}: {exc}")
    facts = int(answer.get("facts", 0)) if isinstance(answer, dict) else 0
    duplicate = bool(answer.get("duplicate")) if isinstance(answer, dict) else False
    ok = status == 200 and facts >= 1 and duplicate == expect_duplicate
    detail = "" if ok else str(answer)[:200]
    return CaseResult(name, status, facts, duplicate, ok, detail)
