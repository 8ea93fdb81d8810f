"""The support dashboard in headless Chromium against a real service over HTTP.

One journey, as an agent would live it: log in through the one-time link, write as a
customer in the simulator (a second tab), watch the message arrive live in the inbox,
take over, reply, see the reply reach the simulator, release. Screenshots of the inbox
(laptop and phone sizes) and of the simulator go to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.store.types import Expect
from events.base import NewEvent
from events.conversation import OutboundFailed, ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted
from tests.browser.conftest import MakeService

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CUSTOMER = "+393281234567"
WAIT_MS = 15_000  # an upper bound for the page to catch up, not a speed assertion
CATALOG = {
    "dealers": [
        {"id": "d-pet", "name": "Toelettatura Fido", "category": "pets", "phone": "+393330000001"}
    ],
    "products": [
        {
            "id": "p-croc",
            "dealer_id": "d-pet",
            "name": "Crocchette per cane",
            "price": 18.9,
            "stock": 20,
        }
    ],
}


async def expect_text(page: Page, selector: str, text: str | re.Pattern[str]) -> None:
    """Wait until an element matching ``selector`` shows ``text``."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    await expect(page.locator(selector).filter(has_text=text).first).to_be_visible(timeout=WAIT_MS)


async def check_out(sim: Page) -> None:
    """Answer the checkout's questions (time, then address and payment) in the simulator."""
    await expect_text(sim, "#sim-thread .msg.bot", "indirizzo di consegna")
    for text, answer in (
        ("lunedì alle 10", "Mi manca ancora"),
        ("via Torino 15, Milano, pago in contanti", "inviato al negozio"),
    ):
        await sim.fill("#sim-text", text)
        await sim.press("#sim-text", "Enter")
        await expect_text(sim, "#sim-thread .msg.bot", answer)


