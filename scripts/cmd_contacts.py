"""``dloop-bot contacts import FILE``: record ``rider_contacts`` rows (JSON or CSV).

Columns: ``phone``, ``name``, ``contact_type`` (dealer, rider or support) and
``dealer_id`` (required for dealers). Idempotent; exit status 1 when rows were refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adapters.market.imports import import_contacts
from scripts.cmd_catalog import run_import


def register(sub: Any) -> None:
    """Add ``contacts import``."""
    parser = sub.add_parser("contacts", help="dealer, rider and support contacts")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import contacts (JSON or CSV)")
    load.add_argument("file", type=Path)
    load.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import ``args.file`` into the ``contacts`` stream."""
    return run_import(args.file, import_contacts, "contacts import")
