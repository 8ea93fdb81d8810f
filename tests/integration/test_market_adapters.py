"""Device tokens on SQLite and PostgreSQL (market orders: ``tests/contract``)."""

from __future__ import annotations

import pytest

from adapters.notify.devices import DeviceError, DeviceRegistry
from adapters.store.engine import Engines


async def test_device_tokens_are_added_moved_listed_and_removed(engines: Engines) -> None:
    """A token re-added moves to its new owner; removal reports whether it existed."""
    devices = DeviceRegistry(engines)
    _, new = await devices.add("token-aaa", "rider", "+393401112233")
    _, again = await devices.add("token-aaa", "support", "marta")
    assert (new, again) == (True, False)
    await devices.add("token-bbb", "rider", "+393401112244")
    assert [(d.token, d.owner_kind) for d in await devices.list("support")] == [
        ("token-aaa", "support")
    ]
    assert await devices.remove("token-bbb")
    assert not await devices.remove("token-bbb")
    with pytest.raises(DeviceError, match="owner_kind must be one of"):
        await devices.add("token-ccc", "dealer", "x")
