"""The seed tables say who: every row names the person's phone, or ``[erased]`` once erased."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from adapters.ops.audit import audit
from adapters.ops.erase import erase_person
from adapters.readmodel.tables import (
    whatsapp_conversations,
    whatsapp_messages,
    whatsapp_order_relays,
)
from core.phones import is_person_id
from events.base import ERASED
from tests.journeys.conftest import CUSTOMER, PET, Journey

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]
SEED_TABLES = (whatsapp_conversations, whatsapp_messages, whatsapp_order_relays)


async def rows(j: Journey) -> dict[str, list[dict[str, Any]]]:
    """Every row of the three seed tables, by table name."""
    async with j.deps.engines.reader.connect() as conn:
        return {
            t.name: [dict(r) for r in (await conn.execute(select(t))).mappings()]
            for t in SEED_TABLES
        }


def assert_one_row_per_person(conversations: list[dict[str, Any]]) -> None:
    """A person (by id, and by phone unless erased) has exactly one conversation row."""
    by_person = Counter(r["person_id"] for r in conversations)
    by_phone = Counter(r["phone"] for r in conversations if r["phone"] != ERASED)
    assert [p for p, n in by_person.items() if n > 1] == []
    assert [p for p, n in by_phone.items() if n > 1] == []


async def ordered_and_relayed(journey_factory: Start) -> Journey:
    """A customer orders, confirms and checks out; the dealer gets the order and accepts it."""
    j = await journey_factory()
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane")
    await j.say(CUSTOMER, "Confermo", wait=0)
    await j.next_to(CUSTOMER, 1, contains="indirizzo di consegna")  # the checkout asks
    await j.say(CUSTOMER, "lunedì alle 10", wait=0)
    await j.next_to(CUSTOMER, 2, contains="Mi manca ancora")
    await j.say(CUSTOMER, "via Torino 15, Milano, pago in contanti", wait=0)
    await j.next_to(PET, 0)  # a template: the dealer has not written yet
    await j.say(PET, "accetta 1")

    async def settled() -> bool:
        found = await rows(j)
        relays = found["whatsapp_order_relays"]
        return len(found["whatsapp_conversations"]) == 2 and any(
            r["stage"] == "accepted" for r in relays
        )

    await j.until(settled)
    return j


async def test_every_row_names_the_phone_and_the_person(journey_factory: Start) -> None:
    """Customer and dealer rows hold their E.164 phone, the person id beside it."""
    j = await ordered_and_relayed(journey_factory)
    found = await rows(j)
    people = {r["phone"]: r["person_id"] for r in found["whatsapp_conversations"]}
    assert set(people) == {CUSTOMER, PET}
    assert all(is_person_id(p) for p in people.values())
    for name, table_rows in found.items():
        assert table_rows, name
        for row in table_rows:
            assert row["phone"] in people, (name, row)
            assert row["person_id"] == people[row["phone"]], (name, row)
    assert_one_row_per_person(found["whatsapp_conversations"])
    [relay] = found["whatsapp_order_relays"]
    assert (relay["phone"], relay["profile_name"]) == (CUSTOMER, "Simulatore")
    assert relay["confirmed_at"] is not None
    customer = next(r for r in found["whatsapp_conversations"] if r["phone"] == CUSTOMER)
    assert customer["profile_name"] == "Simulatore"
    assert "crocchette" in customer["search_text"]
    outbound = [m for m in found["whatsapp_messages"] if m["direction"] == "outbound"]
    assert {m["sender"] for m in outbound} == {"bot"}


async def test_an_erased_person_reads_erased_everywhere(journey_factory: Start) -> None:
    """After erasure the customer's rows read ``[erased]``; the dealer's keep the phone."""
    j = await ordered_and_relayed(journey_factory)
    before = await rows(j)
    customer_id = next(
        r["person_id"] for r in before["whatsapp_conversations"] if r["phone"] == CUSTOMER
    )
    await erase_person(j.deps.store, CUSTOMER)
    after = await rows(j)
    for name, table_rows in after.items():
        for row in table_rows:
            expected = ERASED if row["person_id"] == customer_id else PET
            assert row["phone"] == expected, (name, row)
            assert CUSTOMER not in repr(row), (name, row)
    assert sum(1 for r in after["whatsapp_messages"] if r["phone"] == PET) > 0
    [relay] = after["whatsapp_order_relays"]
    assert relay["profile_name"] == ERASED
    assert_one_row_per_person(after["whatsapp_conversations"])
    assert (await audit(j.deps.store)).findings == []


def test_two_rows_for_one_person_fail_the_check() -> None:
    """The one-row check is not vacuous: a duplicated person is caught."""
    rows_ = [{"person_id": "prs_a", "phone": CUSTOMER}, {"person_id": "prs_a", "phone": CUSTOMER}]
    with pytest.raises(AssertionError):
        assert_one_row_per_person(rows_)


async def test_a_new_profile_name_reaches_the_order_row_live_and_in_the_audit(
    journey_factory: Start,
) -> None:
    """The customer renames themself on WhatsApp: the relay row follows, the audit agrees."""
    j = await ordered_and_relayed(journey_factory)
    resp = await j.client.post(
        "/simulate?wait=5", json={"from": CUSTOMER, "text": "grazie!", "name": "Giulia Rossi"}
    )
    assert resp.status == 200

    async def renamed() -> bool:
        found = await rows(j)
        [relay] = found["whatsapp_order_relays"]
        return bool(relay["profile_name"] == "Giulia Rossi")

    await j.until(renamed)
    assert (await audit(j.deps.store)).findings == []
