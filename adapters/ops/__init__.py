"""Operator tools: replay, audit, what-if, export and retention (docs/operations.md).

The logic of each ``dloop-bot`` operator subcommand lives here, testable without the
command line; ``scripts/cmd_*.py`` only parse arguments and print. Everything is
read-only except the hash-chain sealer (its own table) and retention (documented).
"""
