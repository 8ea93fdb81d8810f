"""The outbox decider's plan for a batch: merging, the window, retries in order, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.outbound import ButtonsMessage, TextMessage
from core.outbox.decide import WINDOW_CODE, decide, read_receipts
from core.outbox.decisions import (
    Escalate,
    Fail,
    GiveUpUnknown,
    MarkAsRead,
    Reconcile,
    Send,
    SendPolicy,
)
from events.conversation import (
    ConversationEscalated,
    OutboundFailed,
    OutboundSent,
    ReplyButton,
    ReplyKind,
    ReplyQueued,
)
from events.engine import TurnProcessed
from events.notify import PushRequested
from events.outbox import OperatorAlerted, OutboundReconciled
from events.send_retries import OutboundRetryDue, OutboundRetryScheduled
from tests.unit.outbox_given import (
    KEY,
    NOW,
    Stream,
    attempted,
    inbound,
    reaction,
    status,
    template,
    text,
)


def sends(decisions: tuple[object, ...]) -> list[Send]:
    """The :class:`Send` decisions, failing the test on anything else."""
    assert all(isinstance(d, Send) for d in decisions), decisions
    return [d for d in decisions if isinstance(d, Send)]


def test_consecutive_texts_to_one_person_go_out_as_one_merged_message() -> None:
    """Three fresh texts of one batch are one send, joined by blank lines, under the first id."""
    s = Stream()
    s.given(inbound())
    batch = s.when(text("a", "Ciao!"), text("b", "Il carrello:"), text("c", "Confermi?"))
    [send] = sends(decide(s.state, batch, NOW).replies)
    assert [q.payload.outbound_id for q in send.group] == ["a", "b", "c"]
    assert send.outbound_id == "a"
    assert send.content == TextMessage(body="Ciao!\n\nIl carrello:\n\nConfermi?")
    assert (send.first_attempt, send.quick) == (1, 4)


def test_buttons_and_reactions_are_never_merged_with_texts() -> None:
    """A text, a buttons message, a reaction and a text are four sends, in queue order."""
    s = Stream()
    s.given(inbound())
    buttons = ReplyQueued(
        outbound_id="b", to=KEY, kind=ReplyKind.BUTTONS, text="Confermi?",
        buttons=(ReplyButton(id="si", title="Sì"),),
    )  # fmt: skip
    batch = s.when(text("a"), buttons, reaction("r"), text("c"))
    out = sends(decide(s.state, batch, NOW).replies)
    assert [d.outbound_id for d in out] == ["a", "b", "r", "c"]
    assert isinstance(out[1].content, ButtonsMessage)


def test_texts_longer_than_one_message_allows_are_split_in_order() -> None:
    """Texts that together pass 4,096 characters go as two messages, the first as full as fits."""
    s = Stream()
    s.given(inbound())
    batch = s.when(text("a", "x" * 3000), text("b", "y" * 1000), text("c", "z" * 1000))
    out = sends(decide(s.state, batch, NOW).replies)
    assert [[q.payload.outbound_id for q in d.group] for d in out] == [["a", "b"], ["c"]]


def test_a_reply_given_twice_in_one_batch_is_one_send() -> None:
    """The same queued buttons reply and text listed twice in a batch: one send each, once."""
    s = Stream()
    s.given(inbound())
    buttons = ReplyQueued(
        outbound_id="b", to=KEY, kind=ReplyKind.BUTTONS, text="Confermi?",
        buttons=(ReplyButton(id="si", title="Sì"),),
    )  # fmt: skip
    batch = s.when(buttons, text("a", "Ciao!"))
    out = sends(decide(s.state, [*batch, *batch], NOW).replies)
    assert [[q.payload.outbound_id for q in d.group] for d in out] == [["b"], ["a"]]
    assert out[1].content == TextMessage(body="Ciao!")


def test_a_reply_with_an_outcome_is_left_alone() -> None:
    """A redelivered batch whose reply was sent meanwhile decides nothing (idempotent)."""
    s = Stream()
    s.given(inbound())
    batch = s.when(text("a"))
    s.given(attempted("a"), OutboundSent(outbound_id="a", wamid="wamid.out.1"))
    assert decide(s.state, batch, NOW).replies == ()


def test_free_text_outside_the_24_hour_window_fails_without_a_call_and_escalates() -> None:
    """A text 24 h after the customer's last message fails with Meta's 131047 and is escalated."""
    s = Stream()
    s.given(inbound(at=NOW - timedelta(hours=24, seconds=1)))
    [fail] = decide(s.state, s.when(text("a")), NOW).replies
    assert isinstance(fail, Fail)
    [failed] = [r.payload for r in fail.records]
    assert failed == OutboundFailed(
        outbound_id="a", code=WINDOW_CODE, title="outside the 24-hour window: not sent",
        retryable=False,
    )  # fmt: skip
    assert fail.escalation is not None
    payloads = [r.payload for r in fail.escalation.records]
    assert payloads[0] == ConversationEscalated(reason="send_failed")
    assert isinstance(payloads[1], PushRequested)
    assert fail.escalation.alert is None  # the customer's silence is not the operator's fault


def test_a_template_goes_out_outside_the_window_and_text_inside_it() -> None:
    """Templates are allowed after 24 h; a text 23 h 59 m after the last message still goes."""
    late = Stream()
    late.given(inbound(at=NOW - timedelta(days=3)))
    assert len(sends(decide(late.state, late.when(template("t")), NOW).replies)) == 1
    inside = Stream()
    inside.given(inbound(at=NOW - timedelta(hours=23, minutes=59)))
    assert len(sends(decide(inside.state, inside.when(text("a")), NOW).replies)) == 1


def test_a_text_to_someone_who_never_wrote_is_outside_the_window() -> None:
    """No inbound message at all: no window is open, so free text fails."""
    s = Stream()
    [fail] = decide(s.state, s.when(text("a")), NOW).replies
    assert isinstance(fail, Fail)


def test_newer_replies_wait_behind_a_pending_durable_retry() -> None:
    """While a retry of an earlier reply is scheduled, a new reply to that person is not sent."""
    s = Stream()
    s.given(inbound(), text("a"), attempted("a"))
    s.given(OutboundRetryScheduled(
        outbound_id="a", retry=1, due_at=NOW, first_failed_at=NOW - timedelta(seconds=5)
    ))  # fmt: skip
    assert decide(s.state, s.when(text("b")), NOW).replies == ()


def test_a_due_retry_sends_everything_unsent_in_queue_order_with_one_quick_attempt() -> None:
    """``OutboundRetryDue`` sends the failed reply and those behind it, attempts continuing."""
    s = Stream()
    s.given(inbound(), reaction("a"), attempted("a", 4))
    s.given(OutboundRetryScheduled(
        outbound_id="a", retry=1, due_at=NOW, first_failed_at=NOW - timedelta(seconds=5)
    ))  # fmt: skip
    s.given(text("b"), text("c"))
    due = s.when(OutboundRetryDue(outbound_id="a", retry=1, fired_at=NOW))
    out = sends(decide(s.state, due, NOW).replies)
    assert [[q.payload.outbound_id for q in d.group] for d in out] == [["a"], ["b", "c"]]
    assert [(d.first_attempt, d.quick) for d in out] == [(5, 1), (1, 1)]


def test_an_attempt_without_an_outcome_is_never_resent_blindly() -> None:
    """A crash mid-send with no proof of delivery is recorded as an unknown outcome."""
    s = Stream()
    s.given(inbound())
    batch = s.when(text("a"))
    s.given(attempted("a"))
    [gave_up] = decide(s.state, batch, NOW).replies
    assert isinstance(gave_up, GiveUpUnknown)
    [failed] = [r.payload for r in gave_up.records]
    assert (failed.outcome_unknown, failed.retryable, gave_up.outbound_id) == (True, False, "a")


def test_an_attempt_this_process_never_sent_is_sent_not_given_up() -> None:
    """The attempt's write failed (committed or not, the process could not tell) and Meta
    was never called: the reply goes out, as the next attempt, rather than to review."""
    s = Stream()
    s.given(inbound())
    batch = s.when(text("a"))
    s.given(attempted("a"))
    [send] = sends(decide(s.state, batch, NOW, unperformed=frozenset({"a"})).replies)
    assert ([q.payload.outbound_id for q in send.group], send.first_attempt) == (["a"], 2)


def test_an_attempt_with_a_status_naming_it_is_reconciled_not_resent() -> None:
    """The status webhook of the interrupted send proves it reached Meta: reconciled."""
    s = Stream()
    s.given(inbound())
    batch = s.when(text("a"))
    s.given(attempted("a"), status("a", "sent", wamid="wamid.out.9"))
    [done] = decide(s.state, batch, NOW).replies
    assert isinstance(done, Reconcile)
    assert done.records[0].payload == OutboundReconciled(
        outbound_id="a", wamid="wamid.out.9", status="sent"
    )


def test_a_late_status_reconciles_every_reply_its_merged_send_carried() -> None:
    """Replies merged under ``a`` and left as unknown are reconciled by ``a``'s late status."""
    s = Stream()
    s.given(inbound())
    queued = s.given(text("a"), text("b"))
    s.store(attempted("a"), cause=queued[0])
    s.store(attempted("b"), cause=queued[0])
    for oid in ("b", "a"):
        s.given(OutboundFailed(
            outbound_id=oid, code=None, title="?", retryable=False, outcome_unknown=True
        ))  # fmt: skip
    statuses = decide(s.state, s.when(status("a", "delivered")), NOW).statuses
    assert [d.records[0].payload.outbound_id for d in statuses if isinstance(d, Reconcile)] == [
        "a",
        "b",
    ]


