"""The conversation around an open cart, decided by the pure rules on the demo catalogue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from core.cart_ops import lines_of
from core.catalog import Catalog, parse_catalog
from core.conversation import ConversationState, CustomerTurn, Stage, TurnContext, fold
from core.conversation_texts import CART_BUTTONS
from core.nlu import understand
from core.turn_rules import decide_turn
from events.cart import CartMergeAsked, CartOp, CartRevised
from events.conversation import (
    CartCancelled,
    CartConfirmed,
    CartProposed,
    ChoiceMade,
    ConversationEscalated,
    ConversationStarted,
    PartyKind,
    ReplyQueued,
    UnderstoodLine,
)
from events.whatsapp import MessageReceived

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"
BASE: Catalog = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))
KEY = "+393401112233"
T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
STARTED = fold(ConversationState(key=KEY), [ConversationStarted(key=KEY, kind=PartyKind.CUSTOMER)])


@dataclass
class Chat:
    """A conversation driven turn by turn through ``decide_turn``, its events kept."""

    catalog: Catalog = BASE
    state: ConversationState = STARTED
    n: int = 0

    def say(self, text: str) -> list[object]:
        """One customer message; returns the decisions (already folded into the state)."""
        self.n += 1
        at = T0 + timedelta(minutes=self.n)
        fact = MessageReceived(
            wamid=f"wamid.{self.n}", wa_id=KEY[1:], phone=KEY, bsuid=None, kind="text",
            text=text, sent_at=at,
        )  # fmt: skip
        self.state = fold(self.state, [fact])
        ids = (f"id-{self.n}-{i}" for i in count(1))
        context = TurnContext(catalog=self.catalog)
        out = decide_turn(
            self.state, CustomerTurn.of([fact]), understand(text, self.catalog), at, ids,
            context=context,
        )  # fmt: skip
        self.state = fold(self.state, out)
        return out

    def cart(self) -> dict[str, int]:
        """The open cart as product id -> quantity."""
        if self.state.pending_cart is None:
            return {}
        return {x.product_id: x.quantity for x in lines_of(self.state.pending_cart.lines)}


def replies(out: list[object]) -> list[ReplyQueued]:
    """The replies among decisions."""
    return [e for e in out if isinstance(e, ReplyQueued)]


def test_an_edit_revises_the_cart_and_restates_it_with_total_and_buttons() -> None:
    """Old cart cancelled (revised), the operations recorded, the new cart proposed and shown."""
    chat = Chat()
    chat.say("vorrei 3 spaghetti e una passata di pomodoro")
    out = chat.say("togli la passata e mettimi anche un olio")
    assert [type(e) for e in out] == [CartCancelled, CartRevised, CartProposed, ReplyQueued]
    revised = out[1]
    assert isinstance(revised, CartRevised)
    assert [(o.op, o.product_id) for o in revised.operations] == [
        (CartOp.REMOVE, "p-passata"), (CartOp.ADD, "p-olio"),
    ]  # fmt: skip
    assert chat.cart() == {"p-spaghetti": 3, "p-olio": 1}
    [reply] = replies(out)
    assert "€ 13,85" in reply.text
    assert reply.buttons == CART_BUTTONS


def test_an_edit_says_back_what_it_changed() -> None:
    """Added and re-counted lines are named before the cart; a removed one is only counted."""
    chat = Chat()
    chat.say("vorrei 3 spaghetti e una passata di pomodoro")
    [reply] = replies(chat.say("togli la passata e mettimi anche un olio"))
    assert reply.text.startswith(
        "Fatto: ho tolto un prodotto; ho aggiunto 1 × «Olio extravergine di oliva 1 L»."
    )
    assert "Passata" not in reply.text
    [reply] = replies(chat.say("gli spaghetti portali a 5"))
    assert reply.text.startswith("Fatto: ho portato «Spaghetti 500 g» da 3 a 5.")


def test_a_quantity_over_99_is_refused_and_the_cart_stays() -> None:
    """10,000 of something: "massimo 99 per prodotto", no event, the same cart."""
    chat = Chat()
    chat.say("vorrei 2 uova")
    before = chat.cart()
    out = chat.say("aggiungi 10000 mozzarelle")
    assert [type(e) for e in out] == [ReplyQueued]
    assert "massimo 99 per prodotto" in replies(out)[0].text
    assert chat.cart() == before


def test_a_first_order_over_99_is_refused_without_a_cart() -> None:
    """The limit holds for a new order too: no cart is proposed."""
    chat = Chat()
    out = chat.say("vorrei 10000 mozzarelle di bufala")
    assert "massimo 99 per prodotto" in replies(out)[0].text
    assert chat.state.pending_cart is None


def test_zero_and_negative_quantities_get_a_clear_answer_and_change_nothing() -> None:
    """``metti 0`` and ``-2`` are explained; the cart is untouched."""
    chat = Chat()
    chat.say("vorrei 2 uova")
    for text, words in (("metti 0 uova", "almeno 1"), ("aggiungi -2 uova", "negative")):
        out = chat.say(text)
        assert [type(e) for e in out] == [ReplyQueued]
        assert words in replies(out)[0].text
        assert chat.cart() == {"p-uova": 2}


def test_an_edit_without_a_cart_is_told_plainly() -> None:
    """``togli il latte`` with no cart: a clear answer, no cart, no hand-over."""
    chat = Chat()
    out = chat.say("togli il latte")
    assert [type(e) for e in out] == [ReplyQueued]
    assert "Non hai un carrello aperto" in replies(out)[0].text


def test_a_sold_out_product_never_enters_the_cart_and_alternatives_are_offered() -> None:
    """Stock 0: named as not available, alternatives listed, the rest of the order proposed."""
    chat = Chat(catalog=BASE.with_stock("p-crocc-gatto", 0))
    out = chat.say("vorrei delle crocchette per gatto e un guinzaglio")
    assert chat.cart() == {"p-guinzaglio": 1}
    [reply] = replies(out)
    assert "non è disponibile" in reply.text
    assert "In alternativa" in reply.text
    assert reply.text.rstrip().endswith("Confermi l'ordine?")


def test_alternatives_to_a_sold_out_product_leave_out_what_the_cart_holds() -> None:
    """The thermometer is sold out: the paracetamol already asked for is not proposed again."""
    chat = Chat(catalog=BASE.with_stock("p-termometro", 0))
    [reply] = replies(chat.say("vorrei un termometro e 2 paracetamolo"))
    assert chat.cart() == {"p-paracetamolo": 2}
    assert "non è disponibile" in reply.text
    assert reply.text.count("Paracetamolo") == 1


def test_confirming_checks_stock_again() -> None:
    """A line that sold out after the proposal is dropped and told; nothing is confirmed yet."""
    chat = Chat()
    chat.say("vorrei 2 cerotti e una vitamina C")
    chat.catalog = chat.catalog.with_stock("p-vitamina-c", 0)
    out = chat.say("sì confermo")
    assert not [e for e in out if isinstance(e, CartConfirmed)]
    assert chat.cart() == {"p-cerotti": 2}
    assert "esaurito" in replies(out)[0].text
    out = chat.say("ok")
    assert [type(e) for e in out] == [CartConfirmed, ReplyQueued]


def test_more_than_the_stock_takes_what_there_is_and_says_so() -> None:
    """10 orchids with 5 in stock: 5 in the cart and the customer told; an edit past the
    stock is cut the same way."""
    chat = Chat()
    out = chat.say("vorrei 10 orchidee")
    assert chat.cart() == {"p-orchidea": 5}
    assert "abbiamo solo 5 pezzi disponibili" in replies(out)[0].text
    chat.say("aggiungi 2 cerotti")
    chat.say("le orchidee portale a 3")
    chat.say("aggiungi altre 4 orchidee")
    assert chat.cart()["p-orchidea"] == 5


def test_confirming_cuts_a_line_to_a_stock_that_fell() -> None:
    """The dealer sold some meanwhile: the line is cut to what is left, said, not confirmed."""
    chat = Chat()
    chat.say("vorrei 6 cerotti")
    chat.catalog = chat.catalog.with_stock("p-cerotti", 4)
    out = chat.say("sì confermo")
    assert not [e for e in out if isinstance(e, CartConfirmed)]
    assert chat.cart() == {"p-cerotti": 4}
    assert "solo 4 pezzi" in replies(out)[0].text
    out = chat.say("ok")
    assert [type(e) for e in out] == [CartConfirmed, ReplyQueued]


def test_natural_cancel_never_goes_to_a_human() -> None:
    """``lasciamo perdere, annulla`` cancels the cart; no escalation."""
    chat = Chat()
    chat.say("vorrei un deodorante")
    out = chat.say("lasciamo perdere, annulla")
    assert not [e for e in out if isinstance(e, ConversationEscalated)]
    assert [type(e) for e in out] == [CartCancelled, ReplyQueued]
    assert chat.state.stage is Stage.PENDING


def test_an_edit_instead_of_the_add_or_start_over_answer_is_applied() -> None:
    """Asked "add or start over?", the customer edits instead: the edit applies, nothing lost."""
    chat = Chat()
    chat.say("vorrei 2 litri di latte")
    chat.say("vorrei un pane casereccio")
    assert chat.state.pending_merge is not None
    chat.say("e mettimi anche 2 caffè")
    assert chat.cart() == {"p-latte": 2, "p-caffe": 2}
    assert chat.state.pending_merge is None


def test_an_edit_instead_of_the_answer_says_what_it_left_out() -> None:
    """The pending product the edit does not take is named, not dropped silently; one the
    edit itself adds is not named."""
    chat = Chat()
    chat.say("vorrei 2 litri di latte e 2 caffè")
    chat.say("vorrei un pane casereccio")
    said = "\n".join(r.text for r in replies(chat.say("togli il caffè")))
    assert "Fatto: ho tolto un prodotto." in said
    assert "Non ho aggiunto «Pane casereccio 500 g» al carrello" in said
    assert chat.cart() == {"p-latte": 2}
    chat.say("vorrei un pane casereccio")
    said = "\n".join(r.text for r in replies(chat.say("aggiungi il pane e togli il latte")))
    assert "Non ho aggiunto" not in said
    assert chat.cart() == {"p-pane": 1}


def test_an_unclear_answer_gets_one_short_question() -> None:
    """``boh`` while a cart waits: a short question with the cart buttons, the cart kept."""
    chat = Chat()
    chat.say("vorrei un deodorante")
    out = chat.say("boh")
    [reply] = replies(out)
    assert "confermi il carrello?" in reply.text
    assert reply.buttons == CART_BUTTONS
    assert chat.cart() == {"p-deodorante": 1}


def test_a_new_order_while_a_cart_is_open_asks_then_adds_or_starts_over() -> None:
    """No edit words: the bot asks; ``aggiungili`` merges, ``carrello nuovo`` starts over."""
    chat = Chat()
    chat.say("vorrei un deodorante")
    out = chat.say("vorrei 2 creme mani")
    assert [type(e) for e in out] == [CartMergeAsked, ReplyQueued]
    assert chat.cart() == {"p-deodorante": 1}
    chat.say("aggiungili")
    assert chat.cart() == {"p-deodorante": 1, "p-crema-mani": 2}
    chat.say("vorrei un termometro")
    chat.say("no, un carrello nuovo")
    assert chat.cart() == {"p-termometro": 1}


def test_modify_keeps_the_cart_and_the_next_edit_applies_to_it() -> None:
    """``modifica``: nothing dropped; then ``togli ...`` edits the same cart."""
    chat = Chat()
    chat.say("vorrei 2 spaghetti e un olio")
    out = chat.say("modifica")
    assert [type(e) for e in out] == [ReplyQueued]
    assert chat.cart() == {"p-spaghetti": 2, "p-olio": 1}
    chat.say("togli gli spaghetti")
    assert chat.cart() == {"p-olio": 1}


def test_a_typed_choice_keeps_the_quantity_and_the_other_lines() -> None:
    """``per il gatto`` after the crocchette list picks that row with the 3 asked for."""
    chat = Chat()
    chat.say("vorrei 3 crocchette e un guinzaglio")
    assert chat.state.pending_choice is not None
    out = chat.say("per il gatto")
    assert isinstance(out[0], ChoiceMade)
    assert chat.cart() == {"p-crocc-gatto": 3, "p-guinzaglio": 1}


def test_a_typed_choice_with_a_count_takes_that_count() -> None:
    """``quelle del gatto, due`` after "mi servono delle crocchette": two of them."""
    chat = Chat()
    chat.say("mi servono delle crocchette")
    assert chat.state.pending_choice is not None
    chat.say("quelle del gatto, due")
    assert chat.cart() == {"p-crocc-gatto": 2}


def test_a_set_on_a_one_line_cart_needs_no_product_name() -> None:
    """``portale a 5`` on a cart of one product sets that product."""
    chat = Chat()
    chat.say("vorrei 2 uova")
    chat.say("portale a 5")
    assert chat.state.pending_cart is not None
    assert lines_of(chat.state.pending_cart.lines) == (
        UnderstoodLine(product_id="p-uova", quantity=5),
    )


def test_a_question_with_anche_is_answered_not_added() -> None:
    """``avete anche il parmigiano?`` asks about a product; the cart stays as it was."""
    chat = Chat()
    chat.say("vorrei 2 uova")
    out = chat.say("avete anche il parmigiano?")
    assert chat.cart() == {"p-uova": 2}
    assert "Parmigiano" in replies(out)[0].text


def test_cancel_while_a_choice_list_is_open_drops_it_without_a_human() -> None:
    """``lascia perdere`` after the list: the choice is closed (none chosen), no escalation."""
    chat = Chat()
    chat.say("vorrei delle crocchette")
    asked = chat.state.pending_choice
    assert asked is not None
    out = chat.say("lascia perdere")
    assert [type(e) for e in out] == [ChoiceMade, ReplyQueued]
    after = chat.state
    assert (after.pending_choice, after.pending_cart) == (None, None)


def test_a_question_about_a_sold_out_product_offers_alternatives() -> None:
    """``avete le rose rosse?`` when sold out: marked esaurito, alternatives in stock named."""
    chat = Chat(catalog=BASE.with_stock("p-rose", 0))
    [reply] = replies(chat.say("avete ancora le rose rosse?"))
    assert "esaurito" in reply.text
    assert "In alternativa posso proporti: Mazzo misto" in reply.text
