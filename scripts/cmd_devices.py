"""``dloop-bot devices add|list|remove``: FCM device tokens of riders, support and customers.

The same code path as ``/api/devices`` (:class:`~adapters.notify.devices.DeviceRegistry`):
validated, written to ``push_devices`` and recorded as events in the ``devices`` stream.
"""

from __future__ import annotations

import argparse
from typing import Any

from adapters.notify.devices import OWNER_KINDS, PLATFORMS, DeviceError, DeviceRegistry
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.common import fail, run_async, settings_or_exit


def register(sub: Any) -> None:
    """Add ``devices add``, ``devices list`` and ``devices remove``."""
    parser = sub.add_parser("devices", help="push-notification device tokens")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a device token")
    add.add_argument("--kind", choices=OWNER_KINDS, required=True)
    add.add_argument(
        "--owner", required=True, help="the rider's or customer's phone, or the agent's name"
    )
    add.add_argument("--token", required=True)
    add.add_argument("--platform", choices=PLATFORMS)
    add.set_defaults(func=run)
    listing = actions.add_parser("list", help="list registered devices")
    listing.add_argument("--kind", choices=OWNER_KINDS)
    listing.set_defaults(func=run)
    remove = actions.add_parser("remove", help="forget a device token")
    remove.add_argument("--token", required=True, help="the token, or its fingerprint")
    remove.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out one devices action."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings

    async def main() -> int:
        engines = create_engines(settings.database_url)
        registry = DeviceRegistry(engines, store=EventStore(engines))
        try:
            return await _act(registry, args)
        except DeviceError as exc:
            return fail(str(exc))
        finally:
            await engines.dispose()

    return run_async(main, settings.database_url)


async def _act(registry: DeviceRegistry, args: argparse.Namespace) -> int:
    if args.action == "add":
        device, _ = await registry.add(
            args.token, args.kind, args.owner, platform=args.platform, by="cli"
        )
        print(f"devices: registered {device.fingerprint} for {device.owner_kind} {device.owner}")
        return 0
    if args.action == "remove":
        found = await registry.find(args.token)
        if found is None or not await registry.remove(found.token, by="cli"):
            return fail("no such device token")
        print("devices: removed")
        return 0
    for device in await registry.list(args.kind):
        added = f"{device.created_at:%Y-%m-%d}"
        platform = device.platform or "-"
        print(f"{device.fingerprint}  {device.owner_kind:8} {device.owner}  {platform:7} {added}")
    return 0