def test_a_failed_status_with_a_permanent_code_escalates() -> None:
    """Meta's ``failed`` status with 131026 (undeliverable) hands the conversation to people."""
    s = Stream()
    s.given(inbound(), text("a"))
    [escalate] = decide(s.state, s.when(status("a", "failed", code=131026)), NOW).statuses
    assert isinstance(escalate, Escalate)
    assert escalate.escalation.alert is None


def test_a_failed_status_with_an_expired_token_is_an_operator_alert() -> None:
    """A failed status with 190 names the business's fault: an operator alert, offered a push."""
    s = Stream()
    s.given(inbound(), text("a"))
    [escalate] = decide(s.state, s.when(status("a", "failed", code=190)), NOW).statuses
    assert isinstance(escalate, Escalate)
    alerted = escalate.escalation.records[1].payload
    assert isinstance(alerted, OperatorAlerted)
    assert (alerted.code, alerted.source) == (190, "status")
    assert escalate.escalation.operator_push is not None


def test_a_failed_status_with_a_transient_code_or_for_a_stranger_is_ignored() -> None:
    """A transient code (130429) or a status naming no reply of ours decides nothing."""
    s = Stream()
    s.given(inbound(), text("a"))
    assert decide(s.state, s.when(status("a", "failed", code=130429)), NOW).statuses == ()
    assert decide(s.state, s.when(status("zz", "failed", code=131026)), NOW).statuses == ()


