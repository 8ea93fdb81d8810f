"""Device tokens per rider and per support agent, in the ``push_devices`` table."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.market.tables import push_devices
from adapters.store.engine import Engines

OWNER_KINDS = ("rider", "support")


class DeviceError(ValueError):
    """A device registration is invalid (unknown kind, empty token or owner)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """One registered device."""

    token: str
    owner_kind: str
    owner: str
    created_at: datetime

    @property
    def fingerprint(self) -> str:
        """A short, non-secret name for the token (logs and events)."""
        return fingerprint(self.token)


def fingerprint(token: str) -> str:
    """``sha256(token)[:12]``: identifies a token without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class DeviceRegistry:
    """Add, list and remove device tokens."""

    def __init__(
        self, engines: Engines, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engines = engines
        self._clock = clock

    async def add(self, token: str, owner_kind: str, owner: str) -> Device:
        """Register (or move) ``token`` to ``owner``."""
        token, owner = token.strip(), owner.strip()
        if owner_kind not in OWNER_KINDS:
            raise DeviceError(f"kind must be one of {', '.join(OWNER_KINDS)}, got {owner_kind!r}")
        if not token or not owner:
            raise DeviceError("token and owner must not be empty")
        device = Device(token=token, owner_kind=owner_kind, owner=owner, created_at=self._clock())
        insert = pg_insert if self.engines.dialect == "postgresql" else sqlite_insert
        values = {
            "token": token,
            "owner_kind": owner_kind,
            "owner": owner,
            "created_at": device.created_at,
        }
        stmt = insert(push_devices).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["token"], set_={"owner_kind": owner_kind, "owner": owner}
        )
        async with self.engines.writer.begin() as conn:
            await conn.execute(stmt)
        return device

    async def remove(self, token: str) -> bool:
        """Forget ``token``; True when it was registered."""
        async with self.engines.writer.begin() as conn:
            result = await conn.execute(delete(push_devices).where(push_devices.c.token == token))
        return bool(result.rowcount)

    async def list(self, owner_kind: str | None = None) -> list[Device]:
        """Registered devices (of one kind when given), oldest first."""
        stmt = select(push_devices).order_by(push_devices.c.created_at, push_devices.c.token)
        if owner_kind is not None:
            stmt = stmt.where(push_devices.c.owner_kind == owner_kind)
        async with self.engines.reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Device(**dict(r)) for r in rows]
