"""The conversation life cycle: its table, ``evolve`` on stored facts, and the turn rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from core.agent_actions import AgentAction, AgentActionKind, decide_agent_action
from core.catalog import Catalog, Dealer, Product
from core.conversation import (
    MOVES,
    ConversationState,
    CustomerTurn,
    OutsideServiceWindowError,
    Stage,
    TurnContext,
    TurnMessage,
    diagram,
    evolve,
    fold,
    next_stage,
)
from core.conversation_texts import CANCEL_ID, CONFIRM_ID, MODIFY_ID, OPTED_OUT, RATE_LIMITED
from core.machines import DomainError, IllegalTransitionError
from core.ports import AssistantTrace, Understood
from core.recorded_reading import understanding_event, understanding_of
from core.turn_rules import decide_preferences, decide_turn
from core.understanding import CartLine, Intent, ProductHit, Understanding, UnresolvedItem
from events.cart import CartMergeAsked
from events.codec import decode_payload, encode_payload
from events.conversation import (
    AgentTookOver,
    CartCancelled,
    CartConfirmed,
    CartProposed,
    ChoiceRequested,
    ConversationEscalated,
    ConversationReleased,
    ConversationResolved,
    ConversationStarted,
    OptedIn,
    OptedOut,
    OptSource,
    PartyKind,
    PricedLine,
    RateLimited,
    ReplyKind,
    ReplyQueued,
    Sender,
)
from events.notify import PushRequested
from events.whatsapp import (
    InteractiveReply,
    MessageReceived,
    StatusReceived,
    UserPreferencesReceived,
)

KEY = "+393281234567"
T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
CATALOG = Catalog.of(
    [
        Dealer(id="d-zampe", name="Zampe Felici", category="pet", phone="+390212345678"),
        Dealer(id="d-fiori", name="Fiori di Brera", category="florist", phone="+390298765432"),
    ],
    [
        Product(
            id="p-croc", dealer_id="d-zampe", name="Crocchette Monge 3 kg",
            price=Decimal("18.90"), stock=10,
        ),
        Product(
            id="p-rose", dealer_id="d-fiori", name="Mazzo di rose rosse",
            price=Decimal("25.00"), stock=4,
        ),
    ],
)  # fmt: skip
CROC_LINE = PricedLine(
    product_id="p-croc", dealer_id="d-zampe", name="Crocchette Monge 3 kg",
    quantity=2, unit_price=Decimal("18.90"), line_total=Decimal("37.80"),
)  # fmt: skip
ORDER = Understanding(
    intent=Intent.ORDER_REQUEST, confidence=0.9, cart=(CartLine(product_id="p-croc", quantity=2),)
)
CHAT = Understanding(intent=Intent.GENERAL_CHAT, confidence=0.8)
SEQ = count(1)


# --------------------------------------------------------------------------- builders


def msg(
    text: str | None = "ciao",
    *,
    at: datetime = T0,
    kind: str = "text",
    button: str | None = None,
) -> MessageReceived:
    """A recorded customer message with a fresh wamid."""
    interactive = None
    if button is not None:
        interactive = InteractiveReply(type="button_reply", id=button, title=text)
        kind, text = "interactive", None
    return MessageReceived(
        wamid=f"wamid.{next(SEQ)}", wa_id=KEY[1:], phone=KEY, bsuid=None,
        kind=kind, text=text, sent_at=at, interactive=interactive,
    )  # fmt: skip


def ids() -> Iterator[str]:
    """Deterministic new ids: id-1, id-2, ..."""
    return (f"id-{n}" for n in count(1))


def proposed(cart_id: str = "cart-1") -> CartProposed:
    """A cart of two bags of crocchette waiting for confirmation."""
    return CartProposed(cart_id=cart_id, lines=(CROC_LINE,), total=Decimal("37.80"))


STARTED = ConversationStarted(key=KEY, kind=PartyKind.CUSTOMER)


@dataclass(frozen=True)
class Outcome:
    """The events a decision returned."""

    events: list[object]

    def then(self, *expected: object) -> None:
        """The decision is exactly ``expected``."""
        assert self.events == list(expected)

    def then_types(self, *expected: type[object]) -> None:
        """The decision has events of these types, in order."""
        assert [type(e) for e in self.events] == list(expected)

    def replies(self) -> list[ReplyQueued]:
        """The queued replies."""
        return [e for e in self.events if isinstance(e, ReplyQueued)]


@dataclass(frozen=True)
class Given:
    """A conversation folded from its history."""

    state: ConversationState

    def when(
        self,
        *facts: MessageReceived,
        understanding: Understanding | None = CHAT,
        now: datetime | None = None,
        context: TurnContext | None = None,
    ) -> Outcome:
        """Record ``facts`` (facts come first), then decide the turn they form."""
        state = fold(self.state, facts)
        turn = CustomerTurn.of(facts)
        at = now or turn.at + timedelta(seconds=2)
        ctx = context or TurnContext(catalog=CATALOG)
        return Outcome(decide_turn(state, turn, understanding, at, ids(), context=ctx))

    def when_agent(
        self, kind: AgentActionKind, text: str | None = None, *, now: datetime | None = None
    ) -> Outcome:
        """An agent's dashboard request."""
        action = AgentAction(kind=kind, agent="agent-giulia", text=text)
        return Outcome(list(decide_agent_action(self.state, action, now or T0, ids())))


