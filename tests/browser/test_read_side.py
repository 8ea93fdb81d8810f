"""The read side in headless Chromium: login, triage inbox, agent reply, board, charts, simulator.

One service, a dozen messages through the simulator (two customers, one of whom orders
and one who asks for a person, and the dealer answering), then every page at desktop
(1400x900) and phone (390x844) widths. Each step saves a screenshot under
``test-artifacts/read-side/`` (the folder is printed) for a person to look at.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from adapters.auth.tokens import Role, TokenStore
from tests.browser.conftest import MakeService
from tests.browser.test_dashboard import WAIT_MS, check_out, expect_text
from tests.support.days import MONDAY

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, ViewportSize

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

ORDERING = "+393281234567"
HELP = "+393339998877"
DEALER = "+393330000001"
SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1400, "height": 900},
    "phone": {"width": 390, "height": 844},
}
CATALOG = {
    "dealers": [
        {"id": "d-pet", "name": "Toelettatura Fido", "category": "pets", "phone": DEALER},
        {"id": "d-fiori", "name": "Fioreria Rosa", "category": "florist", "phone": "+393330000002"},
    ],
    "products": [
        {
            "id": "p-croc",
            "dealer_id": "d-pet",
            "name": "Crocchette per cane",
            "price": 18.9,
            "stock": 20,
        },
        {"id": "p-rose", "dealer_id": "d-fiori", "name": "Mazzo di rose", "price": 25, "stock": 5},
    ],
}
# Chart.js draws on a canvas: a drawn chart has pixels that are not transparent.
DRAWN = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  return painted;
}"""
FITTED = """() => [...document.querySelectorAll('.chart canvas')].every(
  (c) => c.getBoundingClientRect().right <= c.parentElement.getBoundingClientRect().right + 1)"""
# Timeline lines that are a raw event type ("checkout.completed") rather than a sentence.
RAW_SENTENCES = r"""() => [...document.querySelectorAll('#timeline .sentence')]
  .map((s) => s.textContent).filter((text) => /^[a-z_]+\.[a-z_]+$/.test(text))"""
OVERFLOW = """() => {
  const over = (node) => Math.max(0, node.scrollWidth - node.clientWidth);
  const view = [...document.querySelectorAll('.view')].find((v) => !v.hidden);
  return {page: over(document.scrollingElement), view: over(view)};
}"""


