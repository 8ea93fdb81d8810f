"""``dloop-bot token create|list|revoke``: API tokens for the read API and the dashboard.

``create`` prints the secret once (it is stored only as its SHA-256); keep it in a
password manager. A dealer token must name a dealer of the catalogue.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.auth.tokens import Role, TokenError, TokenStore
from adapters.bootstrap import load_catalog
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from scripts.common import fail, run_async, settings_or_exit

LIST_FORMAT = "{:<16}  {:<7}  {:<14}  {:<7}  {:<10}  {}"


def register(sub: Any) -> None:
    """Add the ``token`` subcommand and its actions."""
    parser = sub.add_parser("token", help="create, list and revoke API tokens")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token and print its secret once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--dealer", help="dealer id (required for --role dealer)")
    create.add_argument("--label", help="who uses it; recorded as the agent on actions")
    create.add_argument("--expires-days", type=int, help="days until it expires (default never)")
    create.set_defaults(func=run)
    actions.add_parser("list", help="list tokens (never their secrets)").set_defaults(func=run)
    revoke = actions.add_parser("revoke", help="revoke a token now")
    revoke.add_argument("id", help="the token id shown by create and list")
    revoke.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out ``token create``, ``list`` or ``revoke``."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    if args.action == "create":
        problem = _check_create(args, settings.catalog_file)
        if problem:
            return fail(problem)

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            await migrate(engines)
            return await _act(TokenStore(engines), args)
        except TokenError as exc:
            return fail(str(exc))
        finally:
            await engines.dispose()

    return run_async(main, settings.database_url)


def _check_create(args: argparse.Namespace, catalog_file: Any) -> str | None:
    if args.expires_days is not None and args.expires_days < 1:
        return "--expires-days must be at least 1"
    if args.role == Role.DEALER.value:
        if not args.dealer:
            return "--role dealer needs --dealer ID"
        if load_catalog(catalog_file).dealer(args.dealer) is None:
            return f"no dealer {args.dealer!r} in the catalogue"
    elif args.dealer:
        return "--dealer is only for --role dealer"
    return None


async def _act(tokens: TokenStore, args: argparse.Namespace) -> int:
    if args.action == "create":
        days = args.expires_days
        record, secret = await tokens.create(
            Role(args.role),
            dealer_id=args.dealer,
            label=args.label,
            expires_in=timedelta(days=days) if days else None,
        )
        print(f"id:     {record.id}")
        print(
            f"role:   {record.role.value}" + (f" ({record.dealer_id})" if record.dealer_id else "")
        )
        print(f"token:  {secret}")
        print("The token is shown only now; store it safely.")
        return 0
    if args.action == "list":
        now = datetime.now(UTC)
        records = await tokens.list()
        if not records:
            print("no tokens (create one with `dloop-bot token create`)", file=sys.stderr)
            return 0
        print(LIST_FORMAT.format("ID", "ROLE", "DEALER", "STATE", "EXPIRES", "LABEL").rstrip())
        for r in records:
            expires = r.expires_at.date().isoformat() if r.expires_at else "never"
            dealer = r.dealer_id or "-"
            label = r.label or "-"
            state = r.state(now)
            print(LIST_FORMAT.format(r.id, r.role.value, dealer, state, expires, label))
        return 0
    record = await tokens.revoke(args.id)
    print(f"revoked {record.id} ({record.role.value}, {record.label or 'no label'})")
    return 0
