"""The 24-hour customer-service window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.window import outbound_allowed, within_service_window
from events.conversation import ReplyKind

LAST = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def test_twenty_three_hours_fifty_nine_is_inside_the_window() -> None:
    """A minute before the end, free-form text may still go."""
    assert within_service_window(LAST, LAST + timedelta(hours=23, minutes=59))


def test_twenty_four_hours_one_minute_is_outside_the_window() -> None:
    """A minute after the end, it may not."""
    assert not within_service_window(LAST, LAST + timedelta(hours=24, minutes=1))


def test_exactly_twenty_four_hours_is_outside_the_window() -> None:
    """The window is open for strictly less than 24 hours."""
    assert not within_service_window(LAST, LAST + timedelta(hours=24))


def test_no_customer_message_means_no_window() -> None:
    """A customer who never wrote has no open window."""
    assert not within_service_window(None, LAST)


def test_window_compares_instants_across_offsets() -> None:
    """An Italian-offset ``now`` is compared as the same instant."""
    rome = timezone(timedelta(hours=1))
    assert within_service_window(LAST, datetime(2025, 3, 15, 9, 59, tzinfo=rome))


def test_templates_are_allowed_outside_the_window() -> None:
    """Approved templates are the way back in after 24 hours."""
    assert outbound_allowed(ReplyKind.TEMPLATE, LAST, LAST + timedelta(days=3))


def test_templates_are_allowed_to_a_customer_who_never_wrote() -> None:
    """Business-initiated conversations start with a template."""
    assert outbound_allowed(ReplyKind.TEMPLATE, None, LAST)


@pytest.mark.parametrize("kind", [k for k in ReplyKind if k is not ReplyKind.TEMPLATE])
def test_free_form_messages_are_refused_outside_the_window(kind: ReplyKind) -> None:
    """Text, buttons, lists and reactions need the window."""
    assert not outbound_allowed(kind, LAST, LAST + timedelta(hours=25))


@pytest.mark.parametrize("kind", list(ReplyKind))
def test_everything_is_allowed_inside_the_window(kind: ReplyKind) -> None:
    """Within 24 hours any kind may go."""
    assert outbound_allowed(kind, LAST, LAST + timedelta(hours=1))
