"""What an Italian operator reads: names not sentinels, reasons not "[null]", Rome's clock.

Each test puts one realistic situation into a real service (simulated messages, a signed
status webhook, an erasure) and reads the dashboard in headless Chromium the way an
operator would: the row's name and preview in the inbox, the bubbles of the chat, the
carts under the orders board.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.meta.signature import sign
from adapters.ops.erase import erase_person
from adapters.store.types import Expect
from core.outbox.decide import RECIPIENT_ERASED
from events.base import NewEvent
from events.conversation import ConversationEscalated, OutboundFailed, ReplyKind, ReplyQueued
from tests.browser.conftest import MakeService
from tests.browser.test_dashboard import WAIT_MS
from tests.browser.test_read_side import CATALOG
from tests.e2e.conftest import SECRET, Client

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CUSTOMER = "+393281234567"
FLORIST = "+393330000002"  # a shop nobody has heard from: it is first written to
# Words an Italian operator must never read in place of a name or a message.
SENTINELS = ("[erased]", "[null]", "[undefined]", "dloop_nuovo_ordine")


async def _service(make_service: MakeService, tmp_path: Path) -> tuple[Client, Any]:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG), encoding="utf-8")
    return await make_service(catalog_file=catalog, debounce_seconds=0.0)


async def _say(client: Client, text: str, phone: str = CUSTOMER) -> None:
    response = await client.post(
        "/simulate?wait=5", json={"from": phone, "text": text, "name": "Giulia Bianchi"}
    )
    assert response.status == 200, await response.text()


async def _dashboard(
    browser: Browser, client: Client, deps: Any, timezone: str = "Europe/Rome"
) -> tuple[Page, list[str]]:
    _, secret = await TokenStore(deps.engines).create(
        Role.ADMIN, label="Marta", expires_in=timedelta(minutes=30)
    )
    context = await browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="it-IT", timezone_id=timezone
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(str(client.make_url(f"/login?token={secret}")))
    return page, problems


async def _shown(page: Page, selector: str) -> str:
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    await expect(page.locator(selector).first).to_be_visible(timeout=WAIT_MS)
    return " ".join(await page.locator(selector).all_inner_texts())


async def test_an_erased_person_reads_as_persona_cancellata(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """After an erasure the inbox row, the chat and the carts say so in Italian, not [erased]."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    auth = {"Authorization": f"Bearer {await _token(deps)}"}
    for _ in range(WAIT_MS // 50):  # the cart's row is written in the background
        if (await (await client.get("/api/carts", headers=auth)).json())["items"]:
            break
        await asyncio.sleep(0.05)
    await erase_person(deps.store, CUSTOMER)
    page, problems = await _dashboard(browser, client, deps)

    row = page.locator("#conversations .conv-item").first
    await expect(row.locator(".name")).to_have_text("Persona cancellata", timeout=WAIT_MS)
    await expect(row.locator(".snippet")).to_contain_text("testo cancellato")
    await row.click()
    await expect(page.locator("#conv-name")).to_have_text("Persona cancellata")
    await expect(page.locator("#conv-phone")).to_be_hidden()
    thread = await _shown(page, "#thread .msg")
    heads = (
        await page.locator(".conv-list").inner_text()
        + await page.locator(".conv-head").inner_text()
    )
    await page.click("button.seg[data-pane=timeline]")
    timeline = await _shown(page, "#timeline .sentence")
    await page.click(".tab[data-view=orders]")
    await page.evaluate("document.getElementById('carts').open = true")
    carts = await _shown(page, "#cart-list li")
    assert "Persona cancellata" in carts
    for text in (heads, thread, timeline, carts):
        assert not [s for s in SENTINELS if s in text], text
    assert problems == []


async def test_a_send_meta_refused_says_why_and_never_null(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """A failed status with no text of ours reads "Non inviato: <Meta's reason>", not [null]."""
    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    status = {
        "id": "wamid.sent-elsewhere",
        "status": "failed",
        "timestamp": str(int(time.time())),
        "recipient_id": CUSTOMER.lstrip("+"),
        "errors": [{"code": 131047, "title": "Re-engagement message"}],
    }
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "PNID"}}
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "W",
                "changes": [{"field": "messages", "value": {**value, "statuses": [status]}}],
            }
        ],
    }
    body = json.dumps(document).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    assert (await client.post("/webhook", data=body, headers=headers)).status == 200
    page, problems = await _dashboard(browser, client, deps)

    await page.locator(f'#conversations .conv-item[data-phone="{CUSTOMER}"]').click(timeout=WAIT_MS)
    failed = page.locator('#thread .msg[data-status="failed"]')
    await failed.first.wait_for(timeout=WAIT_MS)
    text = await failed.inner_text()
    assert (
        "Non inviato: fuori dalla finestra di 24 ore, serve un modello approvato (131047)" in text
    )
    assert "[null]" not in text
    assert problems == []


