"""The projections this service runs, by name."""

from __future__ import annotations

from projections.base import Projection
from projections.contacts import ContactsProjection
from projections.conversations import ConversationsProjection
from projections.messages import MessagesProjection
from projections.order_relays import OrderRelaysProjection
from projections.review_queue import ReviewQueueProjection


def all_projections() -> list[Projection]:
    """Every projection, in the order they are run and rebuilt."""
    return [
        ConversationsProjection(),
        MessagesProjection(),
        ReviewQueueProjection(),
        OrderRelaysProjection(),
        ContactsProjection(),
    ]
