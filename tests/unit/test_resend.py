"""``decide_resend``: a failed send is queued again only inside the rules that bound sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.conversation import ConversationState, OutsideServiceWindowError, Stage
from core.machines import DomainError
from core.turn_rules import decide_resend
from events.conversation import ReplyKind, ReplyQueued

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
ORIGINAL = ReplyQueued(
    outbound_id="out-1", to="+393281234567", kind=ReplyKind.TEXT, text="Ciao!", in_reply_to="w1"
)


def state(wrote_hours_ago: float, stage: Stage = Stage.PENDING) -> ConversationState:
    """A conversation whose customer last wrote ``wrote_hours_ago`` hours before NOW."""
    return ConversationState(
        key="+393281234567",
        stage=stage,
        last_customer_message_at=NOW - timedelta(hours=wrote_hours_ago),
    )


def test_inside_the_window_the_same_content_goes_under_a_new_id() -> None:
    """Everything but the outbound id is the original's."""
    again = decide_resend(state(1), ORIGINAL, NOW, "out-2")
    assert again.outbound_id == "out-2"
    assert (again.to, again.kind, again.text, again.in_reply_to) == (
        ORIGINAL.to,
        ORIGINAL.kind,
        ORIGINAL.text,
        ORIGINAL.in_reply_to,
    )


def test_outside_the_window_free_text_is_refused() -> None:
    """25 hours after the customer wrote, a text is not resent."""
    with pytest.raises(OutsideServiceWindowError):
        decide_resend(state(25), ORIGINAL, NOW, "out-2")


def test_outside_the_window_a_template_may_go() -> None:
    """Templates are allowed outside the window, as for any send."""
    template = ReplyQueued(outbound_id="t-1", to=ORIGINAL.to, kind=ReplyKind.TEMPLATE, text="hi")
    assert decide_resend(state(48), template, NOW, "t-2").outbound_id == "t-2"


def test_an_opted_out_customer_gets_nothing() -> None:
    """Opt-out wins even inside the window and for templates."""
    with pytest.raises(DomainError, match="opted out"):
        decide_resend(state(1, Stage.OPTED_OUT), ORIGINAL, NOW, "out-2")