def given(*history: object) -> Given:
    """A conversation with ``history`` recorded (``STARTED`` is prepended)."""
    return Given(fold(ConversationState(key=KEY), (STARTED, *history)))


# --------------------------------------------------------------------------- the table

STAGES = [s.value for s in Stage]
TRIGGERS = sorted({m.trigger for m in MOVES})
ALLOWED = {(src, m.trigger): m.dest for m in MOVES for src in m.sources}
FORBIDDEN = [(s, t) for s in STAGES for t in TRIGGERS if (s, t) not in ALLOWED]


@pytest.mark.parametrize(("source", "trigger"), sorted(ALLOWED))
def test_allowed_move_leads_to_its_destination(source: str, trigger: str) -> None:
    """Every row of the table is honoured by ``next_stage``."""
    assert next_stage(Stage(source), trigger) == Stage(ALLOWED[source, trigger])


@pytest.mark.parametrize(("source", "trigger"), FORBIDDEN)
def test_forbidden_move_raises_illegal_transition(source: str, trigger: str) -> None:
    """Anything not in the table is refused."""
    with pytest.raises(IllegalTransitionError):
        next_stage(Stage(source), trigger)


def test_illegal_transition_is_a_domain_error() -> None:
    """The web layer maps it to 409 through ``DomainError``."""
    assert issubclass(IllegalTransitionError, DomainError)


def test_diagram_draws_every_move() -> None:
    """The Mermaid diagram has one arrow per (source, trigger)."""
    assert diagram().count("-->") == len(ALLOWED) + 1


# --------------------------------------------------------------------------- evolve


def test_new_message_reopens_a_resolved_conversation() -> None:
    """Writing into a closed conversation puts the bot back in charge."""
    state = fold(given(ConversationResolved(agent="a")).state, [msg()])
    assert state.stage is Stage.PENDING


def test_message_records_the_window_and_the_rate_timestamps() -> None:
    """The last customer time and the recent timestamps come from ``sent_at``."""
    state = given(msg(at=T0), msg(at=T0 + timedelta(seconds=5))).state
    assert state.last_customer_message_at == T0 + timedelta(seconds=5)
    assert state.recent_inbound == (T0, T0 + timedelta(seconds=5))
    assert state.message_count == 2


def test_escalation_opens_the_conversation() -> None:
    """People own it after an escalation."""
    assert given(ConversationEscalated(reason="support_request")).state.stage is Stage.OPEN


