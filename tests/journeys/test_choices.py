"""Ambiguous and unknown items, end to end: signed webhooks in, the fake Graph API out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from events.conversation import CartProposed, ChoiceMade, ChoiceRequested
from tests.journeys.conftest import CUSTOMER, GraphJourney, body

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[GraphJourney]]


def rows(sent: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a list message, across sections."""
    action = sent["interactive"]["action"]
    return [r for section in action["sections"] for r in section["rows"]]


async def test_ambiguous_item_gets_a_list_and_a_tapped_row_makes_the_cart(
    graph_journey: Start,
) -> None:
    """«2 crocchette»: a list of the two crocchette; tapping the dog's makes a 2-bag cart."""
    j = await graph_journey()
    await j.say(CUSTOMER, "Vorrei 2 crocchette")
    asked = await j.next_to(CUSTOMER, 0, contains="quale di questi intendevi?")
    assert asked["type"] == "interactive"
    assert asked["interactive"]["type"] == "list"
    action = asked["interactive"]["action"]
    assert len(action["button"]) <= 20
    assert all(len(s.get("title", "")) <= 24 for s in action["sections"])
    listed = rows(asked)
    assert len(listed) <= 10
    assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in listed)
    assert [r["title"] for r in listed][-1] == "Nessuno di questi"
    dog = next(r for r in listed if "cane" in r["description"])
    assert "18,90" in dog["description"]

    await j.pick(CUSTOMER, "list_reply", dog["id"], dog["title"])
    cart = await j.next_to(CUSTOMER, 1, contains="Ecco il tuo carrello")
    assert "2 × Crocchette per cane adulto 3 kg" in body(cart)
    titles = [b["reply"]["title"] for b in cart["interactive"]["action"]["buttons"]]
    assert titles == ["Confermo", "Modifica", "Annulla"]

    await j.pick(CUSTOMER, "button_reply", "cart:confirm", "Confermo")
    await j.next_to(CUSTOMER, 2, contains="indirizzo di consegna")
    stream = await j.stream(f"conversation-{CUSTOMER}")
    [made] = [p for p in stream if isinstance(p, ChoiceMade)]
    [choice] = [p for p in stream if isinstance(p, ChoiceRequested)]
    assert (made.choice_id, made.product_id) == (choice.choice_id, "p-crocc-cane")
    [proposed] = [p for p in stream if isinstance(p, CartProposed)]
    assert [(x.product_id, x.quantity) for x in proposed.lines] == [("p-crocc-cane", 2)]


async def test_unknown_item_is_told_plainly_not_guessed(graph_journey: Start) -> None:
    """«una pizza»: nothing like it in the catalogue, so a clear text and no list or cart."""
    j = await graph_journey()
    await j.say(CUSTOMER, "Vorrei una pizza")
    told = await j.next_to(CUSTOMER, 0, contains="non abbiamo «pizza»")
    assert told["type"] == "text"
    stream = await j.stream(f"conversation-{CUSTOMER}")
    assert not [p for p in stream if isinstance(p, CartProposed | ChoiceRequested)]


async def test_none_of_these_asks_to_rephrase(graph_journey: Start) -> None:
    """The «Nessuno di questi» row: no cart, an invitation to say it differently."""
    j = await graph_journey()
    await j.say(CUSTOMER, "Vorrei delle crocchette")
    asked = await j.next_to(CUSTOMER, 0, contains="quale di questi intendevi?")
    none = rows(asked)[-1]
    await j.pick(CUSTOMER, "list_reply", none["id"], none["title"])
    await j.next_to(CUSTOMER, 1, contains="nessuno di questi")
    stream = await j.stream(f"conversation-{CUSTOMER}")
    assert not [p for p in stream if isinstance(p, CartProposed)]