async def test_a_refused_send_on_the_review_queue_says_why_in_italian(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """The outbox's "outside the 24-hour window" reads as Italian on the review queue."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    # What the outbox records when a reply falls outside the window: queued, then failed.
    stream = await deps.store.people.stream_of(f"conversation-{CUSTOMER}")
    failed = [
        ReplyQueued(outbound_id="out-late", to=CUSTOMER, kind=ReplyKind.TEXT, text="Eccoci!"),
        OutboundFailed(
            outbound_id="out-late",
            code=131047,
            title="outside the 24-hour window: not sent",
            retryable=False,
        ),
        ReplyQueued(outbound_id="out-gone", to=CUSTOMER, kind=ReplyKind.TEXT, text="Eccoci!"),
        OutboundFailed(outbound_id="out-gone", code=None, title=RECIPIENT_ERASED, retryable=False),
    ]
    await deps.store.append(
        stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=p) for p in failed]
    )
    page, problems = await _dashboard(browser, client, deps)

    await page.click(".tab[data-view=review]")
    item = page.locator("#review-list li").filter(has_text="non è partito: fuori")
    await expect(item.locator(".summary > div").first).to_have_text(
        "Un messaggio a Giulia Bianchi (+39 328 123 4567) non è partito:"
        " fuori dalla finestra di 24 ore, serve un modello approvato (131047)",
        timeout=WAIT_MS,
    )
    await expect(
        page.locator("#review-list li .summary > div").filter(has_text="cancellata")
    ).to_have_text(
        "Un messaggio a Giulia Bianchi (+39 328 123 4567) non è partito:"
        " la persona è stata cancellata, non inviato"
    )
    assert problems == []


async def test_a_shop_first_written_to_shows_its_name_and_what_was_sent(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """The florist's row reads "Fioreria Rosa", "negozio" and the notice, not a template id."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Vorrei un mazzo di rose")
    await _say(client, "Confermo")
    await _say(client, "via Torino 15, Milano, lunedì alle 10, pago in contanti")
    page, problems = await _dashboard(browser, client, deps)

    row = page.locator(f'#conversations .conv-item[data-phone="{FLORIST}"]')
    await expect(row.locator(".name")).to_have_text("Fioreria Rosa", timeout=WAIT_MS)
    await expect(row.locator(".type-dealer")).to_have_text("negozio")
    await expect(row.locator(".snippet")).to_have_text("↩ Avviso di nuovo ordine al negozio")
    await row.click()
    await expect(page.locator("#conv-name")).to_have_text("Fioreria Rosa")
    await expect(page.locator("#thread .msg.from-template .text")).to_have_text(
        "Avviso di nuovo ordine al negozio"
    )
    assert problems == []


async def test_times_are_romes_whatever_the_devices_clock(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """On a laptop set to New York the chat still shows the hour in Rome."""
    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    page, problems = await _dashboard(browser, client, deps, timezone="America/New_York")

    await page.locator(f'#conversations .conv-item[data-phone="{CUSTOMER}"]').click(timeout=WAIT_MS)
    shown = await _shown(page, "#thread .msg.inbound .foot")
    auth = {"Authorization": f"Bearer {await _token(deps)}"}
    rows = (await (await client.get("/api/conversations", headers=auth)).json())["items"]
    [row] = [r for r in rows if r["phone"] == CUSTOMER]
    messages = await client.get(f"/api/conversations/{row['id']}/messages", headers=auth)
    [inbound] = [m for m in (await messages.json())["items"] if m["direction"] == "inbound"]
    sent = datetime.fromisoformat(inbound["created_at"]).astimezone(UTC)
    rome = sent.astimezone(ZoneInfo("Europe/Rome")).strftime("%H:%M")
    assert rome in shown, shown
    assert sent.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") not in shown, shown
    assert problems == []


async def _token(deps: Any) -> str:
    _, secret = await TokenStore(deps.engines).create(Role.ADMIN, label="check")
    return secret


async def test_a_chat_opened_on_a_phone_shows_the_latest_message(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """At 390x844 the newest bubble is on screen when a long chat opens, as on a laptop."""
    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    await _say(client, "Confermo")
    await _say(client, "via Torino 15, Milano, lunedì alle 10, pago in contanti")
    page, problems = await _dashboard(browser, client, deps)
    await page.set_viewport_size({"width": 390, "height": 844})

    await page.locator(f'#conversations .conv-item[data-phone="{CUSTOMER}"]').click(timeout=WAIT_MS)
    last = page.locator("#thread .msg").last
    await last.wait_for(timeout=WAIT_MS)
    await page.wait_for_function(
        "() => document.querySelector('#thread').dataset.for !== undefined", timeout=WAIT_MS
    )
    box = await last.bounding_box()
    assert box is not None
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= 844, box
    # the number under the name stays whole on the narrow screen
    assert await page.locator("#conv-phone").evaluate("(n) => n.getClientRects().length") == 1
    assert problems == []


async def test_every_field_has_a_name_in_the_pages_language(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """Filters, the reply box and the simulator's field are named for screen readers, in Italian."""
    client, deps = await _service(make_service, tmp_path)
    page, problems = await _dashboard(browser, client, deps)
    await page.locator("#conv-stage").wait_for(timeout=WAIT_MS)

    names = (
        ("searchbox", "Cerca nome, numero o testo"),
        ("combobox", "Stato della conversazione"),
        ("combobox", "Stato degli elementi"),
        ("textbox", "Risposta al cliente"),
        ("textbox", "Messaggio da inviare"),
        ("button", "Lingua: passa all'inglese"),
    )
    for role, name in names:
        found = page.get_by_role(role, name=name, exact=True, include_hidden=True)  # type: ignore[arg-type]
        assert await found.count() == 1, name
    await page.click("#lang")
    english = page.get_by_role("combobox", name="Conversation stage", include_hidden=True)
    assert await english.count() == 1
    assert problems == []


async def test_a_chat_waiting_for_an_agent_does_not_say_the_bot_answers(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """Escalated and not yet taken: "nessun operatore ancora", not "bot" (the bot is silent)."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Il mio ordine non è arrivato, voglio parlare con un operatore")
    page, problems = await _dashboard(browser, client, deps)

    await page.locator(f'#triage .conv-item[data-phone="{CUSTOMER}"]').click(timeout=WAIT_MS)
    await expect(page.locator("#conv-badges .assignee")).to_have_text(
        "nessun operatore ancora", timeout=WAIT_MS
    )
    # and the stage beside it does not claim an agent is on it
    await expect(page.locator("#conv-badges .stage-open")).to_have_text("Passata agli operatori")
    assert problems == []


async def test_the_handover_after_a_failed_send_is_badged_as_a_failed_send(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """On the review queue the bot's handover of a chat it cannot reach reads "Invio fallito"."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    stream = await deps.store.people.stream_of(f"conversation-{CUSTOMER}")
    handover = [ConversationEscalated(reason="send_failed")]
    await deps.store.append(
        stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=p) for p in handover]
    )
    page, problems = await _dashboard(browser, client, deps)

    await page.click(".tab[data-view=review]")
    item = page.locator("#review-list li").filter(has_text="Non riusciamo a scrivere")
    await expect(item.locator(".badge")).to_have_text("Invio fallito", timeout=WAIT_MS)
    assert problems == []


async def test_a_cart_at_checkout_does_not_read_as_waiting_for_confirmation(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """The customer confirmed and is giving the address: the cart says so, beside the chat and
    under the board."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    await _say(client, "Confermo")
    page, problems = await _dashboard(browser, client, deps)

    await page.locator(f'#conversations .conv-item[data-phone="{CUSTOMER}"]').click(timeout=WAIT_MS)
    await expect(page.locator("#conv-side .side-order .badge")).to_have_text(
        "Dà i dati di consegna", timeout=WAIT_MS
    )
    await page.click(".tab[data-view=orders]")
    await page.evaluate("document.getElementById('carts').open = true")
    await expect(page.locator("#cart-list li .muted")).to_have_text(
        "Dà i dati di consegna", timeout=WAIT_MS
    )
    assert problems == []


async def test_a_cart_opens_its_chat_and_an_order_card_keeps_the_number_whole(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """Under the board a cart opens its chat; on a card the phone never breaks mid-number."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Ciao, vorrei 2 crocchette per cane")
    await _say(client, "Confermo")
    await _say(client, "via Torino 15, Milano, lunedì alle 10, pago in contanti")
    await _say(client, "Vorrei un mazzo di rose")  # a second cart, not confirmed
    page, problems = await _dashboard(browser, client, deps)

    await page.click(".tab[data-view=orders]")
    phone = page.locator(".board .card .phone").first
    await expect(phone).to_have_text("+39 328 123 4567", timeout=WAIT_MS)
    assert await phone.evaluate("(node) => node.getClientRects().length") == 1
    await page.evaluate("document.getElementById('carts').open = true")
    await page.locator("#cart-list li button").first.click(timeout=WAIT_MS)
    await expect(page.locator("#conv-name")).to_have_text("Giulia Bianchi", timeout=WAIT_MS)
    assert problems == []


# WCAG contrast of an element's text against what lies behind it (translucent layers
# composited up to the first opaque background), opacity included.
CONTRAST = """(node) => {
  const rgba = (text) => (text.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const over = (top, under) => top.slice(0, 3).map((c, i) => c * top[3] + under[i] * (1 - top[3]));
  let layers = [];
  for (let at = node; at; at = at.parentElement) {
    const bg = rgba(getComputedStyle(at).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] === 1) break;
  }
  let back = [255, 255, 255];
  for (const layer of layers.reverse()) back = over(layer, back);
  let opacity = 1;
  for (let at = node; at; at = at.parentElement) opacity *= Number(getComputedStyle(at).opacity);
  const fg = rgba(getComputedStyle(node).color);
  const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], back);
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [hi, lo] = [lum(text), lum(back)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""


async def test_the_tabs_and_their_counts_are_readable(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """Every tab's words and count reach 4.5:1 against the green bar, active or not."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    await _say(client, "Un mazzo di rose")
    await _say(client, "Confermo")
    await _say(client, "via Torino 15, Milano, lunedì alle 10, pago in contanti")
    page, problems = await _dashboard(browser, client, deps)
    await expect(page.locator("#orders-count")).to_be_visible(timeout=WAIT_MS)

    for selector in (".tab.active span", ".tab:not(.active) span", "#orders-count"):
        for node in await page.locator(selector).all():
            if await node.is_visible():
                ratio = await node.evaluate(CONTRAST)
                assert ratio >= 4.5, (selector, await node.inner_text(), ratio)
    assert problems == []


async def test_a_service_that_does_not_answer_is_said_in_italian(
    browser: Browser, make_service: MakeService, tmp_path: Path
) -> None:
    """With the API unreachable the toast says so in Italian, not "Failed to fetch"."""
    from playwright.async_api import Route, expect  # noqa: PLC0415 - optional dependency

    client, deps = await _service(make_service, tmp_path)
    page, problems = await _dashboard(browser, client, deps)
    await page.locator("#conv-stage").wait_for(timeout=WAIT_MS)

    async def unreachable(route: Route) -> None:
        await route.abort("connectionrefused")

    await page.route("**/api/orders*", unreachable)
    await page.click(".tab[data-view=orders]")
    await expect(page.locator("#toast")).to_contain_text(
        "il servizio non risponde", timeout=WAIT_MS
    )
    assert "Failed to fetch" not in await page.locator("#toast").inner_text()
    assert problems == []
