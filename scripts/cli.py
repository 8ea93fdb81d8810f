"""``dloop-bot``: the one command-line entry point; subcommands live in ``scripts/cmd_*.py``.

Each ``cmd_<name>`` module exposes ``register(subparsers)`` which adds its parser and sets
``func`` (``(argparse.Namespace) -> int``) as the parser default. Keeping one module per
subcommand keeps this file free of rules and lets subcommands grow independently.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from importlib import metadata

import scripts
from adapters.logging import configure_logging

DISTRIBUTION = "dloop-whatsapp-relay"  # [project] name in pyproject.toml


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="dloop-bot", description="The Dloop WhatsApp relay: service and operator tools."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(scripts.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"scripts.{info.name}")
            module.register(sub)
    return parser


def version() -> str:
    """The installed package's version: ``[project] version`` in pyproject.toml, the one place."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed: pip install -e .)"


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    # Logs go to stderr, redacted, for every command (stdout carries --json answers);
    # operator tools are quiet unless LOG_LEVEL asks otherwise. ``serve`` reconfigures
    # from its settings.
    configure_logging(os.environ.get("LOG_LEVEL", "warning"), os.environ.get("LOG_FORMAT"))
    result: int = func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
