"""The realistic webhook mix of ``bench ingest``: 1 inbound text to 3 statuses of our sends.

Meta sends about three status webhooks (sent, delivered, read) for every message we
send, so for each customer text the load carries three statuses. They must be statuses
of *our own* sends, as in production: before the server starts, :func:`seed` records
``SENDS`` answered replies (queued, attempted, sent with a known wamid) for ``PHONES``
customers, and the statuses name those wamids and outbound ids. A long run cycles over
the seeded sends with later timestamps, so every status is a new fact.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from adapters.fakes.graph_api import status_webhook
from adapters.meta.signature import HEADER, sign
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from adapters.web.simulate import text_delivery
from events.base import NewEvent
from events.conversation import OutboundSent, ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted

PHONES, SENDS = 1_000, 4_000  # customers and seeded sends (4 each)
STATUSES = ("sent", "delivered", "read")
WABA, NUMBER_ID, DISPLAY = "102290129340398", "106540352242922", "15550783881"


def digits(customer: int) -> str:
    """The WhatsApp id (digits) of customer ``customer``."""
    return f"39347{customer % 10_000_000:07d}"


def send_ids(send: int) -> tuple[str, str]:
    """(our outbound id, Meta's wamid) of seeded send ``send``."""
    return str(uuid.UUID(int=send + 1)), f"wamid.bench.out.{send}"


async def seed(database_url: str) -> None:
    """Record ``SENDS`` answered replies, ``SENDS // PHONES`` per customer."""
    engines = create_engines(database_url)
    store = EventStore(engines)
    try:
        for customer in range(PHONES):
            stream = await store.people.stream_of(f"conversation-+{digits(customer)}")
            events: list[NewEvent] = []
            for send in range(customer, SENDS, PHONES):
                oid, wamid = send_ids(send)
                for payload in (
                    ReplyQueued(outbound_id=oid, to=f"+{digits(customer)}",
                                kind=ReplyKind.TEXT, text="Come posso aiutarti?"),
                    OutboundAttempted(outbound_id=oid, attempt=1),
                    OutboundSent(outbound_id=oid, wamid=wamid),
                ):  # fmt: skip
                    events.append(NewEvent(event_id=uuid.uuid4(), payload=payload))
            await store.append(stream, Expect.ANY, events)
    finally:
        await engines.dispose()


def bodies(n: int, text: str, mix: str) -> Iterator[bytes]:
    """``n`` webhook bodies: all texts (``mix="text"``), or 1 text : 3 statuses."""
    now = int(time.time())
    for i in range(n):
        if mix == "text":
            yield _text(i, text)
            continue
        group, kind = divmod(i, 4)
        if kind == 0:
            yield _text(group, text)
            continue
        send = group % SENDS
        oid, wamid = send_ids(send)
        doc = status_webhook(
            waba_id=WABA, phone_number_id=NUMBER_ID, display_phone_number=DISPLAY,
            wamid=wamid, status=STATUSES[kind - 1], timestamp=now + group // SENDS,
            request={"to": digits(send % PHONES), "biz_opaque_callback_data": oid},
        )  # fmt: skip
        yield json.dumps(doc).encode()


def _text(customer: int, text: str) -> bytes:
    doc = text_delivery(digits(customer % PHONES), text, name="Giulia Bianchi")
    return json.dumps(doc, ensure_ascii=False).encode()


def requests(n: int, secret: str, text: str, mix: str) -> Iterator[bytes]:
    """``n`` raw HTTP requests, each a signed delivery from :func:`bodies`."""
    for raw in bodies(n, text, mix):
        head = (
            f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{HEADER}: {sign(raw, secret)}\r\nContent-Length: {len(raw)}\r\n\r\n"
        )
        yield head.encode() + raw
