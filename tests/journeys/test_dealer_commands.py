"""Dealer journeys: commands on WhatsApp, tolerant of case and typos, own orders only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from events.market import ProductAliasAdded, StockChanged
from tests.journeys.conftest import CUSTOMER, PET, PHARMACY, Journey, body

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]


async def two_dealer_order(j: Journey) -> None:
    """A confirmed cart across the pet shop (order 1 or 2) and the pharmacy."""
    await j.say(PET, "aiuto")
    await j.say(PHARMACY, "aiuto")
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane e una tachipirina")
    await j.confirm(CUSTOMER)
    await j.next_to(PET, 1, contains="Nuovo ordine")
    await j.next_to(PHARMACY, 1, contains="Nuovo ordine")


async def test_aiuto_lists_the_commands(journey_factory: Start) -> None:
    """``AIUTO`` answers the command list."""
    j = await journey_factory()
    [help_text] = await j.say(PET, "AIUTO")
    for command in ("ordini", "stato", "accetta", "rifiuta", "disponibile", "esaurito"):
        assert command in body(help_text)


async def test_ordini_and_stato_show_only_the_dealers_own_orders(journey_factory: Start) -> None:
    """The pet shop lists its order and its stage; the pharmacy's order reads as not found."""
    j = await journey_factory()
    await two_dealer_order(j)
    pharmacy_number = body(j.sent(PHARMACY)[-1]).split("n. ")[1].split(":")[0]
    pet_number = "1" if pharmacy_number == "2" else "2"
    [listing] = await j.say(PET, "Ordni")
    assert f"n. {pet_number}:" in body(listing)
    assert "Crocchette" in body(listing)
    assert f"n. {pharmacy_number}:" not in body(listing)
    [status] = await j.say(PET, f"stato {pet_number}")
    assert body(status) == f"Ordine n. {pet_number}: in attesa della tua risposta."
    [foreign] = await j.say(PET, f"stato {pharmacy_number}")
    assert "Non trovo l'ordine" in body(foreign)
    [refused] = await j.say(PET, f"accetta {pharmacy_number}")
    assert "Non trovo l'ordine" in body(refused)


async def test_esaurito_and_disponibile_change_what_customers_are_offered(
    journey_factory: Start,
) -> None:
    """Out of stock, then back: the customer's product answer follows the dealer's update."""
    j = await journey_factory()
    [done] = await j.say(PET, "esaurto lettiera")
    assert "Lettiera agglomerante 10 L" in body(done)
    assert "esaurito" in body(done)
    [answer] = await j.say(CUSTOMER, "Avete la lettiera?")
    assert "Lettiera agglomerante 10 L: € 9,90 (esaurito)" in body(answer)
    [done] = await j.say(PET, "Disponibile lettiera 12")
    assert "12 pezzi" in body(done)
    [answer] = await j.say(CUSTOMER, "Avete la lettiera?")
    assert "Lettiera agglomerante 10 L: € 9,90 (disponibile)" in body(answer)
    changes = [p for p in await j.stream("catalog") if isinstance(p, StockChanged)]
    assert [(c.product_id, c.stock, c.by) for c in changes] == [
        ("p-lettiera", 0, PET),
        ("p-lettiera", 12, PET),
    ]


async def test_a_dealer_cannot_change_another_dealers_product(journey_factory: Start) -> None:
    """The pet shop naming the pharmacy's paracetamolo is told it is not among its products."""
    j = await journey_factory()
    [answer] = await j.say(PET, "esaurito paracetamolo")
    assert "Non trovo «paracetamolo» tra i tuoi prodotti" in body(answer)
    assert await j.stream("catalog") == []


async def test_unknown_text_and_missing_arguments_get_a_hint(journey_factory: Start) -> None:
    """Unknown words point to ``aiuto``; ``disponibile`` without a quantity shows an example."""
    j = await journey_factory()
    [unknown] = await j.say(PET, "buongiorno a tutti")
    assert "aiuto" in body(unknown)
    [usage] = await j.say(PET, "disponibile lettiera")
    assert "disponibile crocchette cane 10" in body(usage)


async def test_alias_teaches_customers_another_name(journey_factory: Start) -> None:
    """``alias panadol = paracetamolo``: the customer's next question finds the product."""
    j = await journey_factory()
    [before] = await j.say(CUSTOMER, "quanto costa il panadol?")
    assert "Paracetamolo" not in body(before)
    [done] = await j.say(PHARMACY, "alias Panadol = paracetamolo")
    assert "«Panadol»" in body(done)
    assert "Paracetamolo 500 mg 20 compresse" in body(done)
    [after] = await j.say(CUSTOMER, "quanto costa il panadol?")
    assert "Paracetamolo 500 mg 20 compresse: € 4,50" in body(after)
    [again] = await j.say(PHARMACY, "alias panadol = paracetamolo")
    assert "già" in body(again)
    added = [p for p in await j.stream("catalog") if isinstance(p, ProductAliasAdded)]
    assert [(a.product_id, a.alias, a.by) for a in added] == [
        ("p-paracetamolo", "Panadol", PHARMACY)
    ]


async def test_alias_refuses_bad_forms_and_foreign_products(journey_factory: Start) -> None:
    """No ``=`` gets an example; another dealer's product is not found; nothing is recorded."""
    j = await journey_factory()
    [usage] = await j.say(PHARMACY, "alias panadol paracetamolo")
    assert "alias tachipirina = paracetamolo" in body(usage)
    [foreign] = await j.say(PET, "alias panadol = paracetamolo")
    assert "Non trovo «paracetamolo» tra i tuoi prodotti" in body(foreign)
    assert await j.stream("catalog") == []