@pytest.fixture
def shots(artifacts: Path) -> Path:
    """``test-artifacts/read-side/``, printed so a person finds the screenshots."""
    folder = artifacts / "read-side"
    folder.mkdir(exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


async def write_as(
    sim: Page, identity: str, text: str, answer: str, name: str = "Giulia Rossi"
) -> None:
    """Write ``text`` in the simulator as ``identity`` (a phone or a dealer's option)."""
    await sim.select_option("#sim-as", identity if identity.startswith("+39333000") else "customer")
    if not identity.startswith("+39333000"):
        await sim.fill("#sim-phone", identity)
        await sim.dispatch_event("#sim-phone", "change")
        await sim.fill("#sim-name", name)
    await sim.fill("#sim-text", text)
    await sim.press("#sim-text", "Enter")
    await expect_text(sim, "#sim-thread .msg.bot", answer)


async def test_login_page_stacks_its_card(
    browser: Browser, make_service: MakeService, shots: Path
) -> None:
    """Heading, text, field and hint stack inside the card, at both widths."""
    client, _ = await make_service()
    for name, size in SIZES.items():
        page = await browser.new_page(viewport=size, locale="it-IT")
        await page.goto(str(client.make_url("/login")))
        card = await page.locator(".login-card").bounding_box()
        boxes = [
            await page.locator(s).first.bounding_box()
            for s in ("h1", "p.muted", "#token", "p.small")
        ]
        assert card is not None
        assert all(b is not None for b in boxes)
        tops = [b["y"] for b in boxes if b is not None]
        assert tops == sorted(tops), f"stacked top to bottom at {name}"
        for box in boxes:
            assert box is not None
            assert card["x"] <= box["x"], f"inside the card at {name}"
            assert box["x"] + box["width"] <= card["x"] + card["width"] + 1, name
        assert (await page.locator("#token").bounding_box() or {"width": 0})["width"] > 200
        await page.screenshot(path=str(shots / f"login-{name}.png"))
        await page.close()


async def test_read_side_pages(
    browser: Browser, make_service: MakeService, tmp_path: Path, shots: Path
) -> None:
    """Triage first, an agent reply, the board, drawn charts and the dealer simulator."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG), encoding="utf-8")
    client, deps = await make_service(catalog_file=catalog, debounce_seconds=0.0)
    _, secret = await TokenStore(deps.engines).create(
        Role.ADMIN, label="Marta", expires_in=timedelta(minutes=30)
    )
    context = await browser.new_context(viewport=SIZES["desktop"], locale="it-IT")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(str(client.make_url(f"/login?token={secret}")))
    await expect(page.locator("#agent")).to_have_text("Marta")

    sim = await context.new_page()
    await sim.goto(str(client.make_url("/")))
    await sim.click(".tab[data-view=simulator]")
    await expect(sim.locator("#sim-as option")).to_have_count(3, timeout=WAIT_MS)
    await write_as(sim, ORDERING, "Ciao, vorrei 2 crocchette per cane", "Confermi")
    await sim.click("#sim-thread .reply-buttons button[data-id='cart:confirm']")
    await check_out(sim)
    await sim.click("#sim-clear")
    await write_as(
        sim,
        HELP,
        "Il mio ordine non è mai arrivato, voglio un rimborso",
        "operatore",
        "Marco Bianchi",
    )
    await sim.click("#sim-clear")
    await write_as(sim, DEALER, "ordini", "ordini aperti")
    await expect(sim.locator("#sim-phone")).to_have_value(DEALER)
    await sim.screenshot(path=str(shots / "simulator-dealer-desktop.png"))

    # The triage list comes first and holds the customer who asked for a person.
    await page.click(".tab[data-view=inbox]")
    needs = page.locator(f'#triage .conv-item[data-phone="{HELP}"]')
    await expect(needs).to_be_visible(timeout=WAIT_MS)
    await expect(needs.locator(".attention")).to_contain_text("Chiede una persona")
    await expect(
        page.locator(f'#conversations .conv-item[data-phone="{ORDERING}"]')
    ).to_be_visible()
    await expect(page.locator("#unread-total")).to_have_text("1", timeout=WAIT_MS)
    await page.screenshot(path=str(shots / "inbox-triage-desktop.png"))

    await needs.click()
    await expect(page.locator("#conv-phone")).to_have_text("+39 333 999 8877")
    await expect(page.locator("#conv-name")).to_have_text("Marco Bianchi")
    await page.click(".actions [data-action=take-over]")
    await page.fill("#reply-text", "Sono Marta, controllo subito il tuo ordine.")
    await page.click("#reply-form button[type=submit]")
    agent = page.locator("#thread .msg[data-sender=agent]")
    await expect(agent).to_contain_text("Sono Marta", timeout=WAIT_MS)
    await expect(agent.locator(".from")).to_contain_text("Marta")
    await expect(page.locator("#thread .msg[data-sender=bot]").first).to_be_visible()
    await page.screenshot(path=str(shots / "conversation-agent-reply-desktop.png"))
    await page.click(".seg[data-pane=timeline]")
    await expect_text(page, "#timeline .sentence", "Marta ha preso in carico")
    assert await page.evaluate(RAW_SENTENCES) == []
    await page.screenshot(path=str(shots / "timeline-desktop.png"))
    await page.click(".seg[data-pane=thread]")

    # The ordering customer: name, phone and the order beside the chat.
    await page.click(f'.conv-item[data-phone="{ORDERING}"]')
    await expect(page.locator("#conv-side .side-order")).to_contain_text(
        "Toelettatura Fido", timeout=WAIT_MS
    )
    await page.screenshot(path=str(shots / "conversation-order-desktop.png"))
    await page.click(".seg[data-pane=timeline]")
    await expect_text(
        page, "#timeline .sentence", re.compile(f"Consegna fissata: {MONDAY.pattern}")
    )
    assert await page.evaluate(RAW_SENTENCES) == []
    await page.screenshot(path=str(shots / "timeline-order-desktop.png"))
    await page.click(".seg[data-pane=thread]")

    await page.click(".tab[data-view=orders]")
    card = page.locator(".board .card")
    await expect(card).to_have_count(1, timeout=WAIT_MS)
    await expect(card).to_contain_text("+39 328 123 4567")
    await expect(card).to_contain_text("Giulia Rossi")
    await expect(card).to_contain_text("Toelettatura Fido")
    assert await page.locator(".board .column").count() == 1  # empty stages collapsed
    assert await page.evaluate(OVERFLOW) == {"page": 0, "view": 0}
    await page.screenshot(path=str(shots / "orders-desktop.png"))

    # What the checkout recorded: address, time, payment, the fee in the total.
    await expect(card).to_contain_text("Indirizzo: via Torino 15")
    await expect(card).to_contain_text(re.compile(f"Consegna: {MONDAY.pattern}"))
    await expect(card).to_contain_text("Pagamento: contanti")
    await expect(card.locator(".money")).to_contain_text("consegna")
    await page.click("#lang")  # the same card in English, the payment word too
    await expect(card).to_contain_text("Payment: cash")
    await expect(card).to_contain_text("Address: via Torino 15")
    await page.click("#lang")
    await expect(card).to_contain_text("Pagamento: contanti")
    await page.screenshot(path=str(shots / "orders-checkout-desktop.png"))

    await page.click(".tab[data-view=overview]")
    canvases = page.locator(".chart canvas")
    await expect(canvases).to_have_count(6)
    await expect(page.locator(".tile[data-key=pending_orders] .value")).to_have_text("1")
    for index in range(6):
        assert await canvases.nth(index).evaluate(DRAWN) > 0, f"chart {index} is drawn"
    await page.screenshot(path=str(shots / "overview-desktop.png"))

    await page.set_viewport_size(SIZES["phone"])
    await sim.set_viewport_size(SIZES["phone"])
    await sim.screenshot(path=str(shots / "simulator-dealer-phone.png"))
    await page.wait_for_function(FITTED)  # Chart.js resizes its canvases with their boxes
    await page.screenshot(path=str(shots / "overview-phone.png"))
    assert await page.evaluate(OVERFLOW) == {"page": 0, "view": 0}
    await page.click(".tab[data-view=orders]")
    assert await page.evaluate(OVERFLOW) == {"page": 0, "view": 0}
    await page.screenshot(path=str(shots / "orders-phone.png"))
    await page.click(".tab[data-view=inbox]")
    await page.screenshot(path=str(shots / "conversation-phone.png"))
    await page.click("#conv-back")
    await page.screenshot(path=str(shots / "inbox-triage-phone.png"))
    await page.click(".tab[data-view=review]")
    await expect_text(page, "#review-list li", "ha chiesto di parlare con una persona")
    raw = page.locator("#review-list li .raw code")
    await expect(raw).to_be_hidden()  # the raw summary is one click away, not in the way
    await page.click("#review-list li .raw summary")
    await expect(raw).to_contain_text("support_request")
    await page.screenshot(path=str(shots / "review-phone.png"))
    await context.close()
    assert problems == []
