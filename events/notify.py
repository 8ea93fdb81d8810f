"""Push notifications (FCM): what was asked for and what happened to each device.

A :class:`PushRequested` sits in the stream of what caused it (``order-<relay_id>`` for
order alerts); the notify sender appends one outcome per device to the same stream.
Device tokens are never stored in events: ``device`` is a short fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from events.base import event


@dataclass(frozen=True, slots=True, kw_only=True)
class PushDatum:
    """One ``data`` entry of an FCM message (FCM wants string values)."""

    key: str
    value: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class PushRequested:
    """Alert every device of ``audience`` (``rider`` or ``support``)."""

    TYPE: ClassVar[str] = "notify.push_requested"
    VERSION: ClassVar[int] = 1

    notification_id: str
    audience: str  # rider | support
    reason: str  # new_order | dealer_silent | market_order_failed | ...
    title: str
    body: str
    data: tuple[PushDatum, ...] = ()


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class PushDelivered:
    """FCM accepted the notification for one device."""

    TYPE: ClassVar[str] = "notify.push_delivered"
    VERSION: ClassVar[int] = 1

    notification_id: str
    device: str  # token fingerprint
    message_name: str  # FCM's ``projects/<p>/messages/<id>``


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class PushFailed:
    """FCM refused the notification for one device; ``unregistered`` tokens were removed."""

    TYPE: ClassVar[str] = "notify.push_failed"
    VERSION: ClassVar[int] = 1

    notification_id: str
    device: str
    error: str
    unregistered: bool = False


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class PushRecordedOnly:
    """Nothing was sent: no FCM credentials, or no device registered for the audience."""

    TYPE: ClassVar[str] = "notify.push_recorded_only"
    VERSION: ClassVar[int] = 1

    notification_id: str
    reason: str  # no_credentials | no_devices
