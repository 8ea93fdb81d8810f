"""Ambiguous and unknown order items: a list message, the tapped row, then the cart."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from core import choices
from core.catalog import Product
from core.conversation import CustomerTurn
from core.outbound import ROW_DESCRIPTION_MAX, ROW_TITLE_MAX
from core.turn_rules import needs_understanding
from core.understanding import CartLine, UnresolvedItem
from events.conversation import (
    CartProposed,
    ChoiceMade,
    ChoiceRequested,
    ReplyKind,
    ReplyQueued,
    UnresolvedLine,
)
from events.whatsapp import InteractiveReply, MessageReceived
from tests.unit.test_conversation_machine import ORDER, given, msg

CROCCHETTE = UnresolvedItem(text="crocchette", quantity=2, candidates=("p-croc", "p-rose"))
AMBIGUOUS = replace(ORDER, cart=(), unresolved=(CROCCHETTE,))


def tap(row_id: str, title: str = "scelta") -> MessageReceived:
    """The customer picks a row of a list message."""
    m = msg(None)
    picked = InteractiveReply(type="list_reply", id=row_id, title=title)
    return replace(m, kind="interactive", interactive=picked)


def asked_list() -> tuple[ChoiceRequested, ReplyQueued]:
    """The choice and the list message of the ambiguous order."""
    out = given().when(msg("vorrei 2 crocchette"), understanding=AMBIGUOUS)
    choice, reply = out.events[-2:]
    assert isinstance(choice, ChoiceRequested)
    assert isinstance(reply, ReplyQueued)
    return choice, reply


def test_ambiguous_item_gets_a_list_message_with_the_candidates_as_rows() -> None:
    """One row per candidate plus "none of these"; ids name our choice; no cart yet."""
    choice, reply = asked_list()
    assert reply.kind is ReplyKind.LIST
    assert "quale di questi intendevi?" in reply.text
    assert [r.id for r in reply.rows] == [
        f"choice:{choice.choice_id}:p-croc",
        f"choice:{choice.choice_id}:p-rose",
        f"choice:{choice.choice_id}:-",
    ]
    assert reply.rows[-1].title == "Nessuno di questi"
    assert {r.section for r in reply.rows} == {"crocchette"}
    assert "€ 18,90" in reply.rows[0].description
    assert (choice.item.text, choice.item.quantity) == ("crocchette", 2)


def test_rows_respect_meta_limits_for_long_names_and_many_candidates() -> None:
    """At most 10 rows; titles <= 24 and descriptions <= 72 characters, cut with an ellipsis."""
    long_name = "Crocchette super premium per cani anziani di taglia grande 15 kg " * 2
    products = [
        Product(id=f"p{i}", dealer_id="d", name=long_name, price=Decimal("1.00"), stock=1)
        for i in range(15)
    ]
    item = UnresolvedLine(text="crocchette per cani anziani", quantity=1)
    rows = choices.rows("c1", item, products)
    assert len(rows) == 10
    assert all(len(r.title) <= ROW_TITLE_MAX for r in rows)
    assert all(len(r.description) <= ROW_DESCRIPTION_MAX for r in rows)
    assert rows[0].title.endswith("…")
    assert len(rows[0].section) <= 24


def test_tapping_a_row_resolves_the_item_into_a_cart_to_confirm() -> None:
    """The tapped product with the asked quantity becomes the cart, with the usual buttons."""
    choice, reply = asked_list()
    out = given(choice, reply).when(tap(reply.rows[0].id), understanding=None)
    made, proposed, summary = out.events
    assert isinstance(made, ChoiceMade)
    assert (made.choice_id, made.product_id) == (choice.choice_id, "p-croc")
    assert isinstance(proposed, CartProposed)
    assert [(line.product_id, line.quantity) for line in proposed.lines] == [("p-croc", 2)]
    assert isinstance(summary, ReplyQueued)
    assert [b.title for b in summary.buttons] == ["Confermo", "Modifica", "Annulla"]


def test_known_lines_are_kept_and_the_next_ambiguous_item_is_asked() -> None:
    """Two ambiguous items and a matched one: ask one at a time, then one cart with all."""
    second = UnresolvedItem(text="fiori", quantity=1, candidates=("p-rose", "p-croc"))
    order = replace(ORDER, cart=(CartLine(product_id="p-rose", quantity=1),))
    order = replace(order, unresolved=(CROCCHETTE, second))
    first = given().when(msg("2 crocchette, dei fiori e delle rose"), understanding=order)
    choice1, list1 = first.events[-2:]
    assert isinstance(list1, ReplyQueued)
    after1 = given(choice1, list1).when(tap(list1.rows[0].id), understanding=None)
    _made, choice2, list2 = after1.events
    assert isinstance(choice2, ChoiceRequested)
    assert choice2.item.text == "fiori"
    assert isinstance(list2, ReplyQueued)
    after2 = given(choice1, list1, *after1.events).when(tap(list2.rows[0].id), understanding=None)
    proposed = next(e for e in after2.events if isinstance(e, CartProposed))
    assert sorted((x.product_id, x.quantity) for x in proposed.lines) == [
        ("p-croc", 2),
        ("p-rose", 2),
    ]


def test_none_of_these_drops_the_item_and_asks_again() -> None:
    """The "none" row: no cart, a friendly ask to rephrase."""
    choice, reply = asked_list()
    out = given(choice, reply).when(tap(reply.rows[-1].id), understanding=None)
    made, answer = out.events
    assert isinstance(made, ChoiceMade)
    assert made.product_id is None
    assert isinstance(answer, ReplyQueued)
    assert answer.text == choices.NONE_CHOSEN


def test_a_stale_or_foreign_row_id_is_not_taken_for_a_choice() -> None:
    """A tap on an older list is told it expired; nothing enters a cart."""
    choice, reply = asked_list()
    old = reply.rows[0].id.replace(choice.choice_id, "older-choice")
    out = given(choice, reply).when(tap(old), understanding=None)
    [answer] = out.events
    assert isinstance(answer, ReplyQueued)
    assert answer.text == choices.STALE


def test_unknown_item_without_candidates_is_told_plainly_and_the_rest_proposed() -> None:
    """Nothing like «astronavi»: a clear text, and the matched lettiera still goes to the cart."""
    unknown = UnresolvedItem(text="astronavi", quantity=3, candidates=())
    out = given().when(
        msg("2 crocchette e 3 astronavi"), understanding=replace(ORDER, unresolved=(unknown,))
    )
    told, proposed, _buttons = out.events
    assert isinstance(told, ReplyQueued)
    assert told.kind is ReplyKind.TEXT
    assert "non abbiamo «astronavi»" in told.text
    assert isinstance(proposed, CartProposed)


def test_only_unknown_items_give_only_the_plain_answer() -> None:
    """No list and no generic "what do you want?" after saying we do not have it."""
    unknown = UnresolvedItem(text="pizza", quantity=1, candidates=())
    out = given().when(
        msg("una pizza"), understanding=replace(ORDER, cart=(), unresolved=(unknown,))
    )
    [told] = out.events
    assert isinstance(told, ReplyQueued)
    assert "non abbiamo «pizza»" in told.text


def test_reading_taps() -> None:
    """Our ids are read back; anything else is not a tap of ours."""
    assert choices.read_tap("choice:abc:p-1") == choices.Tap(choice_id="abc", product_id="p-1")
    assert choices.read_tap("choice:abc:-") == choices.Tap(choice_id="abc", product_id=None)
    assert choices.read_tap("cart:confirm") is None
    assert choices.read_tap("choice:") is None
    assert choices.read_tap(None) is None


def test_tap_needs_no_assistant_and_survives_replay() -> None:
    """A tap is decided without the assistant; folding the outcome closes the choice."""
    choice, reply = asked_list()
    state = given(choice, reply).state
    assert state.pending_choice is not None
    picked = tap(reply.rows[0].id)
    assert not needs_understanding(state, CustomerTurn.of([picked]), picked.sent_at)
    out = given(choice, reply).when(picked, understanding=None)
    assert given(choice, reply, *out.events).state.pending_choice is None
