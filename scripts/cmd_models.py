"""``dloop-bot models``: the configured model chains, each model's availability and shutdown date.

Asks the server (``GET /v1/models``, or a one-token probe where there is no listing)
through a client built as the service builds its own (the same transport, timeout and
retries, :func:`adapters.bootstrap.openai_client`) and a request budget of
``LLM_REQUESTS_PER_MINUTE``; records nothing. Exit status: 0 when the first model of
``LLM_MODEL`` is usable, 1 when it is unknown or retired, 2 when the server could not be
asked. Offline (no ``OPENAI_API_KEY``) nothing is asked: the chains are printed as
"unchecked" and the status is 0 (the offline twin serves).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from adapters.assistant.budget import RequestBudget
from adapters.assistant.model_check import ModelCheck, ModelCheckError, check_models
from adapters.assistant.models import utc_today
from adapters.bootstrap_ports import openai_client
from adapters.settings import Settings
from core.models import RETIRED, UNKNOWN, ModelFacts, days_left, parse_chain, verdict
from scripts.common import run_async, settings_or_exit

BAD_FIRST = 1
NOT_ASKED = 2


def register(sub: Any) -> None:
    """Add ``models``."""
    parser = sub.add_parser("models", help="configured LLM models: availability, shutdown dates")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def chains(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The configured chains by setting name."""
    return {
        "LLM_MODEL": parse_chain(settings.llm_model),
        "LLM_VISION_MODEL": parse_chain(settings.llm_vision_model),
        "LLM_TRANSCRIPTION_MODEL": parse_chain(settings.llm_transcription_model),
    }


def run(args: argparse.Namespace) -> int:
    """Check and print the chains."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    configured = chains(settings)
    if not settings.openai_api_key:
        _print(configured, {}, utc_today(), args.json, note="offline: OPENAI_API_KEY is not set")
        return 0

    async def main() -> int:
        client = openai_client(settings)
        budget = RequestBudget(per_minute=settings.llm_requests_per_minute)
        try:
            models = [m for chain in configured.values() for m in chain]
            found: ModelCheck = await check_models(client, models, budget=budget)
        except ModelCheckError as exc:
            _print(configured, {}, utc_today(), args.json, note=f"check failed: {exc}")
            return NOT_ASKED
        finally:
            await client.close()
        today = utc_today()
        _print(configured, found.facts, today, args.json, note=f"checked by {found.method}")
        first = verdict(found.facts.get(configured["LLM_MODEL"][0]), today)
        return BAD_FIRST if first in (RETIRED, UNKNOWN) else 0

    return run_async(main)


def rows(
    configured: dict[str, tuple[str, ...]], facts: dict[str, ModelFacts], today: date
) -> list[dict[str, Any]]:
    """One row per (setting, position, model) with its verdict and date."""
    out: list[dict[str, Any]] = []
    for setting, chain in configured.items():
        for position, model in enumerate(chain, start=1):
            known = facts.get(model)
            shutdown = known.shutdown if known else None
            out.append(
                {
                    "setting": setting,
                    "position": position,
                    "model": model,
                    "verdict": verdict(known, today),
                    "shutdown_date": shutdown.isoformat() if shutdown else None,
                    "days_left": days_left(shutdown, today),
                    "note": known.note if known else None,
                }
            )
    return out


def _print(
    configured: dict[str, tuple[str, ...]],
    facts: dict[str, ModelFacts],
    today: date,
    as_json: bool,
    *,
    note: str,
) -> None:
    table = rows(configured, facts, today)
    if as_json:
        print(json.dumps({"day": today.isoformat(), "note": note, "models": table}, indent=2))
        return
    print(f"{'setting':<24} {'#':>2} {'model':<28} {'state':<14} shutdown")
    for r in table:
        when = r["shutdown_date"] or "no date"
        if r["days_left"] is not None:
            when += f" ({r['days_left']} days)"
        extra = f"  [{r['note']}]" if r["note"] else ""
        head = f"{r['setting']:<24} {r['position']:>2} {r['model']:<28}"
        print(f"{head} {r['verdict']:<14} {when}{extra}")
    print(f"({note}; {today.isoformat()} UTC)")