def test_release_hands_back_to_the_bot() -> None:
    """Releasing clears the assignee."""
    state = given(AgentTookOver(agent="a"), ConversationReleased(agent="a")).state
    assert (state.stage, state.assignee) == (Stage.PENDING, None)


def test_cart_events_set_and_clear_the_pending_cart() -> None:
    """Proposed carts wait; confirmed ones leave."""
    waiting = given(proposed()).state
    assert waiting.stage is Stage.AWAITING_CONFIRMATION
    assert waiting.pending_cart is not None
    assert waiting.pending_cart.total == Decimal("37.80")
    done = evolve(waiting, CartConfirmed(cart_id="cart-1", wamid=None))
    assert (done.stage, done.pending_cart) == (Stage.PENDING, None)


def test_late_cart_cancellation_keeps_an_open_conversation_open() -> None:
    """A cart dropped while an agent owns the chat does not hand it back to the bot."""
    state = given(proposed(), AgentTookOver(agent="a"), CartCancelled(cart_id="cart-1", reason="x"))
    assert state.state.stage is Stage.OPEN


def test_unrelated_facts_leave_the_state_alone() -> None:
    """Statuses and unknown objects are folded as no-ops."""
    status = StatusReceived(
        wamid="wamid.x", status="read", recipient_id=KEY[1:], phone=KEY, bsuid=None, timestamp=T0
    )
    state = given().state
    assert evolve(evolve(state, status), object()) == state


# --------------------------------------------------------------------------- customer turns


def test_first_turn_records_who_is_writing() -> None:
    """A new conversation starts with ConversationStarted."""
    out = Given(ConversationState(key=KEY)).when(msg("ciao"))
    assert out.events[0] == STARTED


def test_order_with_resolved_cart_proposes_it_with_buttons() -> None:
    """An order is priced from the catalogue and offered with Confermo/Modifica/Annulla."""
    out = given().when(msg("vorrei 2 crocchette monge"), understanding=ORDER)
    out.then_types(CartProposed, ReplyQueued)
    cart, reply = out.events
    assert isinstance(cart, CartProposed)
    assert isinstance(reply, ReplyQueued)
    assert (cart.lines, cart.total) == ((CROC_LINE,), Decimal("37.80"))
    assert [b.title for b in reply.buttons] == ["Confermo", "Modifica", "Annulla"]
    assert reply.kind is ReplyKind.BUTTONS
    assert "€ 37,80" in reply.text


@pytest.mark.parametrize("text", ["confermo", "Sì", "si", "OK", "va bene!", "Confermo."])
def test_confirmation_words_confirm_the_cart(text: str) -> None:
    """Short Italian yeses confirm the waiting cart."""
    out = given(proposed()).when(m := msg(text))
    assert out.events[0] == CartConfirmed(cart_id="cart-1", wamid=m.wamid)


def test_confirm_button_confirms_the_cart() -> None:
    """Tapping Confermo confirms."""
    out = given(proposed()).when(msg("Confermo", button=CONFIRM_ID))
    out.then_types(CartConfirmed, ReplyQueued)


def test_annulla_cancels_the_cart() -> None:
    """``annulla`` drops the cart and says so."""
    out = given(proposed()).when(msg("Annulla"))
    assert out.events[0] == CartCancelled(cart_id="cart-1", reason="customer")


def test_cancel_button_cancels_the_cart() -> None:
    """Tapping Annulla drops the cart."""
    out = given(proposed()).when(msg("Annulla", button=CANCEL_ID))
    assert out.events[0] == CartCancelled(cart_id="cart-1", reason="customer")


def test_modify_button_keeps_the_cart_and_asks_what_to_change() -> None:
    """Modifica keeps the cart (no event) and asks what to change."""
    out = given(proposed()).when(msg("Modifica", button=MODIFY_ID))
    out.then_types(ReplyQueued)
    assert "cambiare" in out.replies()[0].text


