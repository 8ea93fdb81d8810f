"""The checkout in the pure core: details in any order, fee, zones, hours, replay, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from core.business_facts import ShopFacts
from core.catalog import Catalog, Dealer, Product
from core.checkout import CheckoutMemory
from core.conversation import ConversationState, CustomerTurn, Stage, TurnContext, evolve, fold
from core.turn_rules import decide_turn
from core.understanding import CartLine, DeliveryHints, Intent, Understanding
from events.checkout import CheckoutCompleted, CheckoutDetailsGiven, CheckoutStarted
from events.conversation import (
    CartCancelled,
    CartConfirmed,
    CartProposed,
    ConversationEscalated,
    ReplyQueued,
)
from events.whatsapp import Location, MessageReceived

KEY = "+393402000099"
WEDNESDAY_11 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 11:00 in Rome
SHOP = ShopFacts.of("lun-sab 9:00-20:00", "Milano centro", "2,90 €")
CATALOG = Catalog.of(
    [Dealer(id="d-pet", name="Zampe Felici", category="pet", phone="+390212345678")],
    [Product(id="p-lett", dealer_id="d-pet", name="Lettiera", price=Decimal("9.90"), stock=5)],
)
ORDER = Understanding(
    intent=Intent.ORDER_REQUEST, confidence=0.9, cart=(CartLine(product_id="p-lett", quantity=2),)
)
CHAT = Understanding(intent=Intent.GENERAL_CHAT, confidence=0.6)


class Chat:
    """A conversation driven turn by turn through ``decide_turn``, its events kept."""

    def __init__(self, shop: ShopFacts | None = SHOP) -> None:
        self.state = ConversationState(key=KEY)
        self.log: list[object] = []
        self.ids = (f"id-{n}" for n in count())
        self.n = 0
        self.shop = shop

    def say(
        self,
        text: str | None,
        understanding: Understanding | None = CHAT,
        *,
        location: Location | None = None,
        at: datetime = WEDNESDAY_11,
    ) -> list[object]:
        """One customer message at ``at``; the decisions are folded and returned."""
        self.n += 1
        message = MessageReceived(
            wamid=f"w{self.n}", phone=KEY, wa_id=KEY[1:], bsuid=None, sent_at=at,
            kind="location" if location else "text", text=text, location=location,
        )  # fmt: skip
        self.state = evolve(self.state, message)
        context = TurnContext(catalog=CATALOG, shop=self.shop)
        turn = CustomerTurn.of([message])
        out = decide_turn(self.state, turn, understanding, at, self.ids, context=context)
        self.state = fold(self.state, out)
        self.log += [message, *out]
        return out

    def replies(self, out: list[object]) -> str:
        """The texts of the replies in ``out``."""
        return "\n".join(e.text for e in out if isinstance(e, ReplyQueued))

    def accepted(self) -> None:
        """A cart of two lettiere, confirmed."""
        self.say("vorrei 2 lettiere", ORDER, at=WEDNESDAY_11 - timedelta(minutes=5))
        self.say("sì", CHAT, at=WEDNESDAY_11 - timedelta(minutes=4))


def kinds(out: list[object]) -> list[type]:
    """The event classes of a decision."""
    return [type(e) for e in out]


def test_confirming_starts_the_checkout_and_asks_for_the_address() -> None:
    """CartConfirmed then CheckoutStarted with the fee; the reply asks for the three details."""
    chat = Chat()
    chat.say("vorrei 2 lettiere", ORDER)
    out = chat.say("confermo")
    assert kinds(out)[:2] == [CartConfirmed, CheckoutStarted]
    started = out[1]
    assert isinstance(started, CheckoutStarted)
    assert (started.items_total, started.fee) == (Decimal("19.80"), Decimal("2.90"))
    assert "indirizzo" in chat.replies(out)
    assert chat.state.stage is Stage.CHECKOUT


def test_without_shop_facts_a_confirmation_means_what_it_always_meant() -> None:
    """No shop facts: CartConfirmed alone and "Ordine confermato" (the relay starts at once)."""
    chat = Chat(shop=None)
    chat.say("vorrei 2 lettiere", ORDER)
    out = chat.say("confermo")
    assert CheckoutStarted not in kinds(out)
    assert "Ordine confermato" in chat.replies(out)
    assert chat.state.stage is Stage.PENDING


def test_details_in_any_order_complete_with_the_total_including_delivery() -> None:
    """Time first, then address, then payment: only what is missing is asked for."""
    chat = Chat()
    chat.accepted()
    first = chat.replies(chat.say("giovedì alle 17"))
    assert "indirizzo" in first
    assert "contanti o carta" in first
    second = chat.replies(chat.say("corso di Porta Romana 40, Milano"))
    assert "indirizzo di consegna" not in second
    out = chat.say("contanti")
    [done] = [e for e in out if isinstance(e, CheckoutCompleted)]
    assert (done.address, done.payment, done.when_text) == (
        "corso di Porta Romana 40, Milano",
        "contanti",
        "domani alle 17:00",
    )
    assert (done.fee, done.total) == (Decimal("2.90"), Decimal("22.70"))
    assert "Totale con consegna: € 22,70" in chat.replies(out)
    assert chat.state.stage is Stage.PENDING


def test_all_details_in_one_message_complete_at_once() -> None:
    """ "via …, domani alle 10, pago con carta": one turn, completed."""
    chat = Chat()
    chat.accepted()
    out = chat.say("Consegna in via Santa Marta 8, Milano, domani alle 10, pago con carta")
    assert kinds(out)[-2:] == [CheckoutCompleted, ReplyQueued]
    done = out[-2]
    assert isinstance(done, CheckoutCompleted)
    assert (done.address, done.payment) == ("via Santa Marta 8, Milano", "carta")
    assert done.deliver_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_replaying_the_log_gives_the_same_state() -> None:
    """Folding the recorded events from nothing reproduces the live state."""
    chat = Chat()
    chat.accepted()
    chat.say("via Torino 15, Milano")
    replayed = fold(ConversationState(key=KEY), chat.log)
    assert replayed == chat.state
    assert replayed.checkout.current is not None
    assert replayed.checkout.current.address == "via Torino 15, Milano"


def test_a_time_outside_opening_hours_gets_the_next_slot_which_a_yes_accepts() -> None:
    """Sunday is closed: Monday 9:00 is proposed; "sì" takes it."""
    chat = Chat()
    chat.accepted()
    proposal = chat.replies(chat.say("via Torino 15, Milano, domenica alle 10, contanti"))
    assert "siamo chiusi" in proposal
    assert "lunedì 7/12 alle 9:00" in proposal
    assert not any(isinstance(e, CheckoutCompleted) for e in chat.log)
    out = chat.say("sì va bene")
    [done] = [e for e in out if isinstance(e, CheckoutCompleted)]
    assert done.when_text == "lunedì 7/12 alle 9:00"


def test_now_while_closed_says_now_and_proposes_the_opening() -> None:
    """ "adesso" at 22:00 on a Wednesday: "Adesso siamo chiusi", and tomorrow 9:00 proposed;
    a time named for later keeps "A quell'ora"."""
    chat = Chat()
    chat.accepted()
    late = WEDNESDAY_11 + timedelta(hours=11)
    proposal = chat.replies(chat.say("via Torino 15, Milano, adesso, contanti", at=late))
    assert "Adesso siamo chiusi" in proposal
    assert "domani alle 9:00" in proposal
    later = Chat()
    later.accepted()
    named = later.replies(later.say("via Torino 15, Milano, domenica alle 10, contanti"))
    assert "A quell'ora siamo chiusi" in named


def test_an_address_outside_the_zones_is_refused_and_not_recorded() -> None:
    """ "via Roma 3, Monza": a polite refusal naming the zones; the payment is still kept."""
    chat = Chat()
    chat.accepted()
    out = chat.say("via Roma 3, Monza, contanti")
    assert "Milano centro" in chat.replies(out)
    current = chat.state.checkout.current
    assert current is not None
    assert (current.address, current.payment) == (None, "contanti")


def test_bad_input_answers_in_italian_and_leaves_the_state_as_it_was() -> None:
    """A 5,000-character address and a location without coordinates record nothing."""
    chat = Chat()
    chat.accepted()
    before = chat.state.checkout
    long = chat.say("via " + "x" * 5000 + " 12, Milano")
    assert "troppo lungo" in chat.replies(long)
    pin = chat.say(None, None, location=Location(latitude=None, longitude=None, name="Casa"))
    assert "Non riesco a leggere la posizione" in chat.replies(pin)
    assert not [e for e in long + pin if isinstance(e, CheckoutDetailsGiven)]
    assert chat.state.checkout == before


def test_a_shared_location_fills_the_address() -> None:
    """A WhatsApp location with coordinates becomes the delivery address."""
    chat = Chat()
    chat.accepted()
    where = Location(
        latitude=Decimal("45.4642"), longitude=Decimal("9.19"), address="via Dante 7, Milano"
    )
    chat.say(None, None, location=where)
    current = chat.state.checkout.current
    assert current is not None
    assert current.address == "via Dante 7, Milano (posizione 45.4642, 9.19)"


def test_cancelling_during_the_checkout_drops_the_cart() -> None:
    """ "annulla" at the address question cancels the accepted cart."""
    chat = Chat()
    chat.accepted()
    out = chat.say("annulla")
    assert kinds(out)[0] is CartCancelled
    assert chat.state.checkout.current is None
    assert chat.state.stage is Stage.PENDING


def test_a_returning_customer_is_offered_the_last_address() -> None:
    """After one completed checkout the next one offers the same address; "sì" takes it."""
    chat = Chat()
    chat.accepted()
    chat.say("via Torino 15, Milano, domani alle 10, contanti")
    chat.say("vorrei 2 lettiere", ORDER)
    ask = chat.replies(chat.say("confermo"))
    assert "Consegno in via Torino 15, Milano come l'ultima volta?" in ask
    out = chat.say("sì, stasera, con carta")
    [done] = [e for e in out if isinstance(e, CheckoutCompleted)]
    assert (done.address, done.payment, done.when_text) == (
        "via Torino 15, Milano",
        "carta",
        "oggi alle 19:00",
    )


def test_a_business_question_during_the_checkout_is_answered_and_the_ask_repeated() -> None:
    """ "quanto costa la consegna?": the fee, then what is still missing."""
    chat = Chat()
    chat.accepted()
    text = chat.replies(chat.say("quanto costa la consegna?"))
    assert "2,90 €" in text
    assert "Mi manca ancora" in text


def test_memory_ignores_a_cancellation_of_another_cart() -> None:
    """A late expiry of an older cart does not close the open checkout."""
    started = CheckoutStarted(cart_id="c2", items_total=Decimal(1), fee=Decimal(2))
    memory = evolve(ConversationState(key=KEY), started).checkout
    assert memory.current is not None
    after = evolve(
        ConversationState(key=KEY, checkout=memory), CartCancelled(cart_id="c1", reason="expired")
    )
    assert after.checkout == memory
    assert CheckoutMemory().current is None
    proposal = CartProposed(cart_id="c3", lines=(), total=Decimal(0))
    assert evolve(ConversationState(key=KEY, checkout=memory), proposal).checkout == memory


def test_a_status_question_during_the_checkout_says_the_order_is_not_sent_yet() -> None:
    """ "dov'è il mio ordine?" before the details: not sent yet, and what is missing."""
    chat = Chat()
    chat.accepted()
    chat.say("via Torino 15, Milano, domenica alle 10")
    text = chat.replies(chat.say("dov'è il mio ordine?"))
    assert "non è ancora stato inviato al negozio" in text
    assert "lunedì 7/12 alle 9:00: va bene?" in text
    assert "contanti o carta" in text


def test_a_status_question_with_no_order_is_answered_not_escalated() -> None:
    """No order sent: "dov è il mio ordine" says so (or that the cart waits), never a human."""
    chat = Chat()
    support = Understanding(intent=Intent.SUPPORT_REQUEST, confidence=0.8)
    out = chat.say("dov è il mio ordine", support)
    assert "Non trovo ordini inviati" in chat.replies(out)
    assert ConversationEscalated not in kinds(out)
    chat.say("vorrei 2 lettiere", ORDER)
    out = chat.say("a che punto è l'ordine?", support)
    assert "aspetta la tua conferma" in chat.replies(out)
    assert chat.state.pending_cart is not None


def test_a_town_named_before_the_street_is_checked_against_the_zones() -> None:
    """ "a Monza, via Italia 3": refused politely; the time and payment given are kept."""
    chat = Chat()
    chat.accepted()
    text = chat.replies(chat.say("a Monza, via Italia 3, il prima possibile, contanti"))
    assert "Milano centro" in text
    current = chat.state.checkout.current
    assert current is not None
    assert (current.address, current.payment) == (None, "contanti")


def test_the_assistants_delivery_words_go_through_the_same_checks() -> None:
    """OpenAI hints fill what the text lacks; an address outside the zones is still refused."""
    chat = Chat()
    chat.accepted()
    outside = Understanding(
        intent=Intent.GENERAL_CHAT,
        confidence=0.9,
        delivery=DeliveryHints(
            address="via Roma 3, Monza", when="domani alle 10", payment="bonifico"
        ),
    )
    text = chat.replies(chat.say("come ti ho detto", outside))
    assert "Milano centro" in text
    current = chat.state.checkout.current
    assert current is not None
    assert (current.address, current.payment, current.when_text) == (
        None,
        None,
        "domani alle 10:00",
    )
    inside = Understanding(
        intent=Intent.GENERAL_CHAT,
        confidence=0.9,
        delivery=DeliveryHints(address="via Solferino 3, Milano", payment="carta"),
    )
    out = chat.say("quello di mia sorella", inside)
    [done] = [e for e in out if isinstance(e, CheckoutCompleted)]
    assert (done.address, done.payment, done.total) == (
        "via Solferino 3, Milano",
        "carta",
        Decimal("22.70"),
    )
