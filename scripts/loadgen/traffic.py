"""Realistic webhook traffic: what Meta would POST to ``/webhook`` for a busy number.

Each arrival is one signed delivery, drawn from a fixed mix: a customer's Italian text, a
batch of several messages in one body (Meta groups them under load), a status
(``sent`` -> ``delivered`` -> ``read``) for one of OUR outbound wamids as the fake Graph
API handed them out, or an exact redelivery of a body already acknowledged (same bytes,
same signature: Meta retries whenever it missed our 200). A random generator with a seed
makes runs repeatable. Every delivery carries the keys reconciliation needs: the body's
SHA-256 and the wamids of the messages it holds.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from adapters.fakes.graph_api import status_webhook
from adapters.meta.signature import HEADER, sign

WABA_ID = "102290129340398"
DISPLAY_NUMBER = "15550783881"
NAMES = (
    "Giulia Bianchi",
    "Marco Rossi",
    "Francesca Esposito",
    "Luca Romano",
    "Chiara Conti",
    "Alessandro Ricci",
    "Sara Marino",
    "Matteo Greco",
    "Elena Bruno",
    "Davide Gallo",
)
TEXTS = (
    "Ciao! Come state oggi?",
    "Buongiorno, avete ancora lo shampoo per cani a pelo lungo?",
    "Vorrei ordinare due confezioni di crocchette per gatti, grazie",
    "Quanto costa il profumo alla vaniglia da 50 ml?",
    "A che ora chiudete stasera?",
    "Il mio ordine non è ancora arrivato, potete controllare?",
    "Grazie di cuore, a presto!",
    "Avete le rose rosse per sabato mattina?",
    "Mi serve una tachipirina 1000, la consegnate oggi?",
    "Buonasera, vorrei prenotare una toelettatura per il mio barboncino",
    "Posso pagare con la carta alla consegna?",
    "Ok perfetto, a dopo",
)
MIX = (("text", 0.70), ("batch", 0.10), ("status", 0.12), ("duplicate", 0.08))
STATUSES = ("sent", "delivered", "read")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed webhook POST and what reconciliation must find of it."""

    kind: str  # text | batch | status | duplicate
    body: bytes
    signature: str
    sha256: str
    wamids: tuple[str, ...]  # inbound message ids it carries

    def headers(self) -> dict[str, str]:
        """The request headers Meta sends."""
        return {"Content-Type": "application/json", HEADER: self.signature}


@dataclass(slots=True)
class _Sent:
    """One of our sends the fake Graph API accepted, and how far its statuses went."""

    wamid: str
    request: dict[str, Any]
    next_status: int = 0


class Traffic:
    """Draws deliveries from :data:`MIX` over ``phones`` customers, signed with ``secret``."""

    def __init__(self, secret: str, *, phones: int, phone_number_id: str, seed: int = 1) -> None:
        self.secret = secret
        self.phone_number_id = phone_number_id
        self.random = random.Random(seed)  # noqa: S311 - repeatable traffic, not secrets
        self.phones = [f"393{self.random.randrange(10**8, 10**9)}" for _ in range(phones)]
        self.sent: deque[_Sent] = deque()  # our outbound messages still owed statuses
        self.acked: deque[Delivery] = deque(maxlen=2000)  # candidates for redelivery
        self._kinds = [k for k, _ in MIX]
        self._weights = [w for _, w in MIX]

    def observe_send(self, wamid: str, request: dict[str, Any]) -> None:
        """The fake Graph API accepted one of our messages: Meta will report on it."""
        self.sent.append(_Sent(wamid, request))

    def acknowledged(self, delivery: Delivery) -> None:
        """``delivery`` got its 200: it may be redelivered as an exact duplicate later."""
        if delivery.kind != "duplicate":
            self.acked.append(delivery)

    def next(self) -> Delivery:
        """The next delivery of the mix (a text when its kind has nothing to draw on)."""
        kind = self.random.choices(self._kinds, self._weights)[0]
        if kind == "status" and self.sent:
            return self._status()
        if kind == "duplicate" and self.acked:
            original = self.acked[self.random.randrange(len(self.acked))]
            return Delivery(
                "duplicate", original.body, original.signature, original.sha256, original.wamids
            )
        if kind == "batch":
            return self._messages("batch", self.random.randint(2, 4))
        return self._messages("text", 1)

    def _messages(self, kind: str, count: int) -> Delivery:
        now = str(int(time.time()))
        items = []
        for _ in range(count):
            phone = self.random.choice(self.phones)
            token = f"{self.random.getrandbits(128):032X}"
            items.append((phone, _message(phone, token, self.random.choice(TEXTS), now)))
        contacts = [_contact(p, self.random.choice(NAMES)) for p, _ in items]
        body = self._envelope({"contacts": contacts, "messages": [m for _, m in items]})
        return self._signed(kind, body, tuple(m["id"] for _, m in items))

    def _status(self) -> Delivery:
        sent = self.sent[0]
        status = STATUSES[sent.next_status]
        sent.next_status += 1
        if sent.next_status == len(STATUSES):
            self.sent.popleft()
        else:
            self.sent.rotate(-1)  # interleave the reports of different messages
        body = status_webhook(
            waba_id=WABA_ID,
            phone_number_id=self.phone_number_id,
            display_phone_number=DISPLAY_NUMBER,
            wamid=sent.wamid,
            status=status,
            timestamp=int(time.time()),
            request=sent.request,
        )
        return self._signed("status", body, ())

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        meta = {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": self.phone_number_id}
        value = {"messaging_product": "whatsapp", "metadata": meta, **value}
        change = {"value": value, "field": "messages"}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [change]}],
        }

    def _signed(self, kind: str, body: dict[str, Any], wamids: tuple[str, ...]) -> Delivery:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        digest = hashlib.sha256(raw).hexdigest()
        return Delivery(kind, raw, sign(raw, self.secret), digest, wamids)


def _message(phone: str, token: str, text: str, timestamp: str) -> dict[str, Any]:
    wamid = f"wamid.HBgM{phone}FQIAEhgg{token}AA=="
    return {
        "from": phone,
        "id": wamid,
        "timestamp": timestamp,
        "type": "text",
        "text": {"body": text},
    }


def _contact(phone: str, name: str) -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": phone}