def test_new_order_while_waiting_asks_to_add_or_start_over() -> None:
    """A fresh order without edit words keeps the cart and asks: add, or a new cart?"""
    out = given(proposed()).when(msg("2 crocchette"), understanding=ORDER)
    out.then_types(CartMergeAsked, ReplyQueued)
    assert [b.title for b in out.replies()[0].buttons] == ["Aggiungi", "Nuovo carrello"]


def test_unresolved_item_is_asked_about_not_guessed() -> None:
    """An ambiguous product gets a question listing the candidates."""
    unsure = replace(
        ORDER,
        cart=(),
        unresolved=(UnresolvedItem(text="fiori", quantity=1, candidates=("p-rose",)),),
    )
    out = given().when(msg("vorrei dei fiori"), understanding=unsure)
    out.then_types(ChoiceRequested, ReplyQueued)
    [reply] = out.replies()
    assert reply.kind is ReplyKind.LIST
    assert "Mazzo di rose rosse" in [r.title for r in reply.rows]


def test_order_without_products_asks_what_to_order() -> None:
    """An order with nothing matched asks for products."""
    out = given().when(msg("voglio ordinare"), understanding=replace(ORDER, cart=()))
    out.then_types(ReplyQueued)


def test_support_request_escalates_and_tells_a_person_will_answer() -> None:
    """Support goes to people and the customer is told."""
    support = Understanding(intent=Intent.SUPPORT_REQUEST, confidence=0.9)
    out = given().when(msg("il mio ordine non è arrivato"), understanding=support)
    assert out.events[0] == ConversationEscalated(reason="support_request")
    assert "operatore" in out.replies()[0].text


def test_support_request_pushes_an_alert_to_support() -> None:
    """Support agents' devices are alerted, with the conversation in the data."""
    support = Understanding(intent=Intent.SUPPORT_REQUEST, confidence=0.9)
    out = given().when(msg("voglio parlare con qualcuno"), understanding=support)
    [push] = [e for e in out.events if isinstance(e, PushRequested)]
    assert (push.audience, push.reason, push.owner) == ("support", "escalation", None)
    assert ("conversation", KEY) in [(d.key, d.value) for d in push.data]


def test_bot_is_silent_while_the_conversation_is_open() -> None:
    """Once people own it, the bot says nothing."""
    given(ConversationEscalated(reason="support_request")).when(msg("ci siete?")).then()


def test_product_question_lists_catalogue_prices() -> None:
    """Product answers are grounded in catalogue rows with Italian prices."""
    ask = Understanding(
        intent=Intent.PRODUCT_INQUIRY,
        confidence=0.9,
        products=(ProductHit(product_id="p-croc", score=0.9),),
    )
    out = given().when(msg("quanto costano le crocchette?"), understanding=ask)
    assert "€ 18,90" in out.replies()[0].text


def test_recorded_assistant_reply_is_used_for_small_talk() -> None:
    """An assistant-written reply replaces the template draft."""
    ctx = TurnContext(catalog=CATALOG, reply_text="Ciao Giulia! Come posso aiutarti?")
    out = given().when(msg("ciao"), context=ctx)
    assert out.replies()[0].text == "Ciao Giulia! Come posso aiutarti?"


def test_failed_understanding_of_text_gets_the_fallback() -> None:
    """No understanding (assistant failed) still answers politely."""
    out = given().when(msg("boh"), understanding=None)
    assert "operatore" in out.replies()[0].text


def test_non_text_message_asks_for_text() -> None:
    """An image without caption asks the customer to write."""
    out = given().when(msg(None, kind="image"), understanding=None)
    assert "testo" in out.replies()[0].text


def test_reply_quotes_the_last_message_of_the_turn() -> None:
    """The reply is tied to the newest wamid of the debounced turn."""
    first, last = msg("ciao"), msg("ci sei?", at=T0 + timedelta(seconds=1))
    out = given().when(first, last)
    assert out.replies()[0].in_reply_to == last.wamid


