"""Device tokens per rider, support agent and customer, in the ``push_devices`` table.

The one code path for ``dloop-bot devices`` and ``/api/devices``: registrations are
validated here (:class:`DeviceError` names the field), written to the table the notify
sender reads, and, when the registry has an event store, recorded as
``notify.device_registered`` / ``notify.device_removed`` in the ``devices`` stream with
the token's fingerprint (never the token). The table is written first and the event
after it; the table is what the sender trusts.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.market.tables import push_devices
from adapters.store.engine import Engines
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.phones import normalize_phone
from events.base import Metadata, NewEvent
from events.notify import DeviceRegistered, DeviceRemoved

OWNER_KINDS = ("rider", "support", "customer")
PHONE_OWNERS = frozenset({"rider", "customer"})  # owners named by their phone (E.164)
PLATFORMS = ("android", "ios", "web")
DEVICES_STREAM = "devices"
OWNER_MAX = 128
_TOKEN = re.compile(r"[A-Za-z0-9_:.\-]{1,4096}")
_FINGERPRINT = re.compile(r"[0-9a-f]{12}")


class DeviceError(ValueError):
    """A device registration is invalid; the message names the field and what is allowed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """One registered device."""

    token: str
    owner_kind: str
    owner: str
    created_at: datetime
    platform: str | None = None

    @property
    def fingerprint(self) -> str:
        """A short, non-secret name for the token (logs and events)."""
        return fingerprint(self.token)


def fingerprint(token: str) -> str:
    """``sha256(token)[:12]``: identifies a token without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def checked(token: str, owner_kind: str, owner: str, platform: str | None) -> Device:
    """The device a registration describes, or :class:`DeviceError` (time filled in later)."""
    token, owner = token.strip(), owner.strip()
    if owner_kind not in OWNER_KINDS:
        raise DeviceError(f"owner_kind must be one of {', '.join(OWNER_KINDS)}, got {owner_kind!r}")
    if not _TOKEN.fullmatch(token):
        raise DeviceError(
            "token must be 1-4096 characters of letters, digits and _ : . - (an FCM token)"
        )
    if not owner or len(owner) > OWNER_MAX:
        raise DeviceError(f"owner_id must have 1 to {OWNER_MAX} characters")
    if owner_kind in PHONE_OWNERS:
        phone = normalize_phone(owner)
        if phone is None:
            raise DeviceError(f"owner_id of a {owner_kind} must be a phone number, got {owner!r}")
        owner = phone
    if platform is not None and platform not in PLATFORMS:
        raise DeviceError(f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}")
    return Device(
        token=token,
        owner_kind=owner_kind,
        owner=owner,
        platform=platform,
        created_at=datetime.min.replace(tzinfo=UTC),
    )


class DeviceRegistry:
    """Add, list and remove device tokens (see the module docstring)."""

    def __init__(
        self,
        engines: Engines,
        *,
        store: EventStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engines = engines
        self.store = store
        self._clock = clock

    async def add(
        self,
        token: str,
        owner_kind: str,
        owner: str,
        *,
        platform: str | None = None,
        by: str = "cli",
    ) -> tuple[Device, bool]:
        """Register (or move) ``token`` to ``owner``; True when the token was new."""
        device = checked(token, owner_kind, owner, platform)
        existing = await self.find(device.token)
        created_at = existing.created_at if existing is not None else self._clock()
        device = Device(
            token=device.token,
            owner_kind=device.owner_kind,
            owner=device.owner,
            platform=device.platform,
            created_at=created_at,
        )
        values = {
            "token": device.token,
            "owner_kind": device.owner_kind,
            "owner": device.owner,
            "platform": device.platform,
            "created_at": created_at,
        }
        insert = pg_insert if self.engines.dialect == "postgresql" else sqlite_insert
        stmt = insert(push_devices).values(**values)
        moved = {"owner_kind": device.owner_kind, "owner": device.owner, "platform": platform}
        stmt = stmt.on_conflict_do_update(index_elements=["token"], set_=moved)
        async with self.engines.writer.begin() as conn:
            await conn.execute(stmt)
        await self._record(
            DeviceRegistered(
                device=device.fingerprint,
                owner_kind=device.owner_kind,
                owner=device.owner,
                platform=device.platform,
                by=by,
            )
        )
        return device, existing is None

    async def find(self, token_or_fingerprint: str) -> Device | None:
        """The device with this token, or with this 12-hex-digit fingerprint."""
        async with self.engines.reader.connect() as conn:
            stmt = select(push_devices).where(push_devices.c.token == token_or_fingerprint)
            row = (await conn.execute(stmt)).mappings().first()
        if row is not None:
            return Device(**dict(row))
        if _FINGERPRINT.fullmatch(token_or_fingerprint):
            return next(
                (d for d in await self.list() if d.fingerprint == token_or_fingerprint), None
            )
        return None

    async def remove(self, token: str, *, by: str = "cli") -> bool:
        """Forget ``token``; True when it was registered."""
        async with self.engines.writer.begin() as conn:
            result = await conn.execute(delete(push_devices).where(push_devices.c.token == token))
        removed = bool(result.rowcount)
        if removed:
            await self._record(DeviceRemoved(device=fingerprint(token), by=by))
        return removed

    async def list(self, owner_kind: str | None = None, owner: str | None = None) -> list[Device]:
        """Registered devices (of one kind, and one owner, when given), oldest first."""
        stmt = select(push_devices).order_by(push_devices.c.created_at, push_devices.c.token)
        if owner_kind is not None:
            stmt = stmt.where(push_devices.c.owner_kind == owner_kind)
        if owner is not None:
            stmt = stmt.where(push_devices.c.owner == owner)
        async with self.engines.reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Device(**dict(r)) for r in rows]

    async def _record(self, payload: DeviceRegistered | DeviceRemoved) -> None:
        if self.store is None:
            return
        new = NewEvent(
            event_id=uuid.uuid4(),
            payload=payload,
            metadata=Metadata(source=f"devices:{payload.by}"),
        )
        await self.store.append(DEVICES_STREAM, Expect.ANY, [new])
