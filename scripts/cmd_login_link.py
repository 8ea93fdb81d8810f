"""``dloop-bot login-link``: a one-time admin link into the local dashboard.

Creates an admin token that expires soon (15 minutes by default) and prints
``<base-url>/login?token=...``. Opening the link consumes the token and leaves a session
cookie in the browser; the link then no longer works. ``make run`` prints one.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapters.auth.tokens import Role, TokenStore
from adapters.settings import Settings
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from scripts.common import fail, run_async, settings_or_exit

MAX_MINUTES = 24 * 60


def register(sub: Any) -> None:
    """Add the ``login-link`` subcommand."""
    parser = sub.add_parser("login-link", help="print a one-time admin login link")
    parser.add_argument(
        "--base-url", help="where the dashboard is served (default http://HOST:PORT)"
    )
    parser.add_argument("--minutes", type=int, default=15, help="minutes the link stays valid")
    parser.add_argument("--label", default="admin", help="agent name recorded on actions")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Create the token and print the link."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    base = (args.base_url or default_base_url(settings)).rstrip("/")
    problem = _check(base, args.minutes)
    if problem:
        return fail(problem)

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            await migrate(engines)
            _, secret = await TokenStore(engines).create(
                Role.ADMIN, label=args.label, expires_in=timedelta(minutes=args.minutes)
            )
        finally:
            await engines.dispose()
        print(f"{base}/login?{urlencode({'token': secret})}")
        return 0

    return run_async(main, settings.database_url)


def default_base_url(settings: Settings) -> str:
    """``http://HOST:PORT`` of the served dashboard (a wildcard host becomes loopback)."""
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host  # noqa: S104 - compared, not bound
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _check(base: str, minutes: int) -> str | None:
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return f"--base-url must look like http://HOST:PORT, got {base!r}"
    if not 1 <= minutes <= MAX_MINUTES:
        return f"--minutes must be between 1 and {MAX_MINUTES}, got {minutes}"
    return None
