"""Ordering what the last product answer showed (pure decider: core.shown, core.followup)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import count

from core.conversation import TurnContext
from core.ports import AssistantTrace, Understood
from core.recorded_reading import understanding_event
from core.turn_decider import CONVERSATION, TurnEvent, TurnInputs
from core.turn_memory import TurnMemory, remember_all
from core.understanding import Intent, ProductHit, Understanding
from events.base import RecordedEvent
from events.conversation import CartProposed, ChoiceRequested, ReplyQueued
from tests.unit.test_conversation_machine import CATALOG, CHAT
from tests.unit.test_turn_memory import KEY, T0, done, msg, stored

TRACE = AssistantTrace(engine="offline", model=None, prompt_version="t", latency_ms=1)
ASK_ORDER = Understanding(intent=Intent.ORDER_REQUEST, confidence=0.6)  # names no product


def _ids() -> Iterator[str]:
    return (f"id-{n}" for n in count(1))


def _read(reading: Understanding, *wamids: str) -> TurnEvent:
    return understanding_event(wamids, Understood(understanding=reading, trace=TRACE))


def _inquiry(*product_ids: str) -> Understanding:
    hits = tuple(ProductHit(product_id=p, score=1.0) for p in product_ids)
    return Understanding(intent=Intent.PRODUCT_INQUIRY, confidence=0.9, products=hits)


def _shown(*product_ids: str) -> list[RecordedEvent]:
    """Turn 1: "avete ...?" answered with ``product_ids``."""
    asked = msg(1, "avete ...?")
    return [asked, stored(_read(_inquiry(*product_ids), "wamid.1")), done(asked)]


def _decide(
    events: list[RecordedEvent],
    recorded: tuple[TurnEvent, ...] = (),
    now: datetime = T0 + timedelta(minutes=1),
) -> list[object]:
    mem: TurnMemory = remember_all(CONVERSATION.initial(f"conversation-{KEY}"), events)
    inputs = TurnInputs(context=TurnContext(catalog=CATALOG))
    return list(CONVERSATION.decide(mem, inputs, recorded, now, _ids()).events)


def _cart(events: list[object]) -> dict[str, int]:
    [cart] = [e for e in events if isinstance(e, CartProposed)]
    return {line.product_id: line.quantity for line in cart.lines}


def test_me_ne_dai_2_orders_two_of_the_one_product_shown() -> None:
    """The bug: "me ne dai 2" after one product shown asked "which products?"."""
    events = _decide([*_shown("p-croc"), msg(2, "ok me ne dai 2")], (_read(ASK_ORDER, "wamid.2"),))
    assert _cart(events) == {"p-croc": 2}


def test_the_follow_up_reading_already_stored_still_orders() -> None:
    """The turn's own reading folded before deciding does not make it forget."""
    stored_reading = stored(_read(ASK_ORDER, "wamid.2"))
    events = _decide([*_shown("p-croc"), msg(2, "me ne dai 2"), stored_reading])
    assert _cart(events) == {"p-croc": 2}


def test_a_bare_yes_orders_one_of_the_one_product_shown() -> None:
    """ "sì" after "Vuoi ordinare qualcosa?": one, to be confirmed on the cart."""
    events = _decide([*_shown("p-rose"), msg(2, "sì")], (_read(CHAT, "wamid.2"),))
    assert _cart(events) == {"p-rose": 1}


def test_an_ordinal_with_a_count_picks_among_several_shown() -> None:
    """ "la seconda, 3 pezzi" orders 3 of the second product listed."""
    shown = _shown("p-croc", "p-rose")
    events = _decide([*shown, msg(2, "la seconda, 3 pezzi")], (_read(ASK_ORDER, "wamid.2"),))
    assert _cart(events) == {"p-rose": 3}


def test_a_polite_no_thanks_orders_nothing() -> None:
    """ "ok grazie" is not an order; "ok 2 grazie" is."""
    two = _decide([*_shown("p-croc"), msg(2, "ok 2 grazie")], (_read(CHAT, "wamid.2"),))
    assert _cart(two) == {"p-croc": 2}
    events = _decide([*_shown("p-croc"), msg(2, "ok grazie")], (_read(CHAT, "wamid.2"),))
    assert not any(isinstance(e, CartProposed | ChoiceRequested) for e in events)
    assert any(isinstance(e, ReplyQueued) for e in events)


def test_a_closing_perfetto_grazie_orders_nothing_but_with_a_count_it_does() -> None:
    """ "perfetto grazie", "va bene grazie" close a chat as often as they accept."""
    for text in ("perfetto grazie", "va bene grazie"):
        events = _decide([*_shown("p-croc"), msg(2, text)], (_read(CHAT, "wamid.2"),))
        assert not any(isinstance(e, CartProposed | ChoiceRequested) for e in events), text
    two = _decide([*_shown("p-croc"), msg(2, "perfetto, 2")], (_read(CHAT, "wamid.2"),))
    assert _cart(two) == {"p-croc": 2}


def test_it_is_forgotten_once_the_conversation_moved_on() -> None:
    """A chat turn in between: "me ne dai 2" no longer refers to the answer."""
    right_after = _decide(
        [*_shown("p-croc"), msg(2, "me ne dai 2")], (_read(ASK_ORDER, "wamid.2"),)
    )
    assert _cart(right_after) == {"p-croc": 2}
    chat = msg(2, "che bella giornata")
    past = [*_shown("p-croc"), chat, stored(_read(CHAT, "wamid.2")), done(chat)]
    events = _decide([*past, msg(3, "me ne dai 2")], (_read(ASK_ORDER, "wamid.3"),))
    assert not any(isinstance(e, CartProposed) for e in events)


def test_it_is_forgotten_hours_later() -> None:
    """Past ``core.shown.KEEP_FOR`` the follow-up is a new conversation."""
    late = stored(replace(msg(2, "me ne dai 2").payload, sent_at=T0 + timedelta(hours=3)))
    now = T0 + timedelta(hours=3, minutes=1)
    soon = stored(replace(msg(2, "me ne dai 2").payload, sent_at=T0 + timedelta(hours=1)))
    in_time = _decide([*_shown("p-croc"), soon], (_read(ASK_ORDER, "wamid.2"),), now)
    assert _cart(in_time) == {"p-croc": 2}
    events = _decide([*_shown("p-croc"), late], (_read(ASK_ORDER, "wamid.2"),), now)
    assert not any(isinstance(e, CartProposed) for e in events)
