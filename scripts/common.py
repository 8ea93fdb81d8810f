"""Helpers shared by the subcommands: settings with one-line errors, async runs.

Manners every subcommand keeps: a problem is one line on standard error starting with
``dloop-bot:`` and exit status 2 (nothing found counts as a problem); only ``serve`` and
``migrate`` may create a database (the others pass their URL to ``run_async``); configuration comes
from the environment over ``./.env``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asyncpg import PostgresError
from sqlalchemy.exc import DBAPIError

from adapters.settings import Settings, SettingsError, load_settings
from adapters.store.engine import StoreConfigError
from adapters.store.presence import missing_database, shown

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


def run_async(main: Callable[[], Awaitable[int]], database_url: str | None = None) -> int:
    """Run ``main`` and turn configuration and connection errors into one-line messages.

    With ``database_url`` the command needs that database to exist: a SQLite file that
    does not is refused (naming the path looked at) instead of being created empty. Only
    ``migrate`` (and ``serve``, which does not come here) may create one.
    """
    problem = missing_database(database_url) if database_url else None
    if problem:
        return fail(problem)
    try:
        return asyncio.run(_call(main))
    except StoreConfigError as exc:
        return fail(str(exc))
    except (OSError, ConnectionError) as exc:
        return fail(f"cannot reach the database: {exc}")
    except DBAPIError as exc:
        return fail(_database_error(str(exc.orig) or type(exc.orig).__name__))
    except PostgresError as exc:  # raised unwrapped while connecting (e.g. no such database)
        return fail(_database_error(str(exc) or type(exc).__name__))
    except KeyboardInterrupt:
        return 130


def _database_error(message: str) -> str:
    """One line naming the database (password hidden) and the driver's first line."""
    detail = message.strip().splitlines()[0]
    try:
        where = shown(load_settings().database_url)
    except SettingsError:
        where = "DATABASE_URL"
    hint = ""
    if detail.startswith("relation") and "does not exist" in detail:
        hint = " (run `dloop-bot migrate` first)"
    elif detail.startswith("database") and "does not exist" in detail:
        hint = " (create it with createdb, then run `dloop-bot migrate`)"
    return f"database error at {where}: {detail}{hint}"


async def _call(main: Callable[[], Awaitable[int]]) -> int:
    return await main()
