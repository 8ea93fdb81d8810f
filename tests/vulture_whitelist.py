"""Names ``vulture`` cannot see being used: read by a framework, a codec or a library hook.

``make vulture`` scans this file with the code; each name below is marked as used, grouped
by who reads it. Keep it short: a name that nothing reads is dead code, not an entry here.
The references are typed and checked by mypy, so a rename fails loudly. Never called.
"""

import configparser
import sqlite3
import urllib.request

from adapters.store.schema import UtcDateTime
from events.cart import CartRevised
from events.conversation import PricedLine
from events.delivery import OrderPickedUp, OrderReady
from events.engine import ReviewItemRetried
from events.notify import PushDelivered
from events.ops import RawBodyDropped
from events.orders import OrderAccepted, OrderDelivered, OrderExpired, OrderRejected
from events.whatsapp import MessageContext, Referral, StatusReceived, SystemNotice
from scripts.loadgen.reconcile import Reconciliation

__all__ = ["library_hooks", "load_test_counts", "recorded_facts"]  # vulture: used


def library_hooks(connection: sqlite3.Connection) -> tuple[object, ...]:
    """Read by libraries, never by our code."""
    return (
        # SQLAlchemy's TypeDecorator reads these class attributes and calls these hooks.
        UtcDateTime.impl,
        UtcDateTime.cache_ok,
        UtcDateTime.process_bind_param,
        UtcDateTime.process_result_value,
        # The SQLite connect hook sets it so that our own BEGIN starts each transaction.
        connection.isolation_level,
        # Overridden in tests: ConfigParser keeps option case, urllib stops at redirects.
        configparser.ConfigParser.optionxform,
        urllib.request.HTTPRedirectHandler.redirect_request,
    )


def recorded_facts(
    *,
    cart: CartRevised,
    line: PricedLine,
    ready: OrderReady,
    picked: OrderPickedUp,
    retried: ReviewItemRetried,
    push: PushDelivered,
    dropped: RawBodyDropped,
    accepted: OrderAccepted,
    rejected: OrderRejected,
    expired: OrderExpired,
    delivered: OrderDelivered,
    notice: SystemNotice,
    referral: Referral,
    context: MessageContext,
    status: StatusReceived,
) -> tuple[object, ...]:
    """Event fields kept for audit, export and replay: the codec reads them all by name."""
    return (
        cart.previous_cart_id,
        line.unit_price,
        ready.ready_at,
        picked.picked_up_at,
        retried.retry_outbound_id,
        push.message_name,
        dropped.retention_days,
        dropped.dropped_at,
        dropped.bytes_dropped,
        accepted.accepted_at,
        rejected.rejected_at,
        expired.expired_at,
        delivered.delivered_at,
        notice.new_bsuid,
        referral.source_url,
        referral.source_type,
        referral.media_type,
        referral.image_url,
        referral.video_url,
        referral.thumbnail_url,
        context.referred_product,
        status.recipient_id,
        status.status_type,
    )


def load_test_counts(counts: Reconciliation) -> tuple[object, ...]:
    """The load test's counts, printed and written as JSON through ``dataclasses.asdict``."""
    return (
        counts.recorded_deliveries,
        counts.acked_messages,
        counts.statuses_recorded,
        counts.replies_queued,
        counts.send_requests_repeated,
    )
