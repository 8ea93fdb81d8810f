"""``dloop-bot selftest --url URL``: check a running service's ingestion, type by type."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from dataclasses import asdict
from typing import Any

from adapters.selftest import run_selftest
from scripts.common import fail


def register(sub: Any) -> None:
    """Add the ``selftest`` subcommand."""
    parser = sub.add_parser("selftest", help="post signed sample deliveries to a running service")
    parser.add_argument(
        "--url", required=True, help="the service's webhook URL, e.g. http://127.0.0.1:8080/webhook"
    )
    parser.add_argument("--secret", help="app secret to sign with (default: WHATSAPP_APP_SECRET)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the samples; exit 1 when any case fails."""
    secret = args.secret or os.environ.get("WHATSAPP_APP_SECRET")
    if not secret:
        return fail("selftest needs --secret or WHATSAPP_APP_SECRET to sign the samples")
    url = (
        args.url if args.url.rstrip("/").endswith("/webhook") else args.url.rstrip("/") + "/webhook"
    )
    results = asyncio.run(run_selftest(url, secret))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        for r in results:
            mark = "ok  " if r.ok else "FAIL"
            state = f"http={r.status} facts={r.facts} duplicate={r.duplicate}"
            print(f"{mark} {r.name:<14} {state} {r.detail}")
        print(f"{sum(r.ok for r in results)} passed, {sum(not r.ok for r in results)} failed")
    return 0 if all(r.ok for r in results) else 1