def test_turn_decided_after_the_window_sends_nothing() -> None:
    """A backlog processed more than 24 hours late gets no free-form answer."""
    given().when(msg("ciao"), now=T0 + timedelta(hours=25)).then()


def test_dealer_turns_get_no_customer_answers() -> None:
    """Dealers' messages are read by the order relay, not answered as a customer."""
    dealer = Given(
        fold(ConversationState(key=KEY), [ConversationStarted(key=KEY, kind=PartyKind.DEALER)])
    )
    dealer.when(msg("accetto")).then()


# --------------------------------------------------------------------------- opt-out


def test_stop_opts_out_with_one_confirmation() -> None:
    """STOP records the opt-out and confirms it once."""
    out = given().when(msg("STOP"))
    out.then_types(OptedOut, ReplyQueued)
    assert out.events[0] == OptedOut(source=OptSource.KEYWORD, keyword="stop")
    assert out.replies()[0].text == OPTED_OUT


def test_opt_out_drops_a_waiting_cart() -> None:
    """A pending cart is cancelled before opting out."""
    out = given(proposed()).when(msg("non scrivermi più"))
    out.then_types(CartCancelled, OptedOut, ReplyQueued)


def test_opt_out_beats_the_silence_of_an_open_conversation() -> None:
    """Even when people own the chat, STOP is honoured."""
    out = given(AgentTookOver(agent="a")).when(msg("basta"))
    out.then_types(OptedOut, ReplyQueued)


def test_repeated_stop_after_opting_out_is_silent() -> None:
    """A second STOP changes nothing."""
    given(OptedOut(source=OptSource.KEYWORD)).when(msg("stop")).then()


def test_new_message_after_opting_out_opts_back_in_and_is_answered() -> None:
    """Writing again is an opt-in; the message is then handled normally."""
    out = given(OptedOut(source=OptSource.KEYWORD)).when(msg("ciao"))
    out.then_types(OptedIn, ReplyQueued)
    assert out.events[0] == OptedIn(source=OptSource.MESSAGE)


def test_opted_in_state_is_pending_and_not_opted_out() -> None:
    """Folding OptedIn clears the flag."""
    state = given(OptedOut(source=OptSource.META), OptedIn(source=OptSource.MESSAGE)).state
    assert (state.stage, state.opted_out) == (Stage.PENDING, False)


def _preferences(value: str) -> UserPreferencesReceived:
    return UserPreferencesReceived(
        wa_id=KEY[1:], phone=KEY, bsuid=None, category="marketing_messages",
        value=value, changed_at=T0,
    )  # fmt: skip


def test_meta_stop_opts_out_without_a_reply() -> None:
    """Meta's marketing stop is an opt-out; we do not write back."""
    assert decide_preferences(given().state, _preferences("stop")) == [
        OptedOut(source=OptSource.META)
    ]


def test_meta_resume_opts_back_in() -> None:
    """Meta's resume reverses an opt-out."""
    state = given(OptedOut(source=OptSource.META)).state
    assert decide_preferences(state, _preferences("resume")) == [OptedIn(source=OptSource.META)]


def test_meta_signup_changes_nothing() -> None:
    """Other preference values are ignored."""
    assert decide_preferences(given().state, _preferences("signup")) == []


# --------------------------------------------------------------------------- rate limit


def _flood(n: int) -> tuple[MessageReceived, ...]:
    return tuple(msg(f"messaggio {i}", at=T0 + timedelta(seconds=i)) for i in range(n))


def test_tenth_message_in_a_minute_is_answered() -> None:
    """The limit itself is not limited."""
    history = _flood(9)
    out = given(*history).when(msg("ancora", at=T0 + timedelta(seconds=9)))
    out.then_types(ReplyQueued)


def test_eleventh_message_in_a_minute_gets_the_one_notice() -> None:
    """Going over records RateLimited and sends one polite notice."""
    out = given(*_flood(10)).when(msg("ancora", at=T0 + timedelta(seconds=10)))
    out.then_types(RateLimited, ReplyQueued)
    assert out.replies()[0].text == RATE_LIMITED


