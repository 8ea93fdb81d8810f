"""Push notifications (FCM): what was asked for and what happened to each device.

A :class:`PushRequested` sits in the stream of what caused it (``order-<relay_id>`` for
order alerts); the notify sender appends one outcome per device to the same stream.
Device tokens are never stored in events: ``device`` is a short fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from events.base import event
from events.upcasting import upcaster


@dataclass(frozen=True, slots=True, kw_only=True)
class PushDatum:
    """One ``data`` entry of an FCM message (FCM wants string values)."""

    key: str
    value: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class PushRequested:
    """Alert the devices of ``audience`` (``rider``, ``support`` or ``customer``)."""

    TYPE: ClassVar[str] = "notify.push_requested"
    VERSION: ClassVar[int] = 2

    notification_id: str
    audience: str  # rider | support | customer
    reason: str  # new_order | dealer_silent | escalation | send_failed | delivered | ...
    title: str
    body: str
    data: tuple[PushDatum, ...] = ()
    owner: str | None = None  # v2: only this owner's devices (a customer's phone); None: all


@upcaster(PushRequested.TYPE, 1)
def _push_requested_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 always meant every device of the audience."""
    return {**data, "owner": None}


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


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRegistered:
    """A push device token was registered (or moved) for an owner. The token itself is not kept."""

    TYPE: ClassVar[str] = "notify.device_registered"
    VERSION: ClassVar[int] = 1

    device: str  # token fingerprint
    owner_kind: str  # rider | support | customer
    owner: str  # the rider's or customer's phone, or the agent's name
    platform: str | None = None  # android | ios | web
    by: str  # cli | api:<token label> | ...


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRemoved:
    """A push device token was forgotten (by a person, or because FCM called it UNREGISTERED)."""

    TYPE: ClassVar[str] = "notify.device_removed"
    VERSION: ClassVar[int] = 1

    device: str  # token fingerprint
    by: str  # cli | api:<token label> | fcm