async def test_agent_journey(
    browser: Browser, make_service: MakeService, tmp_path: Path, artifacts: Path
) -> None:
    """Login, a live simulated message, take over, reply seen by the customer, release."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG), encoding="utf-8")
    client, deps = await make_service(catalog_file=catalog, debounce_seconds=0.0)
    _, secret = await TokenStore(deps.engines).create(
        Role.ADMIN, label="Marta", expires_in=timedelta(minutes=15)
    )
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="it-IT")
    inbox = await context.new_page()
    problems: list[str] = []
    inbox.on("pageerror", lambda error: problems.append(str(error)))
    inbox.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    await inbox.goto(str(client.make_url(f"/login?token={secret}")))
    await expect(inbox).to_have_url(str(client.make_url("/")))
    await expect(inbox.locator("#agent")).to_have_text("Marta")
    await expect(inbox.locator("#live")).to_have_attribute("data-state", "on", timeout=WAIT_MS)

    simulator = await context.new_page()
    await simulator.goto(str(client.make_url("/")))
    await simulator.click(".tab[data-view=simulator]")
    await simulator.fill("#sim-phone", CUSTOMER)
    await simulator.fill("#sim-text", "Ciao, vorrei 2 crocchette per cane")
    await simulator.press("#sim-text", "Enter")
    await expect_text(simulator, "#sim-thread .msg.bot", "Confermi")
    await expect(simulator.locator("#sim-thread .reply-buttons button")).to_have_count(3)

    # The inbox page was never reloaded: the conversation arrived over the live stream.
    conversation = inbox.locator(f'.conv-item[data-phone="{CUSTOMER}"]')
    await expect(conversation).to_be_visible(timeout=WAIT_MS)
    await expect(conversation.locator(".unread")).to_be_visible()

    await simulator.click("#sim-thread .reply-buttons button[data-id='cart:confirm']")
    # The checkout asks for a time, then the address and payment; then the relay notice.
    await check_out(simulator)

    await conversation.click()
    await expect_text(inbox, "#thread .msg.inbound", "crocchette")
    await inbox.click(".actions [data-action=take-over]")
    await expect_text(inbox, "#conv-badges .assignee", "Marta")
    await inbox.fill("#reply-text", "Sono Marta del supporto, ti aiuto io.")
    await inbox.click("#reply-form button[type=submit]")
    await expect_text(inbox, "#thread .msg.outbound", "Sono Marta")
    await expect(inbox.locator("#thread .msg.outbound").last.locator(".tick")).to_have_attribute(
        "data-status", "sent", timeout=WAIT_MS
    )

    await expect_text(simulator, "#sim-thread .msg[data-sender=agent]", "Sono Marta")
    await simulator.screenshot(path=str(artifacts / "dashboard-simulator.png"))

    await inbox.click(".actions [data-action=release]")
    await expect(inbox.locator(".actions [data-action=take-over]")).to_be_enabled(timeout=WAIT_MS)
    await expect_text(inbox, "#conv-badges .assignee", "bot")
    await inbox.click(".seg[data-pane=timeline]")
    await expect_text(inbox, "#timeline .etype", "conversation.released")
    await inbox.screenshot(path=str(artifacts / "dashboard-timeline.png"))
    await inbox.click(".seg[data-pane=thread]")
    await inbox.screenshot(path=str(artifacts / "dashboard-inbox.png"))

    await inbox.click(".tab[data-view=orders]")
    await expect(inbox.locator(".board .card")).to_have_count(1, timeout=WAIT_MS)
    await inbox.screenshot(path=str(artifacts / "dashboard-orders.png"))

    await inbox.click("#lang")
    await expect(inbox.locator(".tab[data-view=orders] [data-i18n]")).to_have_text("Orders")
    await inbox.set_viewport_size({"width": 390, "height": 844})
    await inbox.click(".tab[data-view=inbox]")
    await inbox.screenshot(path=str(artifacts / "dashboard-conversation-phone.png"))
    await inbox.click("#conv-back")
    await expect(conversation).to_be_visible()
    await inbox.screenshot(path=str(artifacts / "dashboard-inbox-phone.png"))
    await context.close()
    assert problems == []


async def test_review_queue_retry_button_requeues_a_failed_send(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """A failed send on the review queue: Retry queues it again and the customer gets it."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await make_service(debounce_seconds=0.0)
    response = await client.post("/simulate?wait=5", json={"from": CUSTOMER, "text": "Ciao"})
    assert response.status == 200
    # What the outbox records when Meta refuses a send: the reply, its attempt, the failure.
    stream = await deps.store.people.stream_of(f"conversation-{CUSTOMER}")
    failed = [
        ReplyQueued(outbound_id="out-lost", to=CUSTOMER, kind=ReplyKind.TEXT, text="Eccoci!"),
        OutboundAttempted(outbound_id="out-lost", attempt=1),
        OutboundFailed(outbound_id="out-lost", code=131000, title="boom", retryable=False),
    ]
    await deps.store.append(
        stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=p) for p in failed]
    )
    _, secret = await TokenStore(deps.engines).create(Role.SUPPORT, label="Luca")
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="it-IT")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(str(client.make_url(f"/login?token={secret}")))
    await page.click(".tab[data-view=review]")
    item = page.locator("#review-list li").filter(has_text="send failed")
    await expect(item.locator("button.retry")).to_be_visible(timeout=WAIT_MS)
    await item.locator("button.retry").click()
    await expect(page.locator("#review-list li").filter(has_text="send failed")).to_have_count(
        0, timeout=WAIT_MS
    )
    await context.close()

    def resent() -> list[object]:
        return [s for s in deps.sandbox.sent_to(CUSTOMER) if "Eccoci!" in json.dumps(s.payload)]

    for _ in range(WAIT_MS // 50):  # the outbox sends in the background
        if resent():
            break
        await asyncio.sleep(0.05)
    assert len(resent()) == 1
    assert problems == []