def test_further_messages_in_the_window_are_silent() -> None:
    """After the notice, the rest of the minute gets nothing but RateLimited."""
    notice = RateLimited(wamids=("w",), at=T0 + timedelta(seconds=10), notice_sent=True)
    out = given(*_flood(11), notice).when(m := msg("e ancora", at=T0 + timedelta(seconds=11)))
    out.then(RateLimited(wamids=(m.wamid,), at=m.sent_at, notice_sent=False))


def test_customer_is_answered_again_after_a_minute() -> None:
    """The rolling window empties and the bot answers."""
    notice = RateLimited(wamids=("w",), at=T0 + timedelta(seconds=10), notice_sent=True)
    later = T0 + timedelta(seconds=75)
    given(*_flood(11), notice).when(msg("ciao", at=later)).then_types(ReplyQueued)


# --------------------------------------------------------------------------- agents


def test_agent_takes_over_a_bot_conversation() -> None:
    """Take over from pending records the agent."""
    given().when_agent(AgentActionKind.TAKE_OVER).then(AgentTookOver(agent="agent-giulia"))


def test_taking_over_ones_own_conversation_is_a_no_op() -> None:
    """A double click does not record a second take-over."""
    given(AgentTookOver(agent="agent-giulia")).when_agent(AgentActionKind.TAKE_OVER).then()


def test_agent_cannot_take_over_an_opted_out_conversation() -> None:
    """Nothing business-initiated goes to an opted-out customer: 409."""
    with pytest.raises(IllegalTransitionError):
        given(OptedOut(source=OptSource.KEYWORD)).when_agent(AgentActionKind.TAKE_OVER)


def test_release_of_a_bot_conversation_is_refused() -> None:
    """Only open conversations can be released."""
    with pytest.raises(IllegalTransitionError):
        given().when_agent(AgentActionKind.RELEASE)


def test_release_drops_a_cart_left_waiting() -> None:
    """A cart proposed before the hand-over is cancelled when the bot takes back."""
    out = given(proposed(), AgentTookOver(agent="a")).when_agent(AgentActionKind.RELEASE)
    out.then(
        CartCancelled(cart_id="cart-1", reason="released"),
        ConversationReleased(agent="agent-giulia"),
    )


def test_agent_releases_an_open_conversation() -> None:
    """Release hands the conversation back."""
    out = given(AgentTookOver(agent="agent-giulia")).when_agent(AgentActionKind.RELEASE)
    out.then(ConversationReleased(agent="agent-giulia"))


def test_resolving_twice_is_refused() -> None:
    """A resolved conversation cannot be resolved again."""
    with pytest.raises(IllegalTransitionError):
        given(ConversationResolved(agent="a")).when_agent(AgentActionKind.RESOLVE)


def test_agent_resolves_an_open_conversation() -> None:
    """Resolve closes it."""
    out = given(AgentTookOver(agent="a")).when_agent(AgentActionKind.RESOLVE)
    out.then(ConversationResolved(agent="agent-giulia"))


def test_agent_reply_takes_over_and_queues_the_text() -> None:
    """Replying from the dashboard silences the bot first."""
    out = given(msg("aiuto")).when_agent(AgentActionKind.REPLY, "Ciao, sono Giulia.")
    out.then_types(AgentTookOver, ReplyQueued)
    reply = out.replies()[0]
    assert (reply.sender, reply.agent, reply.to) == (Sender.AGENT, "agent-giulia", KEY)


def test_agent_reply_outside_the_window_is_refused() -> None:
    """Free-form text after 24 hours is a 409: use a template."""
    with pytest.raises(OutsideServiceWindowError):
        given(msg("aiuto"), AgentTookOver(agent="agent-giulia")).when_agent(
            AgentActionKind.REPLY, "Eccomi", now=T0 + timedelta(hours=24, minutes=1)
        )


