"""WhatsApp's 24-hour customer-service window.

Free-form messages (text, buttons, lists, reactions) may go to a customer only within
24 hours of their last message; outside it only approved templates are delivered (Meta
answers error 131047 otherwise). Pure: the shell passes ``now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from events.conversation import ReplyKind

SERVICE_WINDOW = timedelta(hours=24)


def within_service_window(
    last_customer_message_at: datetime | None,
    now: datetime,
    window: timedelta = SERVICE_WINDOW,
) -> bool:
    """True while fewer than 24 hours have passed since the customer last wrote."""
    if last_customer_message_at is None:
        return False
    return now - last_customer_message_at < window


def outbound_allowed(kind: ReplyKind, last_customer_at: datetime | None, now: datetime) -> bool:
    """Whether a message of ``kind`` may be sent now: templates always, the rest in the window."""
    return kind is ReplyKind.TEMPLATE or within_service_window(last_customer_at, now)
