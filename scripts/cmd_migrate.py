"""``dloop-bot migrate``: apply pending schema migrations to ``DATABASE_URL``."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.store.partitioning import check_partitions
from core.partitions import PartitionCountError
from scripts.common import fail, run_async, settings_or_exit


def register(sub: Any) -> None:
    """Add the ``migrate`` subcommand."""
    parser = sub.add_parser("migrate", help="apply pending schema migrations")
    parser.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    """Migrate and report what was applied."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            applied = await migrate(engines, partitions=settings.event_partitions)
            await check_partitions(engines, settings.event_partitions)
        except PartitionCountError as exc:
            return fail(f"migrate: {exc}")
        finally:
            await engines.dispose()
        names = ", ".join(f"{m.version} {m.name}" for m in applied) or "nothing to do"
        print(f"migrate: {names}")
        return 0

    return run_async(main)