def test_empty_agent_reply_is_refused() -> None:
    """A blank reply is a domain error."""
    with pytest.raises(DomainError):
        given(msg("aiuto")).when_agent(AgentActionKind.REPLY, "   ")


# --------------------------------------------------------------------------- helpers


def test_understanding_survives_its_event() -> None:
    """Recording an understanding and reading it back gives the same value."""
    trace = AssistantTrace(engine="offline", model=None, prompt_version="v1", latency_ms=3)
    recorded = understanding_event(("w1",), Understood(understanding=ORDER, trace=trace))
    assert understanding_of(recorded) == ORDER


def test_button_reply_is_read_as_text_and_id() -> None:
    """A tapped button gives its title as text and its id."""
    turn = TurnMessage.from_fact(msg("Confermo", button=CONFIRM_ID))
    assert (turn.text, turn.button_id) == ("Confermo", CONFIRM_ID)


def test_bsuid_conversation_replies_to_the_bsuid() -> None:
    """``bsuid:`` keys send to the bare business-scoped id."""
    state = fold(ConversationState(key="bsuid:IT.123456"), [STARTED])
    out = Given(state).when(msg("ciao"))
    assert out.replies()[0].to == "IT.123456"


# --------------------------------------------------------------------------- properties

TEXTS = ["ciao", "STOP", "confermo", "annulla", "vorrei 2 crocchette", "aiuto", "Modifica"]
UNDERSTANDINGS = [None, CHAT, ORDER, Understanding(intent=Intent.SUPPORT_REQUEST, confidence=1)]
RECORDED: list[object] = [
    proposed(), proposed("cart-2"), CartConfirmed(cart_id="cart-1", wamid=None),
    CartCancelled(cart_id="cart-2", reason="customer"), ConversationEscalated(reason="x"),
    AgentTookOver(agent="a"), ConversationReleased(agent="a"), ConversationResolved(agent="a"),
    OptedOut(source=OptSource.META), OptedIn(source=OptSource.MESSAGE), STARTED,
    RateLimited(wamids=(), at=T0, notice_sent=True), _preferences("stop"),
]  # fmt: skip

offsets = st.integers(min_value=0, max_value=3 * 24 * 3600)
inbound = st.builds(
    lambda t, s: msg(t, at=T0 + timedelta(seconds=s)), st.sampled_from(TEXTS), offsets
)
any_event = st.one_of(st.sampled_from(RECORDED), inbound)


@settings(max_examples=200, deadline=None)
@hypothesis_given(st.lists(any_event, max_size=40))
def test_evolve_never_raises_on_any_stored_sequence(events: list[object]) -> None:
    """Any order of stored events folds to some valid state."""
    state = fold(ConversationState(key=KEY), events)
    assert state.stage in set(Stage)
    assert state.stage is not Stage.AWAITING_CONFIRMATION or state.pending_cart is not None


def _stored(event: object) -> object:
    """The event as the store gives it back (encoded, then decoded)."""
    return decode_payload(event.TYPE, event.VERSION, encode_payload(event))  # type: ignore[attr-defined]


@settings(max_examples=100, deadline=None)
@hypothesis_given(
    st.lists(
        st.tuples(st.sampled_from(TEXTS), st.integers(0, 600), st.sampled_from(UNDERSTANDINGS)),
        max_size=25,
    )
)
def test_replay_equals_live(turns: list[tuple[str, int, Understanding | None]]) -> None:
    """Folding the stored stream reproduces the state built live, turn by turn."""
    live, stream, at, new_ids = ConversationState(key=KEY), [], T0, ids()
    for text, gap, understanding in turns:
        at += timedelta(seconds=gap)
        fact = msg(text, at=at)
        live = evolve(live, fact)
        decided = decide_turn(
            live, CustomerTurn.of([fact]), understanding, at, new_ids,
            context=TurnContext(catalog=CATALOG),
        )  # fmt: skip
        live = fold(live, decided)
        stream += [fact, *decided]
    assert fold(ConversationState(key=KEY), map(_stored, stream)) == live
