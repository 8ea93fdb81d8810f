"""``dloop-bot catalog import FILE``: record catalogue rows (JSON or CSV) as events.

Valid rows are recorded, invalid ones listed with their row and field; importing the
same file again records nothing. Exit status 1 when some rows were refused.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from adapters.bootstrap import load_catalog
from adapters.market.imports import ImportFileError, ImportReport, import_catalog
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.types import StreamVersionConflictError
from core.catalog import Catalog
from scripts.common import fail, run_async, settings_or_exit
from scripts.progress import progress_bar


def register(sub: Any) -> None:
    """Add ``catalog import``."""
    parser = sub.add_parser("catalog", help="catalogue tools")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import dealers and products (JSON or CSV)")
    load.add_argument("file", type=Path)
    load.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import ``args.file`` into the ``catalog`` stream."""
    return run_import(args.file, import_catalog, "catalog import")


Importer = Callable[[EventStore, Catalog, Path], Awaitable[ImportReport]]


def run_import(path: Path, importer: Importer, what: str) -> int:
    """Run one importer against ``DATABASE_URL`` and print its report (shared by imports)."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            with progress_bar(what):  # one append: a spinner with the elapsed time
                base = load_catalog(settings.catalog_file)
                report = await importer(EventStore(engines), base, path)
        except ImportFileError as exc:
            return fail(str(exc))
        except StreamVersionConflictError:
            return fail("another import ran at the same time: run this one again")
        finally:
            await engines.dispose()
        return print_report(what, report)

    return run_async(main, settings.database_url)


def print_report(what: str, report: ImportReport) -> int:
    """Print the summary and each row error; 1 when rows were refused."""
    print(
        f"{what}: {report.recorded} recorded, {report.unchanged} unchanged, "
        f"{len(report.errors)} errors"
    )
    for error in report.errors:
        print(f"  {error.row}: {error.message}")
    return 1 if report.errors else 0
