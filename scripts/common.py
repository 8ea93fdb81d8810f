"""Helpers shared by the subcommands: settings with one-line errors, async runs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from adapters.settings import Settings, SettingsError, load_settings
from adapters.store.engine import StoreConfigError

T = TypeVar("T")


def fail(message: str) -> int:
    """Print a one-line error for the operator and return exit status 2."""
    print(f"dloop-bot: {message}", file=sys.stderr)
    return 2


def settings_or_exit() -> Settings | int:
    """The settings, or an exit status after a one-line message."""
    try:
        return load_settings()
    except SettingsError as exc:
        return fail(str(exc))


def run_async(main: Callable[[], Awaitable[int]]) -> int:
    """Run ``main`` and turn configuration and connection errors into one-line messages."""
    try:
        return asyncio.run(_call(main))
    except StoreConfigError as exc:
        return fail(str(exc))
    except (OSError, ConnectionError) as exc:
        return fail(f"cannot reach the database: {exc}")
    except KeyboardInterrupt:
        return 130


async def _call(main: Callable[[], Awaitable[int]]) -> int:
    return await main()