def test_read_receipts_go_to_the_latest_fresh_unanswered_message_of_each_sender() -> None:
    """One receipt per sender, for their latest message under 25 s old that no turn answered."""
    s = Stream()
    answered = s.given(inbound(at=NOW - timedelta(seconds=3), n=1))
    s.given(TurnProcessed(fact_ids=(str(answered[0].event_id),), decisions=0))
    assert read_receipts(s.state, answered, NOW) == ()
    batch = s.when(inbound(at=NOW - timedelta(seconds=2), n=2), inbound(at=NOW, n=3))
    assert read_receipts(s.state, batch, NOW) == (MarkAsRead(to=KEY, wamid="wamid.in.3"),)
    stale = s.when(inbound(at=NOW - timedelta(seconds=30), n=4))
    assert read_receipts(s.state, stale, NOW) == ()


def test_read_receipts_are_planned_only_when_the_policy_asks() -> None:
    """``mark_read`` off (the sandbox) plans none."""
    s = Stream()
    batch = s.when(inbound(at=NOW))
    assert decide(s.state, batch, NOW).reads == ()
    assert len(decide(s.state, batch, NOW, SendPolicy(mark_read=True)).reads) == 1


@pytest.mark.parametrize(
    ("field", "value"), [("quick_attempts", 0), ("backoff_base", -1.0), ("max_pair_waits", -1)]
)
def test_a_policy_that_cannot_send_is_refused_with_a_clear_error(field: str, value: float) -> None:
    """No attempts at all, or negative waits, are a ``ValueError`` naming the field."""
    with pytest.raises(ValueError, match=field):
        SendPolicy(**{field: value})  # type: ignore[arg-type]
