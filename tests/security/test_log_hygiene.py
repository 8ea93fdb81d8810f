"""Secrets and personal data never reach the logs, even at debug level.

``dloop-bot serve`` runs as a subprocess with ``LOG_LEVEL=debug`` (JSON) and every byte
it writes to stdout and stderr goes to one file. A full journey runs through it over
real HTTP: the webhook handshake, a customer's free-text order, the confirmation, the
dealer's acceptance by button, status webhooks from the fake Graph API, API calls with
good and bad bearer tokens, the dashboard's login link and ``/simulate``. Then the file
is searched for every secret and every piece of personal data the journey carried.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.fakes.graph_api import FakeGraphApi
from adapters.meta.signature import HEADER, sign
from adapters.store.engine import create_engines
from adapters.web.simulate import text_delivery
from scripts.bench_e2e import SECRET, TOKEN, free_port, migrate_url
from tests.engine.conftest import Spawn
from tests.engine.support import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CUSTOMER = "393281234567"
DEALER = "39328185464"  # Toelettatura Pet in the demo catalogue
NAME = "Mariella Quagliarulo"
ORDER_TEXT = "Vorrei una lettiera per il gatto Birillo"
VERIFY = "verify-8c1d2e7f"
DASHBOARD = "dash-5b9a0c3e11"


def _delivery(phone: str, text: str, message: dict[str, Any] | None = None) -> bytes:
    doc = text_delivery(phone, text, name=NAME)
    if message is not None:
        msg = doc["entry"][0]["changes"][0]["value"]["messages"][0]
        del msg["text"]
        msg.update(message)
    return json.dumps(doc, ensure_ascii=False).encode()


class Service:
    """Signed webhooks and API calls to the running child."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def webhook(self, body: bytes, signature: str | None = None) -> int:
        """POST ``body`` signed with the app secret (or with ``signature``)."""
        headers = {"Content-Type": "application/json", HEADER: signature or sign(body, SECRET)}
        async with self.http.post(f"{self.base}/webhook", data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def get(self, path: str, **headers: str) -> int:
        """GET ``path`` with ``headers``, redirects not followed."""
        async with self.http.get(
            f"{self.base}{path}", headers=headers, allow_redirects=False
        ) as resp:
            await resp.read()
            return resp.status


def _sent_to(graph: FakeGraphApi, phone: str, contains: str) -> dict[str, Any] | None:
    for body in graph.accepted:
        text = json.dumps(body, ensure_ascii=False)
        if str(body.get("to", "")).lstrip("+") == phone and contains in text:
            return body
    return None


DELIVERY = "via Torino 15, Milano, lunedì alle 10, pago in contanti"


async def _journey(svc: Service, graph: FakeGraphApi) -> None:
    """Order, confirm, dealer accepts by button; statuses flow back from the fake."""
    assert await svc.webhook(_delivery(DEALER, "aiuto")) == 200
    assert await svc.webhook(_delivery(CUSTOMER, ORDER_TEXT)) == 200
    await wait_until(lambda: _has(graph, CUSTOMER, "Confermo"), 20)
    assert await svc.webhook(_delivery(CUSTOMER, "Confermo")) == 200
    await wait_until(lambda: _has(graph, CUSTOMER, "indirizzo"), 20)
    assert await svc.webhook(_delivery(CUSTOMER, DELIVERY)) == 200
    await wait_until(lambda: _has(graph, DEALER, "Nuovo ordine"), 20)
    relay = _sent_to(graph, DEALER, "Nuovo ordine")
    assert relay is not None
    accept = relay["interactive"]["action"]["buttons"][0]["reply"]
    press = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": accept},
    }
    assert await svc.webhook(_delivery(DEALER, "", press)) == 200
    await wait_until(lambda: _has(graph, CUSTOMER, "ha accettato"), 20)


async def _has(graph: FakeGraphApi, phone: str, contains: str) -> bool:
    return _sent_to(graph, phone, contains) is not None


async def _operators(svc: Service, url: str) -> list[str]:
    """Handshake, API, login link and /simulate calls with good and bad credentials."""
    engines = create_engines(url)
    try:
        tokens = TokenStore(engines)
        _, admin = await tokens.create(Role.ADMIN, label="marta")
        _, link = await tokens.create(Role.SUPPORT, label="luca", expires_in=timedelta(minutes=5))
    finally:
        await engines.dispose()
    handshake = f"/webhook?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=42"
    assert await svc.get(handshake) == 200
    wrong = "/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"
    assert await svc.get(wrong) == 403
    assert await svc.get("/api/conversations", Authorization=f"Bearer {admin}") == 200
    assert await svc.get("/api/conversations", Authorization="Bearer dlp_wrong_secret_xyz") == 401
    assert await svc.get(f"/login?token={link}") == 303
    bad = sign(b"{}", "not-the-secret")
    assert await svc.webhook(_delivery(CUSTOMER, "firma sbagliata"), signature=bad) == 403
    async with svc.http.post(
        f"{svc.base}/simulate",
        json={"from": f"+{CUSTOMER}", "text": "Simulato da Birillo"},
        headers={"Authorization": f"Bearer {DASHBOARD}"},
    ) as resp:
        assert resp.status == 200
    return [admin, link, "dlp_wrong_secret_xyz"]


async def test_a_full_journey_logs_no_secret_and_no_personal_data(
    tmp_path: Path,
    spawn: Spawn,
    graph: FakeGraphApi,
) -> None:
    """Nothing secret or personal in anything the process wrote, at debug level."""
    url = f"sqlite+aiosqlite:///{tmp_path}/journey.db"
    await migrate_url(url)
    port = free_port()
    graph.webhook_url = f"http://127.0.0.1:{port}/webhook"
    env = {
        "LOG_LEVEL": "debug",
        "LOG_FORMAT": "json",
        "WHATSAPP_VERIFY_TOKEN": VERIFY,
        "DASHBOARD_TOKEN": DASHBOARD,
    }
    child, base = await spawn(url, port=port, **env)
    async with aiohttp.ClientSession() as http:
        svc = Service(http, base)
        await _journey(svc, graph)
        bearer_secrets = await _operators(svc, url)
    await graph.drain()
    await child.stop(timeout=20)
    logs = child.log.read_text(encoding="utf-8", errors="replace")
    assert "conversation.turn_decided" in logs, "the debug logs were captured"
    assert "webhook.recorded" in logs
    forbidden = {
        "access token": TOKEN,
        "app secret": SECRET,
        "verify token": VERIFY,
        "dashboard token": DASHBOARD,
        "customer phone": CUSTOMER,
        "dealer phone": DEALER,
        "customer name": NAME,
        "order text": ORDER_TEXT,
        "a word of the order": "Birillo",
        "delivery address": "via Torino 15",
        **{f"bearer secret {i}": s for i, s in enumerate(bearer_secrets)},
    }
    leaks = [what for what, value in forbidden.items() if value in logs]
    assert not leaks, f"found in the logs: {leaks}"
