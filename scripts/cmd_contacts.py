"""``dloop-bot contacts import FILE``: record ``rider_contacts`` rows (JSON or CSV).

Columns: ``phone``, ``name``, ``contact_type`` (dealer, rider or support) and
``dealer_id`` (required for dealers). Idempotent; exit status 1 when rows were refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adapters.bootstrap import load_catalog
from adapters.market.imports import ImportFileError, import_contacts
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.types import StreamVersionConflictError
from scripts.cmd_catalog import print_report
from scripts.common import fail, run_async, settings_or_exit


def register(sub: Any) -> None:
    """Add ``contacts import``."""
    parser = sub.add_parser("contacts", help="dealer, rider and support contacts")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import contacts (JSON or CSV)")
    load.add_argument("file", type=Path)
    load.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import ``args.file`` into the ``contacts`` stream."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            report = await import_contacts(
                EventStore(engines), load_catalog(settings.catalog_file), args.file
            )
        except ImportFileError as exc:
            return fail(str(exc))
        except StreamVersionConflictError:
            return fail("another import ran at the same time: run this one again")
        finally:
            await engines.dispose()
        return print_report("contacts import", report)

    return run_async(main)
