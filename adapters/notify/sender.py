"""The notify sender: ``PushRequested`` in, one FCM call per device, outcomes recorded.

Idempotent per (notification, device): an outcome already in the stream is not sent
again. Tokens FCM answers ``UNREGISTERED`` are removed from ``push_devices``. Without FCM
credentials (``client`` None) a request is recorded as ``PushRecordedOnly`` and shown on
the dashboard instead.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import structlog

from adapters.notify.devices import Device, DeviceRegistry
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.ports import PermanentError, PushClient, TransientError, UnregisteredTokenError
from events.base import Metadata, NewEvent, RecordedEvent
from events.notify import PushDelivered, PushFailed, PushRecordedOnly, PushRequested

log = structlog.get_logger(__name__)
NOTIFY_NAMESPACE = uuid.UUID("8a4c2e71-5d3b-4f60-9e1a-7c2b5d8f0a13")


def is_push_requested(event: RecordedEvent) -> bool:
    """The dispatcher's selector."""
    return event.type == PushRequested.TYPE


class NotifySender:
    """Carries out push requests (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        devices: DeviceRegistry,
        client: PushClient | None,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.store, self.devices, self.client = store, devices, client
        self.attempts, self.backoff = attempts, backoff

    async def handle(self, stream: str, events: Sequence[RecordedEvent]) -> None:
        """Send every push request of ``events`` not already carried out."""
        history = await self.store.read_stream(stream)
        done = {_done_key(e.payload) for e in history} - {None}
        for e in events:
            if isinstance(e.payload, PushRequested):
                await self._one(stream, e, done)

    async def _one(self, stream: str, cause: RecordedEvent, done: set[Any]) -> None:
        request: PushRequested = cause.payload
        nid = request.notification_id
        if (nid, "*") in done:
            return
        if self.client is None:
            await self._record(
                stream, cause, "*", PushRecordedOnly(notification_id=nid, reason="no_credentials")
            )
            return
        devices = await self._devices(request)
        if not devices:
            await self._record(
                stream, cause, "*", PushRecordedOnly(notification_id=nid, reason="no_devices")
            )
            return
        for device in devices:
            if (nid, device.fingerprint) not in done:
                outcome = await self._send(self.client, request, device)
                await self._record(stream, cause, device.fingerprint, outcome)

    async def _devices(self, request: PushRequested) -> list[Device]:
        """The audience's devices; a customer's found through the phone behind their person
        id (none once the person is erased)."""
        if request.owner is None:
            return list(await self.devices.list(request.audience, None))
        phone = await self.store.people.subject_of(request.owner)
        return list(await self.devices.list(request.audience, phone)) if phone else []

    async def _send(self, client: PushClient, request: PushRequested, device: Device) -> Any:
        nid, fp = request.notification_id, device.fingerprint
        data = {d.key: d.value for d in request.data}
        for attempt in range(1, self.attempts + 1):
            try:
                name = await client.send(
                    device.token, title=request.title, body=request.body, data=data
                )
                return PushDelivered(notification_id=nid, device=fp, message_name=name)
            except UnregisteredTokenError as exc:
                await self.devices.remove(device.token, by="fcm")
                log.info("notify.token_removed", device=fp)
                return PushFailed(notification_id=nid, device=fp, error=str(exc), unregistered=True)
            except TransientError as exc:
                if attempt == self.attempts:
                    return PushFailed(notification_id=nid, device=fp, error=str(exc)[:300])
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            except PermanentError as exc:
                return PushFailed(notification_id=nid, device=fp, error=str(exc)[:300])
        raise AssertionError("unreachable")

    async def _record(self, stream: str, cause: RecordedEvent, device: str, payload: Any) -> None:
        nid = cause.payload.notification_id
        new = NewEvent(
            event_id=uuid.uuid5(NOTIFY_NAMESPACE, f"{nid}:{device}"),
            payload=payload,
            metadata=Metadata(
                causation_id=str(cause.event_id),
                correlation_id=cause.metadata.correlation_id,
                source="reactor:notify",
            ),
        )
        await self.store.append(stream, Expect.ANY, [new])


def _done_key(payload: object) -> tuple[str, str] | None:
    if isinstance(payload, PushDelivered | PushFailed):
        return payload.notification_id, payload.device
    if isinstance(payload, PushRecordedOnly):
        return payload.notification_id, "*"
    return None
